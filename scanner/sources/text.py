"""Turning raw bytes into the UTF-8 text the engine scans: BOMs, UTF-16, invalid bytes, binaries."""
from __future__ import annotations

import codecs

SNIFF = 8192


def is_binary(data: bytes) -> bool:
    """A NUL byte in the first few KB marks a binary, unless the text is UTF-16."""
    head = data[:SNIFF]
    return b"\x00" in head and _utf16_encoding(head) is None


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
    """Return valid UTF-8: decode UTF-16 (with or without BOM), drop a UTF-8 BOM, replace bad bytes."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif b"\x00" in data[:SNIFF]:
        enc = _utf16_encoding(data[:SNIFF])
        if enc is not None:
            return data.decode(enc, "replace").encode("utf-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace").encode("utf-8")
    return data
