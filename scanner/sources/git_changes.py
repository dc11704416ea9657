"""Scanning what each change adds to a file: the new version, trimmed to the lines that differ from the
old one (worker side).

A change replaces blob ``old`` with blob ``new`` at a path. Both are read once per path lineage
(versions in commit order, so each version serves as "new" and then as "old"), the common prefix and
suffix are cut off at line boundaries, leaving a window (on ipython 397 MB instead of 1.29 GB of whole
versions). One prefilter pass over the window decides whether any selection of its lines could hold a
finding; only windows that pass (1 in 50 on ipython) pay for picking the lines the change added and
scanning them. A finding whose secret also occurs in the old version is not something this change
introduced, so it is dropped here.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import compress
from operator import not_

from ..engine import Engine
from ..model import Chunk, Finding
from . import Notes
from .archives import ArchiveOptions, change_findings, sniff
from .git_blobs import pack_reader
from .git_common import NULL_SHA
from .text import SNIFF, is_binary, to_utf8

_STEP, _BLOCK = 1 << 12, 1 << 8
# A window this large is prefiltered as its sub-windows (_probe): split at blocks of _ANCHOR bytes of
# whole lines found verbatim in the old version, at most _DEPTH times deep.
_SPLIT_AT, _ANCHOR, _DEPTH = 1 << 13, 256, 4

PairKey = tuple[str, str, str]  # (path, new blob, old blob or NULL_SHA)


@dataclass
class ChangeResult:
    """Findings per (path, new, old) change, and counts for progress."""

    by_change: dict[PairKey, list[Finding]] = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)
    blobs: int = 0  # changes scanned
    bytes: int = 0  # bytes read


@dataclass(frozen=True)
class ChangeBatch:
    """Changes grouped by path, each path's in commit order (oldest first)."""

    git_dir: str
    paths: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (path, ((new, old), ...))
    max_file_size: int | None = None
    scan_binaries: bool = False

    def run(self, engine: Engine) -> ChangeResult:
        result = ChangeResult()
        uses: Counter[str] = Counter()
        for _path, pairs in self.paths:
            for new, old in pairs:
                uses[new] += 1
                if old != NULL_SHA:
                    uses[old] += 1
        read = pack_reader(self.git_dir).read
        loaded: dict[str, bytes | None] = {}

        def get(sha: str) -> bytes | None:
            if sha in loaded:
                return loaded[sha]
            data = loaded[sha] = read(sha)
            if data is not None:
                result.bytes += len(data)
            return data

        for path, pairs in self.paths:
            rejected: set[bytes] = set()  # encoded strings of this file that do not decode to text
            allowed = engine.path_allowed(path)  # a global allowlist skips the whole lineage
            for new, old in pairs:
                result.blobs += 1
                if new == old:  # moved here unchanged: the file it left holds all of it
                    pass
                elif (new_data := get(new)) is None:  # never silently: a corrupt object must not hide a leak
                    result.notes.errors.append(f"{path}: object {new} could not be read "
                                               "(missing or corrupt); this version was not scanned")
                elif not allowed:
                    old_data = (get(old) if old != NULL_SHA else None) or b""
                    found = scan_change(engine, new_data, old_data, path, result.notes, self.max_file_size,
                                        self.scan_binaries, rejected)
                    if found:
                        result.by_change[(path, new, old)] = found
                for sha in (new, old):
                    if sha != NULL_SHA:
                        uses[sha] -= 1
                        if uses[sha] == 0:
                            loaded.pop(sha, None)  # keep only versions still needed: memory stays flat
        return result


