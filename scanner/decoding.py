"""Secrets inside base64, hex and percent-encoded strings: decode candidates and scan what they hold.

A Kubernetes Secret's ``data:`` values are the canonical case. Each candidate is decoded and, when the
result is printable text, scanned in place: the encoded span in its line is replaced by the decoded
text, so a key name next to it (``password: <base64>``) still gives the generic rules their context.
Findings point at the encoded span in the original text and carry ``decoded`` (e.g. "base64", or
"base64>hex" when nested). The cost is bounded: only strings of plausible length and alphabet are
decoded, and the decoded bytes and candidates per chunk are capped.
"""
from __future__ import annotations

import binascii
import dataclasses
import functools
import re
from collections.abc import Callable, Generator, Iterator
from itertools import accumulate, compress, repeat
from typing import Any
from urllib.parse import unquote_to_bytes

from .model import Chunk, Finding
from .regexes import re2

MAX_CANDIDATES = 256  # per chunk and level
MAX_DECODED_BYTES = 256 * 1024  # per chunk and level
MAX_CANDIDATE_LENGTH = 64 * 1024
# may_hold_encoded remembers at most this many encoded strings (short ones only): about 10 MB at most.
MAX_REMEMBERED, REMEMBERED_LENGTH = 20_000, 512

def _compile(source: bytes) -> Any:
    return re.compile(source) if re2 is None else re2.compile(source)


# Base64 of at least 12 bytes (hex runs are base64 too: told apart in _decode) in value position:
# after ':', '=', '=>', ',' or '(' (assignments, YAML and JSON values, call arguments) or at the start
# of a line. Found with RE2 when it is installed. Percent-encoded runs start at a '%', so the search
# for them only runs where the text has one. Both keep the number of candidates, the cost, small.
# No capture group: RE2 then finds each match with its DFA alone, twice as fast (the run is what
# follows the leading punctuation, which the alphabet never starts with).
_BASE64 = _compile(rb"(?m)(?:[:=>,(]|^)[ \t]*[\"'`]?[A-Za-z0-9+/]{16,}={0,2}")
_BASE64_LEAD = b":=>,( \t\"'`"
_PERCENT = _compile(rb"(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+/:@=&-]{0,64}){3,}")
# Where a _PERCENT match may start: its first two escapes. RE2 runs this one ten times faster than
# _PERCENT (whose nested counted repetition overflows its DFA cache), and text with '%' in it (code,
# notebooks, docs) rarely has two escapes this close: only then does _PERCENT search, from there on.
_PERCENT_PAIR = _compile(rb"%[0-9A-Fa-f]{2}[A-Za-z0-9._~+/:@=&-]{0,64}%[0-9A-Fa-f]{2}")
_TAIL = re.compile(rb"[ \t]*([A-Za-z0-9+/]{1,15}={0,2})[ \t\r]*(?:\n|\Z)")  # a wrapped block's short last line
_HEX = re.compile(rb"[0-9a-fA-F]+")
_HEX_LINE = _compile(rb"[0-9a-fA-F]{48}")  # as long as the narrowest block line: in _screened_lines
_DIGIT = re.compile(rb"[0-9]")
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_CONTROL_ASCII = bytes(b for b in range(0x20) if b not in b"\t\n\r") + b"\x7f"
# Bytes that are never text: ASCII controls, and bytes UTF-8 never uses (each decodes to a U+FFFD of
# its own). _printable rejects text where these are more than 5%. Translated to 1, the rest to 0.
_BINARY_MARKS = bytes(int(b in _CONTROL_ASCII or b in (0xC0, 0xC1) or b >= 0xF5) for b in range(256))
# A line break inside a wrapped block: a plain one (base64, PEM, HTML data URIs) or, in JSON (notebook
# outputs), the end of one string of a list and the start of the next ("...\n",<newline>  "...).
_LINE_BREAK = rb"(?:\\n)?(?:\"[ \t]*,)?[ \t]*\r?\n[ \t]*[\"'`]?"
_BLOCK_WIDTHS = range(48, 1001, 4)  # line widths (whole base64 quanta) screened as a block; RE2 counts to 1000

