"""Working trees and plain files: walk paths, skip what should not be scanned, read in workers."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..model import Chunk
from . import Notes
from .text import is_binary, to_utf8

SKIP_DIRS = frozenset({".git", ".hg", ".svn"})


@dataclass(frozen=True)
class FileItem:
    """One file on disk, read when the worker gets to it."""

    path: str  # where to read it
    display: str  # how to report it
    size: int
    scan_binaries: bool = False

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            notes.skipped.append((self.display, f"unreadable: {exc.strerror or exc}"))
            return
        notes.files_scanned += 1
        notes.bytes_scanned += len(data)
        yield from file_chunks(data, self.display, notes, scan_binaries=self.scan_binaries)


@dataclass(frozen=True)
class StdinItem:
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        notes.files_scanned += 1
        notes.bytes_scanned += len(self.data)
        yield from file_chunks(self.data, "-", notes)


def file_chunks(data: bytes, display: str, notes: Notes, *, scan_binaries: bool = False) -> Iterator[Chunk]:
    if is_binary(data):
        if not scan_binaries:
            notes.skipped.append((display, "binary"))
            return
        from .binary import printable_strings  # only when asked for

        yield Chunk(data=printable_strings(data), path=display, kind="binary-strings")
        return
    yield Chunk(data=to_utf8(data), path=display)


def walk(
    paths: Sequence[str],
    notes: Notes,
    *,
    max_file_size: int | None,
    follow_symlinks: bool = False,
    scan_binaries: bool = False,
) -> Iterator[FileItem]:
    """Yield a FileItem for every regular file under the given paths, in a stable order."""
    for root in paths:
        try:
            st = os.stat(root) if follow_symlinks else os.lstat(root)
        except OSError as exc:
            notes.errors.append(f"{root}: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isdir(root)):
            yield from _walk_dir(root, notes, max_file_size, follow_symlinks, scan_binaries, set())
        elif stat.S_ISREG(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isfile(root)):
            item = _file_item(root, root, os.stat(root).st_size, notes, max_file_size, scan_binaries)
            if item is not None:
                yield item
        else:
            notes.skipped.append((root, "not a regular file"))


def _file_item(
    path: str, display: str, size: int, notes: Notes, max_file_size: int | None, scan_binaries: bool
) -> FileItem | None:
    if max_file_size is not None and size > max_file_size:
        notes.skipped.append((display, f"larger than --max-file-size ({size} bytes)"))
        return None
    return FileItem(path=path, display=display, size=size, scan_binaries=scan_binaries)


def _walk_dir(
    top: str,
    notes: Notes,
    max_file_size: int | None,
    follow_symlinks: bool,
    scan_binaries: bool,
    seen: set[tuple[int, int]],
) -> Iterator[FileItem]:
    try:
        st = os.stat(top)
        key = (st.st_dev, st.st_ino)
        if key in seen:
            notes.skipped.append((top, "symlink loop"))
            return
        seen.add(key)
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        notes.skipped.append((top, f"unreadable directory: {exc.strerror or exc}"))
        return
    for entry in entries:
        path = entry.path
        try:
            if entry.is_symlink() and not follow_symlinks:
                continue
            if entry.is_dir(follow_symlinks=follow_symlinks):
                if entry.name in SKIP_DIRS:
                    continue
                yield from _walk_dir(path, notes, max_file_size, follow_symlinks, scan_binaries, seen)
            elif entry.is_file(follow_symlinks=follow_symlinks):
                size = entry.stat(follow_symlinks=follow_symlinks).st_size
                item = _file_item(path, path, size, notes, max_file_size, scan_binaries)
                if item is not None:
                    yield item
        except OSError as exc:
            notes.skipped.append((path, f"unreadable: {exc.strerror or exc}"))
