"""Staged changes: only the lines the index adds compared with HEAD, numbered as in the staged file.

``git diff --cached -U1`` rather than pygit2: importing pygit2 alone costs ~57 ms of the 150 ms a
pre-commit hook may take (benchmarks/staged.py), while git's own diff runs in a few milliseconds.
One line of context, as history keeps: a next-line allow marker already in HEAD above a newly
staged line must be seen, as ``scan`` sees it. Findings only on context lines are dropped
(``on_added_lines``): they were in HEAD already.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..model import Chunk, Finding
from . import Notes
from .git_common import GitRepo, run_git
from .text import to_utf8

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b", b"f": b"\f",
            b"r": b"\r", b"v": b"\v"}


@dataclass(frozen=True)
class AddedLines:
    """The lines one file gains in the index with one line of context around each run of them, their
    line numbers in the staged version, and which of those numbers are added lines."""

    path: str
    data: bytes = field(repr=False)  # added lines: what a secret would be in
    line_numbers: tuple[int, ...]
    added: frozenset[int]

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, notes: Notes) -> Iterator[Chunk]:
        notes.files_scanned += 1
        notes.bytes_scanned += len(self.data)
        yield Chunk(data=to_utf8(self.data), path=self.path, line_numbers=self.line_numbers, kind="diff")


def staged_diff(repo: GitRepo) -> bytes:
    """The index against HEAD (against nothing on an unborn branch), one line of context."""
    return run_git(repo, ["-c", "core.quotePath=false", "diff", "--cached", "-U1", "--no-color", "--no-ext-diff",
                          "--no-textconv", "-M", "--diff-filter=ACMRT", "--src-prefix=a/", "--dst-prefix=b/"])


def added_lines(diff: bytes, notes: Notes) -> list[AddedLines]:
    """Parse a unified diff into the added and context lines of each file. Deleted lines are never kept.

    Hunk bodies are read by the line counts of their headers, so an added line that looks like a
    header (``+++ x`` is the added line ``++ x``) stays content.
    """
    out: list[AddedLines] = []
    path: str | None = None
    lines: list[bytes] = []
    numbers: list[int] = []
    added: list[int] = []
    next_no = old_left = new_left = 0

    def flush() -> None:
        if path is not None and added:
            out.append(AddedLines(path, b"\n".join(lines) + b"\n", tuple(numbers), frozenset(added)))

    for raw in diff.split(b"\n"):
        if old_left > 0 or new_left > 0:
            tag, text = raw[:1], raw[1:]
            if tag == b"\\":  # "\ No newline at end of file"
                continue
            if tag != b"-":
                new_left -= 1
                if path is not None:
                    if tag == b"+":
                        added.append(next_no)
                    lines.append(text)  # a blank context line is " ", or "" with diff.suppressBlankEmpty
                    numbers.append(next_no)
                next_no += 1
            if tag != b"+":
                old_left -= 1
        elif raw.startswith(b"diff --git "):
            flush()
            path, lines, numbers, added = None, [], [], []
        elif raw.startswith(b"+++ "):
            path = _path(raw[4:])
        elif raw.startswith(b"@@"):
            m = _HUNK.match(raw)
            if m:
                old_left = 1 if m.group(1) is None else int(m.group(1))
                next_no = int(m.group(2))
                new_left = 1 if m.group(3) is None else int(m.group(3))
        elif raw.startswith(b"Binary files "):
            notes.skipped.append((raw.decode("utf-8", "replace").split(" and ")[-1][2:-7], "binary"))
    flush()
    return out


def on_added_lines(findings: list[Finding], items: list[AddedLines]) -> list[Finding]:
    """The findings that touch an added line: one only on context lines was in HEAD already."""
    added = {item.path: item.added for item in items}
    return [f for f in findings
            if not added.get(f.path, frozenset()).isdisjoint(range(f.line, f.end_line + 1))]


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