Scanner = Callable[[Chunk], list[Finding]]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """An encoded span [start, end) of a chunk and the text it decodes to."""

    start: int
    end: int
    encoding: str
    text: bytes = dataclasses.field(repr=False)  # the decoded text holds the secret


def candidates(data: bytes) -> Iterator[Candidate]:
    """Encoded spans of ``data`` that decode to printable text, within the per-chunk budget."""
    budget = MAX_DECODED_BYTES
    seen = 0
    for start, end in _candidate_spans(data):
        raw = data[start:end]
        if len(raw) > MAX_CANDIDATE_LENGTH:
            continue
        decoded = _decode(raw)
        if decoded is None:
            continue
        encoding, text = decoded
        seen += 1
        budget -= len(text)
        if seen > MAX_CANDIDATES or budget < 0:
            return
        yield Candidate(start, end, encoding, text)


def may_hold_encoded(data: bytes, rejected: set[bytes] | None = None) -> bool:
    """Whether some encoded span of ``data`` decodes to text (so ``candidates`` of its lines may yield one).

    ``rejected`` remembers spans that did not, across calls: a file's versions share most of them.
    """
    for raw in _encoded_runs(data):
        if len(raw) > MAX_CANDIDATE_LENGTH:
            continue
        if rejected is not None and raw in rejected:
            continue
        if _decode(raw) is not None:
            return True
        if rejected is not None and len(raw) <= REMEMBERED_LENGTH and len(rejected) < MAX_REMEMBERED:
            rejected.add(raw)
    return False


def _encoded_runs(data: bytes) -> Iterator[bytes]:
    """The encoded runs, one per line (what may_hold_encoded tests: a wrapped block of text has a first
    line that decodes to text by itself), less the lines of wrapped blocks that _screened_lines shows
    cannot decode to text."""
    yield from _screened_base64_runs(data)
    for start, end in _percent_runs(data):
        yield data[start:end]


def _screened_base64_runs(data: bytes) -> Iterator[bytes]:
    """The base64 runs (one per line), except in the later lines of wrapped blocks: only those that may decode
    to text, found without a search or a decode per line.

    Wrapped blocks of binary (images, fonts, videos in notebook outputs and HTML pages) are most of the
    runs in notebooks: on ipython's history, 150k lines, where each cost a regex match and a decode in
    Python. The block's first line is yielded first, so a block of text returns at its first line.
    """
    pos = 0
    while True:
        for m in _BASE64.finditer(data, pos):
            start, end = m.span()
            run = data[start:end].lstrip(_BASE64_LEAD)  # sliced: RE2's group() costs twice as much
            yield run
            width = len(run)
            if _may_wrap(data, end, width) and (stop := _stretch(data, end, width)) > end:
                for line_start, line_end in _screened_lines(data, end, stop, width):
                    yield data[line_start:line_end]
                pos = stop
                break
        else:
            return


def _may_wrap(data: bytes, end: int, width: int) -> bool:
    """Whether the run of ``width`` ending at ``end`` may be the first line of a stretch (_stretch): whole
    quanta, unpadded, and a next line as wide."""
    return width in _BLOCK_WIDTHS and data[end - 1] != 0x3D and _next_line_fits(data, end, width)


def _next_line_fits(data: bytes, end: int, width: int) -> bool:
    """Whether the line after ``end`` starts with ``width`` base64 characters: a cheap test first (a
    regex call costs more), which most runs of a line of their own (YAML values, say) fail."""
    nl = data.find(b"\n", end, end + 16)
    if nl < 0:
        return False
    head = data[nl + 1 : nl + width + 64].lstrip(b" \t\"'`")[:width]
    return len(head) == width and head.translate(None, b"+/").isalnum()


def _stretch(data: bytes, end: int, width: int) -> int:
    """The end of the lines of a wrapped block of ``width`` that follow the line ending at ``end`` (``end``
    when there are none): each exactly ``width`` base64 characters after a line break (_LINE_BREAK). A
    longer or padded last line is not one of them: the search finds it."""
    pattern = _block_pattern(width)
    m = pattern.match(data, end)
    if m is None:
        return end
    stop: int = m.end()
    if stop < len(data) and data[stop] in _RUN_ON:  # the last line runs on: end at the line before it
        m = pattern.match(data, end, data.rfind(b"\n", 0, stop - width))
        stop = end if m is None else m.end()
    return stop


