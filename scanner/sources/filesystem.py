"""Working trees and plain files: walk paths, skip what should not be scanned, read in workers."""
from __future__ import annotations

import errno
import io
import itertools
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from ..model import Chunk
from . import Notes, archives, chunking
from .text import is_binary, utf8_blocks

SKIP_DIRS = frozenset({".git", ".hg", ".svn"})


@dataclass(frozen=True)
class FileItem:
    """One file on disk, read piece by piece when the worker gets to it (memory stays bounded)."""

    path: str  # where to read it
    display: str  # how to report it
    size: int
    scan_binaries: bool = False
    archive_options: archives.ArchiveOptions = archives.ArchiveOptions()  # how deep to open archives, limits

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        try:
            # O_NONBLOCK: a file swapped for a FIFO after the walk must not block the worker forever.
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            notes.errors.append(f"{self.display}: unreadable: {_reason(exc)}")
            return
        with os.fdopen(fd, "rb", buffering=0) as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                notes.skipped.append((self.display, "not a regular file"))
                return
            size = chunking.chunk_size()
            # Read at most what the file held when opened: a file that keeps growing ends too.
            pieces = _pieces(fh, st.st_size, size, self.display, notes)
            if self.archive_options.max_depth:
                head = next(pieces, b"")
                kind = archives.sniff(head)
                if kind is not None:  # whatever its name: a .dat that is a zip is opened too
                    fh.seek(0)
                    with io.BufferedReader(fh) as buffered:
                        yield from archives.archive_chunks(buffered, self.display, kind, notes, self.archive_options)
                    return
                pieces = itertools.chain((head,), pieces)
            yield from stream_chunks(pieces, self.display, notes, scan_binaries=self.scan_binaries, size=size)


@dataclass(frozen=True)
class StdinItem:
    data: bytes = field(repr=False)
    archive_options: archives.ArchiveOptions = archives.ArchiveOptions()

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        yield from archives.data_chunks(self.data, "-", notes, self.archive_options) or file_chunks(self.data, "-", notes)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _pieces(fh: BinaryIO, limit: int, size: int, display: str, notes: Notes) -> Iterator[bytes]:
    left = limit
    while left > 0:
        try:
            piece = fh.read(min(size, left))
        except OSError as exc:
            notes.errors.append(f"{display}: read error after {limit - left} bytes, partially scanned: {_reason(exc)}")
            return
        if not piece:
            return
        left -= len(piece)
        yield piece


def file_chunks(data: bytes, display: str, notes: Notes, *, scan_binaries: bool = False) -> Iterator[Chunk]:
    """Chunks of an in-memory file (standard input, a git blob)."""
    size = chunking.chunk_size()
    pieces = (data[i : i + size] for i in range(0, len(data), size))
    yield from stream_chunks(pieces, display, notes, scan_binaries=scan_binaries, size=size)


def stream_chunks(
    pieces: Iterator[bytes], display: str, notes: Notes, *, scan_binaries: bool = False, size: int | None = None
) -> Iterator[Chunk]:
    """Decode and chunk a file given as consecutive raw pieces; binaries are skipped or stringified."""
    head = next(pieces, b"")
    counted = _Counted(itertools.chain((head,), pieces))
    notes.files_scanned += 1
    try:
        if is_binary(head):
            if not scan_binaries:
                notes.skipped.append((display, "binary"))
                return
            from .binary import printable_blocks  # only when asked for

            yield from chunking.split(printable_blocks(counted), display, size=size, kind="binary-strings")
            return
        yield from chunking.split(utf8_blocks(head, counted), display, size=size)
    finally:
        notes.bytes_scanned += counted.total


class _Counted:
    """Counts the raw bytes that went through, for the summary line."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self.total = 0

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            self.total += len(piece)
            yield piece


def walk(
    paths: Sequence[str],
    notes: Notes,
    *,
    max_file_size: int | None,
    follow_symlinks: bool = False,
    scan_binaries: bool = False,
    archive_depth: int = archives.DEFAULT_DEPTH,
) -> Iterator[FileItem]:
    """Yield a FileItem for every regular file under the given paths, in a stable order.

    What cannot be read is noted in ``notes.errors`` and skipped; the walk goes on. Archives are opened
    ``archive_depth`` levels deep (0: not at all); their members follow the same size and binary options.
    """
    opened = archives.ArchiveOptions(archive_depth, scan_binaries, max_file_size)
    for root in paths:
        try:
            st = os.stat(root) if follow_symlinks else os.lstat(root)
        except OSError as exc:
            notes.errors.append(f"{root}: {_reason(exc)}")
            continue
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isdir(root)):
            yield from _walk_dir(root, notes, max_file_size, follow_symlinks, opened)
        elif stat.S_ISREG(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isfile(root)):
            item = _file_item(root, root, os.stat(root).st_size, notes, max_file_size, opened)
            if item is not None:
                yield item
        elif stat.S_ISLNK(st.st_mode):
            notes.skipped.append((root, "dangling symlink"))
        else:
            notes.skipped.append((root, "not a regular file"))


def _file_item(
    path: str, display: str, size: int, notes: Notes, max_file_size: int | None, opened: archives.ArchiveOptions
) -> FileItem | None:
    if max_file_size is not None and size > max_file_size:
        notes.skipped.append((display, f"larger than --max-file-size ({size} bytes)"))
        return None
    return FileItem(path=path, display=display, size=size, scan_binaries=opened.scan_binaries, archive_options=opened)


def _walk_dir(
    root: str, notes: Notes, max_file_size: int | None, follow_symlinks: bool, opened: archives.ArchiveOptions
) -> Iterator[FileItem]:
    # An explicit stack, not recursion: a hostile tree may nest thousands of directories deep.
    seen: set[tuple[int, int]] = set()  # directories entered, so a followed symlink loop ends
    stack = [root]
    while stack:
        top = stack.pop()
        try:
            st = os.stat(top)
            key = (st.st_dev, st.st_ino)
            if key in seen:
                notes.skipped.append((top, "symlink loop or directory already scanned"))
                continue
            seen.add(key)
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            notes.errors.append(f"{top}: unreadable directory: {_reason(exc)}")
            continue
        subdirs: list[str] = []
        for entry in entries:
            path = entry.path
            try:
                if entry.is_symlink() and not follow_symlinks:
                    notes.skipped.append((path, "symlink (not followed without --follow-symlinks)"))
                    continue
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    if entry.name not in SKIP_DIRS:
                        subdirs.append(path)
                elif entry.is_file(follow_symlinks=follow_symlinks):
                    size = entry.stat(follow_symlinks=follow_symlinks).st_size
                    item = _file_item(path, path, size, notes, max_file_size, opened)
                    if item is not None:
                        yield item
                elif entry.is_symlink() and not os.path.exists(path):
                    notes.skipped.append((path, "dangling symlink"))
                else:
                    notes.skipped.append((path, "not a regular file"))
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    notes.skipped.append((path, "symlink loop"))
                else:
                    notes.errors.append(f"{path}: unreadable: {_reason(exc)}")
        stack.extend(reversed(subdirs))
