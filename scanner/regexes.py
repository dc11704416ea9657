"""The confirming regex engine: google-re2 (linear time) where it can, `regex` with a time limit elsewhere.

Rules are compiled so that no match can cross a line break unless the rule says ``multiline``; that
is what lets the engine confirm a candidate on the lines around it and still find exactly what a
whole-buffer search finds (RE2's ``never_nl``; emulated for the `regex` fallback).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from .optional import optional_module

if TYPE_CHECKING:  # the type checker sees the module; at run time it may be None
    import re2 as re2
else:
    re2 = optional_module("re2", "LEAKSCAN_DISABLE_RE2")

HAVE_RE2 = re2 is not None
# Seconds one rule may spend on one chunk with the backtracking fallback (LEAKSCAN_REGEX_TIMEOUT).
def _timeout_setting() -> float:
    try:
        return max(0.01, float(os.environ.get("LEAKSCAN_REGEX_TIMEOUT") or 5.0))
    except ValueError:
        return 5.0


DEFAULT_TIMEOUT = _timeout_setting()


class RegexTimeout(Exception):
    """A backtracking search ran past its time limit."""


class Match(Protocol):
    def start(self, group: int = ...) -> int: ...
    def end(self, group: int = ...) -> int: ...


class Pattern(Protocol):
    """A compiled rule regex over bytes."""

    groups: int
    engine: str

    def finditer(self, data: bytes, pos: int, endpos: int, deadline: float | None = None) -> Iterator[Match]: ...

    def group_index(self, name: int | str) -> int: ...


class _Re2Pattern:
    engine = "re2"

    def __init__(self, source: str, multiline: bool) -> None:
        options = re2.Options()
        options.never_nl = not multiline
        options.log_errors = False
        options.max_mem = 64 << 20
        self._compiled = re2.compile(source.encode("utf-8"), options)
        self.groups: int = self._compiled.groups

    def finditer(self, data: bytes, pos: int, endpos: int, deadline: float | None = None) -> Iterator[Match]:
        found: Iterator[Match] = self._compiled.finditer(data, pos, endpos)  # linear time
        return found

    def group_index(self, name: int | str) -> int:
        return _group_index(name, self._compiled.groupindex, self.groups)


def _regex_module() -> Any:
    import regex  # imported on first use: most runs never need the backtracking engine

    return regex


class _RegexPattern:
    """`regex` with a time limit on each search; line-bounded unless the rule is multiline."""

    engine = "regex"

    def __init__(self, source: str, multiline: bool, timeout: float) -> None:
        self._compiled = _regex_module().compile(source.encode("utf-8"))
        self._multiline = multiline
        self._timeout = timeout
        self.groups: int = self._compiled.groups

    def _iter(self, data: bytes, pos: int, endpos: int, deadline: float | None) -> Iterator[Any]:
        timeout = self._timeout if deadline is None else deadline - time.monotonic()
        if timeout <= 0:
            raise RegexTimeout("time limit reached")
        try:
            yield from self._compiled.finditer(data, pos, endpos, timeout=timeout)
        except TimeoutError as exc:
            raise RegexTimeout(str(exc)) from None

    def finditer(self, data: bytes, pos: int, endpos: int, deadline: float | None = None) -> Iterator[Match]:
        """Matches in data[pos:endpos]; ``deadline`` (time.monotonic()) bounds all the searches together,
        so a file of many lines that each take just under the per-search limit is still bounded."""
        if self._multiline:
            yield from self._iter(data, pos, endpos, deadline)
            return
        while pos < endpos:
            nl = data.find(b"\n", pos, endpos)
            line_end = endpos if nl < 0 else nl
            if line_end > pos:
                yield from self._iter(data, pos, line_end, deadline)
            pos = line_end + 1

    def group_index(self, name: int | str) -> int:
        return _group_index(name, self._compiled.groupindex, self.groups)


def _group_index(name: int | str, groupindex: Any, groups: int) -> int:
    if isinstance(name, int):
        if not 0 <= name <= groups:
            raise ValueError(f"secret_group {name} but the regex has {groups} groups")
        return name
    for key, value in dict(groupindex).items():
        if (key.decode() if isinstance(key, bytes) else key) == name:
            return int(value)
    raise ValueError(f"secret_group {name!r} is not a group of the regex")


def compile_rule_regex(
    source: str, *, multiline: bool = False, timeout: float = DEFAULT_TIMEOUT, allow_fallback: bool = True
) -> Pattern:
    """Compile with RE2; fall back to `regex` (with a time limit) when RE2 is missing or the syntax needs it.

    Raises ValueError with a message fit for the user when neither engine accepts the pattern.
    """
    if re2 is not None:
        try:
            return _Re2Pattern(source, multiline)
        except Exception as exc:  # re2.error, or TypeError from pybind11 on odd input
            if not allow_fallback:
                raise ValueError(f"not valid RE2 syntax: {exc}") from None
    try:
        return _RegexPattern(source, multiline, timeout)
    except _regex_module().error as exc:
        raise ValueError(f"bad regex: {exc}") from None


def re2_compatible(source: str) -> bool:
    if re2 is None:
        return True  # nothing to check against
    try:
        _Re2Pattern(source, False)
    except Exception:
        return False
    return True


class TextPattern:
    """A small regex over str (allowlists, paths): RE2 when possible, else `regex` with a time limit."""

    def __init__(self, source: str, timeout: float = 1.0) -> None:
        self.source = source
        self._re2 = None
        if re2 is not None:
            try:
                options = re2.Options()
                options.log_errors = False
                self._re2 = re2.compile(source, options)
            except Exception:
                self._re2 = None
        if self._re2 is None:
            regex = _regex_module()
            try:
                self._regex = regex.compile(source)
            except regex.error as exc:
                raise ValueError(f"bad regex: {exc}") from None
        self._timeout = timeout

    def search(self, text: str) -> bool:
        if self._re2 is not None:
            return self._re2.search(text) is not None
        try:
            return self._regex.search(text, timeout=self._timeout) is not None
        except TimeoutError:
            return False