def _screened_lines(data: bytes, end: int, stop: int, width: int) -> list[tuple[int, int]]:
    """The lines of the stretch [end, stop) (see _stretch) that may decode to text, as spans.

    A line of whole quanta decodes alone to what the stretch decodes to at its place, so the stretch is
    decoded in one call and its lines' parts judged together in C: a part in which more than 5% of the
    bytes are never text (_BINARY_MARKS) is one that _printable rejects, whatever else it holds. Lines
    of hex digits (which _decode reads as hex) are kept. Only the kept lines are located.
    """
    part = data[end:stop]
    # The decoder skips the line breaks' quotes, commas and white space; not the "n" of a "\n".
    decoded = binascii.a2b_base64(part.replace(b"\\n", b""))
    size = width // 4 * 3
    lines = part.count(b"\n")  # one per line break, each before a line
    if len(decoded) != lines * size:  # not what _block_pattern matched (never seen): every line
        kept = [True] * lines
    else:
        starts = range(0, len(decoded), size)
        marks = decoded.translate(_BINARY_MARKS)
        kept = list(map((size // 20).__ge__, map(marks.count, repeat(1), starts, range(size, len(decoded) + 1, size))))
    hex_lines = []
    if _HEX_LINE.search(part) is not None:  # a line may be all hex digits (runs of "A", zero bytes, are)
        # Lines are the stretch's only runs of ``width`` base64 letters: such a run of hex digits is one.
        hex_lines = [m.span() for m in _hex_line_pattern(width).finditer(data, end, stop)]
    if not any(kept):
        return hex_lines
    pieces = part.split(b"\n")  # line i starts piece i + 1, after indentation and a quote
    piece_ends = list(accumulate(map(len, pieces)))
    spans = []
    for i in compress(range(lines), kept):
        piece = pieces[i + 1]
        start = end + piece_ends[i] + i + 1 + len(piece) - len(piece.lstrip(b" \t\"'`"))
        spans.append((start, start + width))
    return sorted({*spans, *hex_lines}) if hex_lines else spans


@functools.lru_cache(maxsize=None)
def _hex_line_pattern(width: int) -> Any:
    return _compile(b"[0-9a-fA-F]{%d}" % width)


_RUN_ON = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


@functools.lru_cache(maxsize=None)
def _block_pattern(width: int) -> Any:
    """The lines after a wrapped block's first one, each ``width`` base64 characters on its own line."""
    return _compile(b"(?:" + _LINE_BREAK + b"[A-Za-z0-9+/]{%d})+" % width)


def _candidate_spans(data: bytes) -> Iterator[tuple[int, int]]:
    """Encoded runs, with a wrapped base64 block as one span (see _base64_spans)."""
    yield from _base64_spans(data)
    yield from _percent_runs(data)


def _percent_runs(data: bytes) -> Iterator[tuple[int, int]]:
    first = _PERCENT_PAIR.search(data) if b"%" in data else None
    if first is not None:
        for m in _PERCENT.finditer(data, first.start()):
            start = m.start()
            while start > 0 and data[start - 1 : start] not in b" \t\r\n\"'<>=`(,;":
                start -= 1  # the whole token: the percent-encoded text may start before its first escape
            yield start, m.end()


@dataclasses.dataclass(slots=True)
class _Block:
    """A wrapped base64 block being read (mutable: it grows a line at a time)."""

    start: int  # where its first line starts
    end: int  # where its last line ends
    width: int  # its lines' width; 0 once a shorter or padded line ended it
    indent: int  # the indentation of its later lines (-1: none yet)
    lines: list[tuple[int, int, int]]  # runs (start, end, 0) and stretches read at once (start, stop, width)


def _base64_spans(data: bytes, screen: bool = True) -> Iterator[tuple[int, int]]:
    """The base64 runs, with the lines of a wrapped block (``base64`` wraps at 76 characters, PEM and
    ``openssl base64`` at 64) joined into one span when its first line decodes to text: decoded a line
    at a time, a PEM key's BEGIN and END never meet.

    With ``screen``, a stretch of wrapped lines whose runs would be spans of their own (each line of a
    block of binary: images in notebooks' JSON string lists and in HTML data URIs) is read at once, as
    the run-by-run reading would read it (_read_stretch), and yields only its lines that may decode to
    text (_screened_lines), without a search or a decode per line: on ipython's history, candidates()
    gets 3k spans instead of 33k. ``screen=False`` reads every run (what the tests compare with).
    """
    block: _Block | None = None
    pos = unscreened = 0  # runs that end before ``unscreened`` are read one at a time
    while True:
        for m in _BASE64.finditer(data, pos):
            start, end = m.span()
            start = end - len(data[start:end].lstrip(_BASE64_LEAD))  # sliced: RE2's group() costs twice as much
            width = end - start
            if block is not None and _continues(data, block, start, end):
                block.indent = start - data.rfind(b"\n", 0, start) - 1
                if width < block.width or data[end - 1] == 0x3D:  # shorter or padded: the last line
                    block.width = 0
                block.end = end
                block.lines.append((start, end, 0))
            else:
                if block is not None:
                    yield from _block_spans(data, block)
                if width >= 48 and width % 4 == 0 and data[end - 1] != 0x3D and _rest_blank(data, end):
                    block = _Block(start, end, width, -1, [(start, end, 0)])  # fills its line as wrapped output does
                else:
                    block = None
                    yield start, end
            if screen and end >= unscreened and _may_wrap(data, end, width):
                stop = _stretch(data, end, width)
                if stop > end:
                    block, pos = yield from _read_stretch(data, block, end, stop, width)
                    if pos > end:
                        break
                    unscreened = stop  # and not matched again from each of its lines: that would be quadratic
        else:
            if block is not None:
                yield from _block_spans(data, block)
            return


def _read_stretch(data: bytes, block: _Block | None, end: int, stop: int,
                  width: int) -> Generator[tuple[int, int], None, tuple[_Block | None, int]]:
    """Read the stretch [end, stop) of lines after the run that ends at ``end`` as _base64_spans would read
    its runs one at a time, where that is simple to tell: every line ends with more than white space (a
    JSON string list: each run is a span of its own), or every line break is the same white space (each
    line continues the block of the run before it, up to MAX_CANDIDATE_LENGTH). Yields the spans of the
    blocks that end in it; returns the block being read after it and where the search goes on
    (``end``, with nothing read: the runs must be read one at a time).
    """
    part = data[end:stop]
    lines = part.count(b"\n")  # one per line break
    if block is None:  # the run ends its line with more than white space; so must every line after it
        # A line break with more than white space before its newline holds a "\n" or a "," (or both).
        if part.count(b"\\") + part.count(b",") - part.count(b'\\n"') == lines and not _rest_blank(data, stop):
            yield from _screened_lines(data, end, stop, width)
            return None, stop
        return block, end
    if block.width != width or part.translate(None, _PLAIN_STRETCH):  # quotes, commas, "\n": not plain
        return block, end
    # The same line break everywhere: each of the ``lines`` breaks holds the first one and they add up.
    first = len(part) - len(part.lstrip())
    stride = first + width
    indent = first - part.index(b"\n") - 1
    if len(part) != lines * stride or part.count(part[:first]) != lines or block.indent not in (-1, indent):
        return block, end
    if not _rest_blank(data, stop):  # the last line is a span of its own: the search finds it
        lines -= 1
    pos = end
    while lines:
        fits = min(lines, max(0, (block.start + MAX_CANDIDATE_LENGTH - pos) // stride))
        if fits:
            block.lines.append((pos, pos + fits * stride, width))
            pos += fits * stride
            block.end, block.indent = pos, indent
            lines -= fits
        if lines:  # the next line would make the block too long: it starts a block of its own
            yield from _block_spans(data, block)
            block = _Block(pos + first, pos + stride, width, -1, [(pos + first, pos + stride, 0)])
            pos += stride
            lines -= 1
    return block, pos


_PLAIN_STRETCH = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ \t\r\n"  # lines, plain breaks


def _block_spans(data: bytes, block: _Block) -> Iterator[tuple[int, int]]:
    """One span for a wrapped block whose first line decodes to text; its lines apart otherwise (an
    encoded image: there is no text to find; a stretch of them yields only its lines that may be text)."""
    end = _tail(data, block)
    first_start, first_end, _ = block.lines[0]
    if len(block.lines) == 1 and end == first_end:
        yield first_start, first_end
    elif _decode(data[first_start:first_end]) is not None:
        yield block.start, end
    else:
        for start, stop, width in block.lines:
            if width:
                yield from _screened_lines(data, start, stop, width)
            else:
                yield start, stop


def _continues(data: bytes, block: _Block, start: int, end: int) -> bool:
    """Whether the run [start, end) is the next line of a wrapped block: alone on the line right after
    the block's last one, indented like the block's other later lines, as wide as the block's lines
    (the last may be shorter)."""
    line = data.find(b"\n", block.end) + 1
    return (0 < line and 0 < end - start <= block.width and end - block.start <= MAX_CANDIDATE_LENGTH
            and data[line:start].strip(b" \t") == b""
            and block.indent in (-1, start - line) and _rest_blank(data, end))


def _tail(data: bytes, block: _Block) -> int:
    """The end of a wrapped block, with its last line when that is too short for _BASE64 to find."""
    line = data.find(b"\n", block.end) + 1
    m = _TAIL.match(data, line) if block.width and line else None
    if m is None or (block.indent >= 0 and m.start(1) - line != block.indent):
        return block.end
    return m.end(1)


def _rest_blank(data: bytes, end: int) -> bool:
    """Whether nothing but a line break (or the end of the data) follows ``end`` on its line."""
    nl = data.find(b"\n", end)
    return not data[end : len(data) if nl < 0 else nl].strip()


def _decode(raw: bytes) -> tuple[str, bytes] | None:
    if b"\n" in raw:  # a wrapped block (see _spans): the line breaks and indentation are not base64
        raw = b"".join(raw.split())
    if b"%" in raw:
        if b"://" in raw:
            return None  # an already readable URI: the URI rules read its escapes themselves
        return _printable("percent", unquote_to_bytes(raw))
    if len(raw) >= 32 and len(raw) % 2 == 0 and _HEX.fullmatch(raw):
        try:
            return _printable("hex", binascii.unhexlify(raw))
        except binascii.Error:
            return None
    # Base64 of text mixes upper case, lower case and digits; identifiers, words and paths rarely do.
    if raw.isalpha() or raw.islower() or raw.isupper() or not _DIGIT.search(raw):
        return None
    body = raw.rstrip(b"=")
    if len(body) % 4 == 1:
        body = body[:-1]  # cut short (an excerpt, a wrapped line): decode what is there
    try:  # the span holds only base64 letters (the regex saw to it): no validating pass needed
        text = binascii.a2b_base64(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    return _printable("base64", text)


def _printable(encoding: str, text: bytes) -> tuple[str, bytes] | None:
    """Accept only decoded bytes that are UTF-8 text: binary (hashes, images, keys) is no use here.
    A few bad bytes are tolerated (a PEM key with one corrupted character is still a key); they count
    against the printable share like any control character.

    The rule: at least 95% of the decoded characters are printable (U+FFFD is not) or CR, LF, TAB.
    Counted in C where that is exact: a history scan of ipython tests 72k decoded strings, nearly all
    binary (images, hashes), in 0.03 s; counted a character at a time they took 0.53 s.
    """
    if len(text) < 6:
        return None
    if text.isascii():  # one character per byte
        printable = len(text) - len(text.translate(None, _PRINTABLE_ASCII))
        return None if printable < len(text) * 0.95 else (encoding, text)
    # An ASCII control byte decodes to one non-printable character, even next to invalid bytes, and
    # the text has at most one character per byte: more than 5% of the bytes rejects it.
    control = len(text) - len(text.translate(None, _CONTROL_ASCII))
    if control * 20 > len(text):
        return None
    decoded = text.decode("utf-8", "replace")
    if (control + decoded.count("\ufffd")) * 20 > len(decoded):
        return None
    printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\r\n\t" for ch in decoded)
    if printable < len(decoded) * 0.95:
        return None
    return encoding, text


# Source files are scanned as text only: decoding every base64-looking literal in code doubled the
# engine's CPU time on the standard library (benchmarks/precision.py) for almost nothing found.
# Encoded secrets live in configuration and data files (YAML, JSON, .env, manifests, logs, ...).
_SOURCE_FILE = re.compile(
    r"(?i)\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|go|java|kt|kts|scala|rb|php|cs|c|h|cc|cpp|hpp|rs|swift|m|mm"
    r"|lua|pl|pm|groovy|dart|r|jl|css|scss|less|svg|map)$"
)


def worth_decoding(path: str) -> bool:
    return _SOURCE_FILE.search(path) is None


def scan_decoded(chunk: Chunk, scan: Scanner, depth: int, direct: list[Finding]) -> list[Finding]:
    """Findings inside the encoded strings of ``chunk``, down to ``depth`` levels of nesting.

    ``scan`` scans a chunk without decoding; ``direct`` are the findings already made on the chunk
    itself. A decoded finding replaces a direct one that starts where the encoded span starts.
    """
    found: list[Finding] = []
    data = chunk.data
    lo, hi = chunk.owned or (0, len(data))  # a chunk of a large file reports only its own part
    for cand in candidates(data):
        if not lo <= cand.start < hi:
            continue
        line_start = data.rfind(b"\n", 0, cand.start) + 1
        line_end = data.find(b"\n", cand.end)
        line_end = len(data) if line_end < 0 else line_end
        if b"\n" in cand.text:
            text, offset = cand.text, 0
        else:  # keep the line around it, quoted: the key name is the generic rules' context
            prefix = data[line_start : cand.start] + b'"'
            text, offset = prefix + cand.text + b'"' + data[cand.end : line_end], len(prefix)
        inner = Chunk(data=text, path=chunk.path, commit=chunk.commit, kind=chunk.kind)
        hits = [f for f in scan(inner) if _within(f, text, offset, len(cand.text))]
        if depth > 1:
            hits += scan_decoded(inner, scan, depth - 1, hits)
        found.extend(_relocate(f, chunk, cand, line_start) for f in hits)
    if found:  # the decoded finding says more than a match on the encoded text at the same place
        spans = {(f.line, f.column) for f in found}
        direct[:] = [f for f in direct if (f.line, f.column) not in spans]
    return found


def _within(f: Finding, text: bytes, offset: int, length: int) -> bool:
    """Whether a finding on a one-line decoded text lies inside the decoded part (not its context)."""
    if offset == 0 and length == len(text):
        return True
    start = len(text[:offset].decode("utf-8", "replace"))
    end = start + len(text[offset : offset + length].decode("utf-8", "replace"))
    return f.line == 1 and f.column - 1 < end and f.end_column - 1 > start


def _relocate(f: Finding, chunk: Chunk, cand: Candidate, line_start: int) -> Finding:
    """Point a finding made on decoded text at the encoded span of the original chunk."""
    data = chunk.data
    line_index = data.count(b"\n", 0, cand.start)
    column = len(data[line_start : cand.start].decode("utf-8", "replace")) + 1
    if line_index == 0:
        column += chunk.column_offset
    encoded = data[cand.start : cand.end]
    end_index = line_index + encoded.count(b"\n")  # a wrapped block ends lines below its start
    if end_index == line_index:
        end_column = column + len(encoded.decode("utf-8", "replace"))
    else:
        end_column = len(encoded[encoded.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    line, end_line = (_line_number(chunk, i) for i in (line_index, end_index))
    chain = cand.encoding + (">" + f.decoded if f.decoded else "")
    return dataclasses.replace(f, line=line, column=column, end_line=end_line, end_column=end_column, decoded=chain)


def _line_number(chunk: Chunk, index: int) -> int:
    if chunk.line_numbers is not None and index < len(chunk.line_numbers):
        return chunk.line_numbers[index]
    return index + 1 + chunk.line_offset
