"""Cutting a stream of UTF-8 text into overlapping chunks, so memory stays bounded on any file size.

Each chunk holds ``chunk_size`` bytes plus ``overlap`` bytes of the next one, and the next chunk
starts ``overlap`` bytes before this one ends (at a line start when one is near, else at a
character boundary). A chunk reports only matches that *start* in its owned range: the first half
of the overlap belongs to the earlier chunk, the second half to the later one. So a match up to
``overlap // 2`` bytes long that straddles a boundary is found whole, exactly once, with the line
and column it has in the file.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from ..model import Chunk

CHUNK_SIZE = 8 << 20
OVERLAP = 64 << 10  # a PEM private key is < 4 KB; generic tokens are far shorter
MIN_CHUNK_SIZE = 1 << 10


def chunk_size() -> int:
    """Bytes per chunk: ``LEAKSCAN_CHUNK_SIZE`` (bytes) when set, for tests and tuning; else 8 MB."""
    raw = os.environ.get("LEAKSCAN_CHUNK_SIZE", "")
    return max(MIN_CHUNK_SIZE, int(raw)) if raw.isdigit() else CHUNK_SIZE


def overlap_for(size: int) -> int:
    return min(OVERLAP, size // 2)


def split(
    blocks: Iterable[bytes], path: str, *, size: int | None = None, kind: str = "file"
) -> Iterator[Chunk]:
    """Chunks of the text in ``blocks`` (valid UTF-8, cut anywhere between characters)."""
    size = size or chunk_size()
    overlap = overlap_for(size)
    span = size + overlap
    buf = b""
    line_offset = 0
    column_offset = 0
    owned_from = 0
    for block in blocks:
        buf = buf + block if buf else block
        while len(buf) >= span + overlap:  # enough for this chunk and the next one's lead-in
            end = _char_boundary(buf, span)
            start = _next_start(buf, end, overlap, owned_from)
            owned_to = end - overlap // 2
            yield Chunk(
                data=buf[:end], path=path, line_offset=line_offset, column_offset=column_offset,
                owned=(owned_from, owned_to), kind=kind,
            )
            line_offset += buf.count(b"\n", 0, start)
            last_nl = buf.rfind(b"\n", 0, start)
            if last_nl >= 0:
                column_offset = len(buf[last_nl + 1 : start].decode("utf-8"))
            else:
                column_offset += len(buf[:start].decode("utf-8"))
            owned_from = owned_to - start
            buf = buf[start:]
    if buf:
        whole = line_offset == 0 and column_offset == 0 and owned_from == 0
        yield Chunk(
            data=buf, path=path, line_offset=line_offset, column_offset=column_offset,
            owned=None if whole else (owned_from, len(buf)), kind=kind,
        )


def _char_boundary(buf: bytes, pos: int) -> int:
    """The nearest UTF-8 character boundary at or before ``pos``."""
    while pos > 0 and 0x80 <= buf[pos] < 0xC0:
        pos -= 1
    return pos


def _next_start(buf: bytes, end: int, overlap: int, owned_from: int) -> int:
    """Where the next chunk starts: a line start in the overlap's lead-in, else mid-line."""
    limit = end - overlap
    nl = buf.rfind(b"\n", max(owned_from, limit - overlap), limit)
    if nl >= 0:
        return nl + 1
    return _char_boundary(buf, limit)
