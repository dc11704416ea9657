"""Staged changes: only the lines the index adds compared with HEAD, numbered as in the staged file.

``git diff --cached -U0`` rather than pygit2: importing pygit2 alone costs ~57 ms of the 150 ms a
pre-commit hook may take (benchmarks/staged.py), while git's own diff runs in a few milliseconds.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Chunk
from . import Notes
from .git_common import GitRepo, run_git
from .text import to_utf8

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b", b"f": b"\f",
            b"r": b"\r", b"v": b"\v"}


@dataclass(frozen=True)
class AddedLines:
    """The lines one file gains in the index, with their line numbers in the staged version."""

    path: str
    data: bytes
    line_numbers: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        notes.files_scanned += 1
        notes.bytes_scanned += len(self.data)
        yield Chunk(data=to_utf8(self.data), path=self.path, line_numbers=self.line_numbers, kind="diff")


def staged_diff(repo: GitRepo) -> bytes:
    """The index against HEAD (against nothing on an unborn branch), zero lines of context."""
    return run_git(repo, ["-c", "core.quotePath=false", "diff", "--cached", "-U0", "--no-color", "--no-ext-diff",
                          "--no-textconv", "-M", "--diff-filter=ACMRT", "--src-prefix=a/", "--dst-prefix=b/"])


def added_lines(diff: bytes, notes: Notes) -> list[AddedLines]:
    """Parse a -U0 unified diff into the added lines of each file. Deleted lines are never kept."""
    out: list[AddedLines] = []
    path: str | None = None
    lines: list[bytes] = []
    numbers: list[int] = []
    next_no = 0

    def flush() -> None:
        if path is not None and lines:
            out.append(AddedLines(path, b"\n".join(lines) + b"\n", tuple(numbers)))

    for raw in diff.split(b"\n"):
        if raw.startswith(b"diff --git "):
            flush()
            path, lines, numbers = None, [], []
        elif raw.startswith(b"+++ "):
            path = _path(raw[4:])
        elif raw.startswith(b"@@"):
            m = _HUNK.match(raw)
            next_no = int(m.group(1)) if m else 0
        elif raw.startswith(b"+") and path is not None:
            lines.append(raw[1:])
            numbers.append(next_no)
            next_no += 1
        elif raw.startswith(b"Binary files "):
            notes.skipped.append((raw.decode("utf-8", "replace").split(" and ")[-1][2:-7], "binary"))
    flush()
    return out


def _path(spec: bytes) -> str | None:
    if spec == b"/dev/null":
        return None
    if spec.startswith(b'"') and spec.endswith(b'"'):  # git C-quotes unusual names even with quotePath off
        spec = _unquote(spec[1:-1])
    return spec[2:].decode("utf-8", "surrogateescape") if spec.startswith(b"b/") else spec.decode(
        "utf-8", "surrogateescape")


def _unquote(text: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i : i + 1]
        if c == b"\\" and i + 1 < len(text):
            nxt = text[i + 1 : i + 2]
            if nxt.isdigit():
                out.append(int(text[i + 1 : i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)