def scan_change(engine: Engine, new: bytes, old: bytes, path: str, notes: Notes, max_file_size: int | None,
                scan_binaries: bool, rejected: set[bytes] | None = None) -> list[Finding]:
    """Findings in the lines of ``new`` that differ from ``old``, with line numbers in ``new``.

    ``rejected`` carries the encoded strings found not to decode to text from one version to the next.
    """
    if max_file_size is not None and len(new) > max_file_size:
        notes.skipped.append((path, f"a version larger than --max-file-size ({len(new)} bytes)"))
        return []
    if engine.spec.archive_depth and sniff(new):  # scanned whole: an archive has no added lines
        return change_findings(engine, new, old, path, notes,
                               ArchiveOptions(engine.spec.archive_depth, scan_binaries, max_file_size))
    if is_binary(new):
        if not scan_binaries:
            return []
        from .binary import printable_strings

        found = engine.scan(Chunk(data=printable_strings(new), path=path, kind="binary-strings")).findings
        return [f for f in found if f.secret.encode("utf-8", "surrogatepass") not in old]
    # Cut at newline bytes only where a newline is one byte: not in UTF-16 text (NULs in the head).
    whole = not old or is_binary(old) or b"\x00" in new[:SNIFF]
    start, end = (0, len(new)) if whole else changed_lines(new, old)
    if start >= end:
        return []
    if start:  # one unchanged line above, as staged keeps: a next-line allow marker there covers the change
        start = new.rfind(b"\n", 0, start - 1) + 1
    old_end = len(old) - (len(new) - end)
    window = new[start:end]
    probe = window if whole or end - start < _SPLIT_AT else _probe(new, start, end, old, old_end)
    # Plain ASCII needs no decoding check: the common case, and the one that costs most to re-check.
    data = probe if probe.isascii() else to_utf8(probe)
    notes.files_scanned += 1
    # One prefilter pass over the window first: most changes hold nothing any rule could match, and
    # what the lines a change adds can hold, the window holds too. Only the rest pay for the line
    # selection below (on ipython: 1 change in 50).
    if not engine.may_match(data, path) and not engine.may_decode(data, path, rejected):
        notes.bytes_scanned += len(window)
        return []
    first_line = new.count(b"\n", 0, start)
    numbers: tuple[int, ...] | None = None
    if not whole:
        window, numbers = _new_lines(window, old[start:old_end], first_line)
        if not window:
            return []
        data = window if window.isascii() else to_utf8(window)
    notes.bytes_scanned += len(window)
    chunk = Chunk(data=data, path=path, line_offset=first_line, line_numbers=numbers)
    # The lines picked mostly hold encoded strings earlier versions had: known not to be text, skipped.
    found = engine.scan(chunk, decode=engine.may_decode(data, path, rejected)).findings
    if not old:
        return found
    return [f for f in found if f.secret.encode("utf-8", "surrogatepass") not in old]


def _new_lines(window: bytes, old_window: bytes, first_line: int) -> tuple[bytes, tuple[int, ...] | None]:
    """The lines of ``window`` that ``old_window`` does not have, with one line of context each side
    (so a multi-line block such as a PEM key keeps its BEGIN and END lines), and their line numbers.

    A line-set difference rather than a diff: hashing lines is cheap, and a line that was already
    there somewhere in the old version was not introduced by this change.
    """
    lines = window.split(b"\n")
    if window.endswith(b"\n"):
        lines.pop()
    old_lines = set(old_window.split(b"\n"))
    # map and compress keep the per-line loop in C: most windows are long and add few lines.
    fresh = list(compress(range(len(lines)), map(not_, map(old_lines.__contains__, lines))))
    if not fresh:
        return b"", None
    if len(fresh) * 2 >= len(lines):  # mostly new: the whole window costs less than picking lines
        return window, None
    keep = sorted({j for i in fresh for j in (i - 1, i, i + 1) if 0 <= j < len(lines)})
    data = b"\n".join(lines[j] for j in keep) + b"\n"
    return data, tuple(first_line + j + 1 for j in keep)


def changed_lines(new: bytes, old: bytes) -> tuple[int, int]:
    """[start, end) of the whole lines of ``new`` between its common prefix and suffix with ``old``."""
    cut = _trim(new, 0, len(new), old, 0, len(old))
    return (0, 0) if cut is None else cut[:2]


def _trim(new: bytes, lo: int, hi: int, old: bytes, old_lo: int, old_hi: int) -> tuple[int, int, int, int] | None:
    """The whole lines of new[lo:hi] between its common prefix and suffix with old[old_lo:old_hi] (both
    starting at a line start), and the old range left between the same prefix and suffix; None when
    new[lo:hi] adds nothing (equal, or only lines deleted)."""
    pre = _prefix_length(new, lo, hi, old, old_lo, old_hi)
    if pre == hi - lo == old_hi - old_lo:
        return None
    suf = _suffix_length(new, lo + pre, hi, old, old_lo + pre, old_hi)
    nl = new.rfind(b"\n", lo, lo + pre)
    start = lo if nl < 0 else nl + 1
    end_raw = hi - suf  # just past the last byte that differs
    if end_raw <= lo + pre:  # old had more: only a deletion, unless it joined two lines into a new one
        if lo + pre == start:
            return None
        end_raw = lo + pre + 1
    nl = new.find(b"\n", end_raw - 1, hi)
    end = hi if nl < 0 else nl + 1
    return start, end, old_lo + (start - lo), max(old_lo + (start - lo), old_hi - (hi - end))


