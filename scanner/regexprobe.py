"""Load-time check that a rule regex cannot backtrack catastrophically: time it on adversarial probes.

RE2 is linear time, so only patterns that run on the backtracking `regex` engine (RE2 missing or
disabled, or syntax RE2 lacks) are probed. Each probe is a literal run from the regex itself, then
a long run of one character class, then a character that makes the match fail: the shape that
drives nested or overlapping quantifiers into exponential or high-polynomial backtracking. A sound
pattern takes microseconds on each; a pattern that needs more than PROBE_TIMEOUT is refused.
"""
from __future__ import annotations

import re
import time

PROBE_TIMEOUT = 0.25  # seconds per probe; sound patterns need well under a millisecond
PROBE_BUDGET = 1.0  # seconds for all probes of one pattern (the built-in rules need < 0.05 s each)
# Short probes catch exponential blow-ups (they explode by ~30 characters); the long one catches
# high-degree polynomial ones without punishing the mild quadratic cost of an ordinary finditer.
PROBE_LENGTHS = (32, 512)
_FILLERS = ("a", "A", "0", "aA0", "a1", "_", "-", " ", "a ", ".", "/", "+", "=", ":", "\\", "é", "a-", "a.")
_FAIL = "\x01"
_LITERAL_RUN = re.compile(r"(?:\\[^A-Za-z0-9]|[^\\\[\](){}|?*+.^$])+")


class SlowRegex(ValueError):
    """The pattern backtracked past the time limit on a short probe."""


def literal_runs(source: str) -> list[str]:
    """Literal text of the pattern outside character classes and group syntax, in source order."""
    stripped = re.sub(r"\[(?:\\.|[^\]])*\]", " ", source)  # character classes are not literals
    stripped = re.sub(r"\\[A-Za-z]|\{\d*,?\d*\}|\(\?[:=!<>P]*(?:<[^>]*>)?", " ", stripped)
    runs = [m.group().replace("\\", "") for m in _LITERAL_RUN.finditer(stripped)]
    return [r for r in runs if r.strip()]


def probes(source: str) -> list[bytes]:
    runs = literal_runs(source)[:4]
    # Prefixes that walk into the pattern: its literal runs in order, as an attacker's input would.
    prefixes = list(dict.fromkeys(["", *("".join(runs[:i]) for i in range(1, len(runs) + 1))]))
    fillers = list(dict.fromkeys([*_FILLERS, *(ch for run in runs for ch in run)]))[:32]
    out = []
    for length in PROBE_LENGTHS:
        for prefix in prefixes:
            for filler in fillers:
                body = (filler * (length // len(filler) + 1))[:length]
                out.append((prefix + body + _FAIL).encode("utf-8"))
    return out


def check(source: str, *, multiline: bool = False) -> None:
    """Raise SlowRegex when ``source``, run by `regex`, exceeds the time limit on any probe."""
    import regex  # only user rules are probed

    try:
        compiled = regex.compile(source.encode("utf-8"))
    except regex.error:
        return  # compiling is checked elsewhere, with a better message
    started = time.monotonic()
    for probe in probes(source):
        try:
            for _ in compiled.finditer(probe, timeout=PROBE_TIMEOUT):
                pass
            slow = time.monotonic() - started > PROBE_BUDGET
        except TimeoutError:
            slow = True
        if slow:
            shown = probe[:12].decode("utf-8", "replace")
            raise SlowRegex(
                f"catastrophically slow (backtracking) on a {len(probe)}-byte probe starting {shown!r}; "
                "rewrite it without nested or overlapping repetition"
            )
