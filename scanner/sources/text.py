"""Turning raw bytes into the UTF-8 text the engine scans: BOMs, UTF-16, invalid bytes, binaries, CRs."""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

SNIFF = 8192
# A lone CR (classic Mac OS line ending) is a line break too. Mapping it to LF byte for byte keeps
# every offset, so line numbers count it and no rule matches across it (RE2 never_nl).
_LONE_CR = re.compile(rb"\r(?!\n)")


_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\b\x1b") + b"\x7f"


def is_binary(data: bytes) -> bool:
    """A NUL among control bytes (over 1% of the first 8 KB) marks a binary, unless it is UTF-16.

    A stray NUL alone does not: planting one at the top of a text file must not hide its secrets.
    """
    head = data[:SNIFF]
    if b"\x00" not in head or _utf16_encoding(head) is not None:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    return control >= 2 and control * 100 > len(head)


def _utf16_encoding(head: bytes) -> str | None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Without a BOM: ASCII-range text in UTF-16 has a NUL in every other byte.
    sample = head[:512]
    if len(sample) >= 16:
        sample = sample[: len(sample) // 2 * 2]
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) >= len(odd) * 0.9 and even.count(0) <= len(even) * 0.1:
            return "utf-16-le"
        if even.count(0) >= len(even) * 0.9 and odd.count(0) <= len(odd) * 0.1:
            return "utf-16-be"
    return None


def to_utf8(data: bytes) -> bytes:
    """Return valid UTF-8: decode UTF-16 (with or without BOM), drop a UTF-8 BOM, replace bad bytes.

    Line breaks are left alone: diff chunks map line indexes to git's line numbers, which count LF only.
    """
    return b"".join(_decoded(data[:SNIFF], [data]))


def utf8_blocks(head: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Decode a file given as consecutive raw pieces into valid UTF-8 blocks, without holding it whole.

    ``head`` is the file's first bytes (at least the first piece's), used to pick the encoding.
    Lone CRs come out as LF; a CR at the end of a block waits for the next one to know which it is.
    """
    carry = b""
    for block in _decoded(head, pieces):
        block = carry + block
        carry = b""
        if block.endswith(b"\r"):
            block, carry = block[:-1], b"\r"
        if b"\r" in block:
            block = _LONE_CR.sub(b"\n", block)
        if block:
            yield block
    if carry:
        yield b"\n"


def _decoded(head: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    enc = _utf16_encoding(head[:SNIFF]) if b"\x00" in head[:SNIFF] else None
    if enc is not None:
        decoder = codecs.getincrementaldecoder(enc)("replace")
        for piece in pieces:
            yield decoder.decode(piece).encode("utf-8", "replace")
        yield decoder.decode(b"", final=True).encode("utf-8", "replace")
        return
    first = True
    pending = b""
    for piece in pieces:
        if first and piece.startswith(codecs.BOM_UTF8):
            piece = piece[len(codecs.BOM_UTF8) :]
        first = False
        data = pending + piece if pending else piece
        cut = _complete_prefix(data)
        block, pending = data[:cut], data[cut:]
        yield _valid_utf8(block)
    if pending:
        yield _valid_utf8(pending)


def _complete_prefix(data: bytes) -> int:
    """Length of ``data`` without a trailing, possibly incomplete, multi-byte UTF-8 sequence."""
    n = len(data)
    for back in range(1, min(4, n) + 1):
        byte = data[n - back]
        if byte < 0x80:
            return n
        if byte >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return n - back if need > back else n
    return n


def _valid_utf8(block: bytes) -> bytes:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("utf-8", "replace").encode("utf-8")
    return block