def _probe(new: bytes, start: int, end: int, old: bytes, old_end: int) -> bytes:
    """What the window prefilter reads of a large window new[start:end] (old[start:old_end] in the old
    version): its sub-windows, each with one line of context either side, in order.

    What is left out is text the old window holds (blocks found in it, prefixes and suffixes shared
    with it), as changed_lines leaves out the common prefix and suffix of the whole versions: a line
    there can hold no secret the old version lacks. Every other line _new_lines picks, and the lines
    either side of it, lie in the sub-windows. On ipython the windows of changed files shrink from
    about 290 to 130 MB.
    """
    parts: list[tuple[int, int]] = []
    _sub_windows(new, start, end, old, start, old_end, parts, _DEPTH)
    merged: list[list[int]] = []
    for lo, hi in parts:
        nl = new.rfind(b"\n", start, lo - 1) if lo > start else -1
        lo = start if nl < 0 else nl + 1
        nl = new.find(b"\n", hi, end)
        hi = end if nl < 0 else nl + 1
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return b"".join(new[lo:hi] for lo, hi in merged)


def _sub_windows(new: bytes, lo: int, hi: int, old: bytes, old_lo: int, old_hi: int, out: list[tuple[int, int]],
                 depth: int) -> None:
    """Append the parts of new[lo:hi] that may hold text old[old_lo:old_hi] lacks (both ranges start at a
    line start). A block of whole lines near the middle found verbatim in the old range holds none;
    what comes before it is compared with what comes before its copy, trimmed of their common prefix
    and suffix, and split again, and so is what comes after it."""
    size = hi - lo
    if size < _SPLIT_AT or depth == 0 or old_hi <= old_lo:
        out.append((lo, hi))
        return
    for at in (lo + size // 2, lo + size // 4, lo + 3 * size // 4):  # the middle, else a quarter either side
        mid = new.find(b"\n", at, hi) + 1
        stop = new.find(b"\n", mid + _ANCHOR, hi) + 1 if mid else 0
        if not stop:
            continue
        found = old.find(new[mid:stop], old_lo, old_hi)
        if found < 0:
            continue
        for side in ((lo, mid, old_lo, found), (stop, hi, found + (stop - mid), old_hi)):
            cut = _trim(new, side[0], side[1], old, side[2], side[3]) if side[0] < side[1] else None
            if cut is not None:
                _sub_windows(new, *cut[:2], old, *cut[2:], out, depth - 1)
        return
    out.append((lo, hi))


def _prefix_length(a: bytes, a_lo: int, a_hi: int, b: bytes, b_lo: int, b_hi: int) -> int:
    """The length of the common prefix of a[a_lo:a_hi] and b[b_lo:b_hi]."""
    n = min(a_hi - a_lo, b_hi - b_lo)
    view = memoryview(b)  # startswith compares in place (memcmp): no copy of either side
    i = 0
    for step in (_STEP, _BLOCK):  # a page at a time, then a block at a time inside the page that differs
        while i + step <= n and a.startswith(view[b_lo + i : b_lo + i + step], a_lo + i):
            i += step
    end = min(i + _BLOCK, n)
    # Then the first differing byte of that block in one go: the lowest set bit of the blocks' XOR
    # (little-endian: byte k weighs 256**k), instead of a bisection's dozen slices.
    diff = int.from_bytes(a[a_lo + i : a_lo + end], "little") ^ int.from_bytes(b[b_lo + i : b_lo + end], "little")
    return end if not diff else i + ((diff & -diff).bit_length() - 1) // 8


def _suffix_length(a: bytes, a_lo: int, a_hi: int, b: bytes, b_lo: int, b_hi: int) -> int:
    """The length of the common suffix of a[a_lo:a_hi] and b[b_lo:b_hi]."""
    n = min(a_hi - a_lo, b_hi - b_lo)
    view = memoryview(b)
    i = 0
    for step in (_STEP, _BLOCK):
        while i + step <= n and a.endswith(view[b_hi - i - step : b_hi - i], a_lo, a_hi - i):
            i += step
    k = min(i + _BLOCK, n) - i
    # Big-endian: the block's last byte weighs 1, so the lowest set bit counts the equal bytes at its end.
    diff = int.from_bytes(a[a_hi - i - k : a_hi - i], "big") ^ int.from_bytes(b[b_hi - i - k : b_hi - i], "big")
    return i + k if not diff else i + ((diff & -diff).bit_length() - 1) // 8
