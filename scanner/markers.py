"""Inline allow markers: comments on a finding's line (or the line before) that suppress it."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Same-line markers. leakscan:allow must not match leakscan:allow-next-line, which is about the next line.
LEAKSCAN_SAME_LINE = (r"leakscan:allow(?!-next-line)",)
LEAKSCAN_NEXT_LINE = (r"leakscan:allow-next-line",)
# Every peer's marker, so a team switching tools keeps its annotations (detect-secrets also
# accepted the older "whitelist" spelling).
PEER_SAME_LINE = (
    r"gitleaks:allow",
    r"betterleaks:allow",
    r"trufflehog:ignore",
    r"kingfisher:(?:ignore|allow)",
    r"pragma:[ \t]*(?:allowlist|whitelist)[ \t]+secret",
)
PEER_NEXT_LINE = (r"pragma:[ \t]*allowlist[ \t]+nextline[ \t]+secret",)


@dataclass(frozen=True)
class MarkerSet:
    """The marker regexes a scan honours (picklable; compiled in each worker)."""

    same_line: tuple[str, ...]
    next_line: tuple[str, ...]


def marker_set(*, peers: bool = True) -> MarkerSet:
    if peers:
        return MarkerSet(LEAKSCAN_SAME_LINE + PEER_SAME_LINE, LEAKSCAN_NEXT_LINE + PEER_NEXT_LINE)
    return MarkerSet(LEAKSCAN_SAME_LINE, LEAKSCAN_NEXT_LINE)


class CompiledMarkers:
    """Answers: does a marker cover the match at data[start:end]?"""

    def __init__(self, markers: MarkerSet) -> None:
        self._same = re.compile("|".join(markers.same_line).encode()) if markers.same_line else None
        self._next = re.compile("|".join(markers.next_line).encode()) if markers.next_line else None

    def covers(self, data: bytes, first_line_start: int, end: int, *, has_previous_line: bool) -> bool:
        """True when a same-line marker is on any line the match spans, or a next-line marker on the
        line before its first line. ``has_previous_line`` is False where the line before is not the
        real previous line of the file (the first line of a diff hunk or of a split piece)."""
        last_line_end = data.find(b"\n", max(end - 1, first_line_start))
        if last_line_end < 0:
            last_line_end = len(data)
        if self._same is not None and self._same.search(data, first_line_start, last_line_end):
            return True
        if self._next is not None and has_previous_line and first_line_start > 0:
            prev_start = data.rfind(b"\n", 0, first_line_start - 1) + 1
            if self._next.search(data, prev_start, first_line_start - 1):
                return True
        return False
