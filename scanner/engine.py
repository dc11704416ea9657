"""The compiled rule set at work: prefilter -> windowed confirm -> entropy -> filters -> allowlists.

Pure computation: takes chunks of bytes, returns findings. No I/O, so it runs the same in the CLI,
in worker processes and in tests.
"""
from __future__ import annotations

import dataclasses
import math
import time
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import decoding, filters
from .confidence import grade
from .markers import CompiledMarkers, MarkerSet
from .model import Allowlist, Chunk, Companion, Confidence, Finding, RegexTarget, Rule
from .pathglob import with_archives
from .prefilter import HAVE_HYPERSCAN, Database, HyperscanPass, KeywordGate, gated_keywords, keyword_table
from .regexes import DEFAULT_TIMEOUT, Match, Pattern, RegexTimeout, TextPattern, compile_rule_regex

MAX_MATCH_TEXT = 4096
MAX_LINE_TEXT = 400
_LOOKUP_WINDOW = 1 << 14  # longer candidate windows: look for keywords in the whole buffer at once
_BUDGET_BYTES = 1 << 20  # a backtracking rule gets one more regex_timeout per MB of chunk


@dataclass(frozen=True)
class EngineSpec:
    """Everything a worker needs to build an Engine; picklable, so it crosses process boundaries."""

    rules: tuple[Rule, ...]
    allowlists: tuple[Allowlist, ...] = ()
    database: Database | None = None
    regex_timeout: float = DEFAULT_TIMEOUT
    use_hyperscan: bool = True
    decode_depth: int = 0
    markers: MarkerSet | None = None  # inline allow markers honoured (None: off)
    archive_depth: int = 2  # archives opened this deep by the sources that read files (0: none)


@dataclass
class ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    timed_out_rules: list[str] = field(default_factory=list)


def shannon_entropy(data: bytes | str) -> float:
    if not data:
        return 0.0
    counts: dict[object, int] = {}
    for ch in data:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


class _CompiledAllowlist:
    def __init__(self, allow: Allowlist) -> None:
        self.paths = [TextPattern(p) for p in allow.paths]
        self.regexes = [TextPattern(r) for r in allow.regexes]
        self.target = allow.regex_target
        self.stopwords = tuple(s.lower() for s in allow.stopwords)
        self.commits = {c.lower() for c in allow.commits}

    def path_allowed(self, path: str) -> bool:
        return any(p.search(path) for p in self.paths)

    def allows(self, *, path: str, secret: str, match: str, line: str, commit: str | None) -> bool:
        if commit and self.commits and commit.lower() in self.commits:
            return True
        if self.paths and self.path_allowed(path):
            return True
        if self.regexes:
            target = {RegexTarget.SECRET: secret, RegexTarget.MATCH: match, RegexTarget.LINE: line}[self.target]
            if any(r.search(target) for r in self.regexes):
                return True
        if self.stopwords:
            lowered = secret.lower()
            if any(s in lowered for s in self.stopwords):
                return True
        return False


class _Lines:
    """Line numbers of offsets in a buffer, counted from the nearest offset already located.

    Listing every line start of a file in Python cost more than confirming its candidates; counting
    newlines in C between known points costs a pass over the buffer at most per rule.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._known_offsets = [0]
        self._known_lines = [0]

    def locate(self, offset: int) -> tuple[int, int]:
        """(0-based line index, offset of that line's start) for a byte offset."""
        data = self._data
        at = bisect_right(self._known_offsets, offset) - 1
        idx = self._known_lines[at] + data.count(b"\n", self._known_offsets[at], offset)
        if offset != self._known_offsets[at]:
            self._known_offsets.insert(at + 1, offset)
            self._known_lines.insert(at + 1, idx)
        return idx, data.rfind(b"\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        end = self._data.find(b"\n", offset)
        return len(self._data) if end < 0 else end


class _KeywordText:
    """Which keywords occur in a buffer, ASCII-caseless like Hyperscan's caseless literals, looked up on demand."""

    def __init__(self, data: bytes, keywords: Sequence[bytes]) -> None:
        self._data = data
        self._keywords = keywords
        self._lowered: bytes | None = None
        self._found: dict[int, bool] = {}

    def any_of(self, indexes: Iterable[int], wins: Sequence[Sequence[int]]) -> bool:
        keywords = self._keywords
        # The keyword usually sits on the candidate's own line: look there before lowering the buffer.
        for start, end in wins:
            if end - start > _LOOKUP_WINDOW:
                break
            line = self._data[start:end].lower()
            if any(keywords[k] in line for k in indexes):
                return True
        if self._lowered is None:
            self._lowered = self._data.lower()
        for k in indexes:
            found = self._found.get(k)
            if found is None:
                found = self._found[k] = keywords[k] in self._lowered
            if found:
                return True
        return False


class Engine:
    """A rule set compiled for scanning. Build one per process from an EngineSpec."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.rules = spec.rules
        n = len(self.rules)
        self._patterns: list[Pattern | None] = [None] * n
        self._groups: list[tuple[int, ...]] = [(0,)] * n
        keywords = keyword_table(self.rules)
        kw_index = {kw: i for i, kw in enumerate(keywords)}
        self._rule_keywords = [frozenset(kw_index[k.lower()] for k in r.keywords) for r in self.rules]
        self._gate = KeywordGate(keywords)
        self._hs: HyperscanPass | None = None
        self._unsupported: tuple[int, ...] = ()
        if spec.database is not None and spec.use_hyperscan and HAVE_HYPERSCAN:
            self._hs = HyperscanPass(spec.database)
            self._unsupported = spec.database.keyword_gated
        # The database reports only the keywords of keyword-gated rules; the keywords of a rule that
        # hit are looked up in the buffer itself, and only then.
        self._keywords = tuple(kw.encode("utf-8") for kw in keywords)
        self._hs_keywords = frozenset(gated_keywords(self.rules, self._unsupported))
        located = spec.database.located if self._hs is not None and spec.database is not None else ()
        self._located: dict[int, Database | HyperscanPass] = {d.rule_ids[0]: d for d in located}
        self._rule_paths = [TextPattern(r.path) if r.path else None for r in self.rules]
        self._rule_allow = [[_CompiledAllowlist(a) for a in r.allowlists] for r in self.rules]
        self._global_allow = [_CompiledAllowlist(a) for a in spec.allowlists]
        self._multiline = [r.multiline for r in self.rules]
        self._generic = [filters.GENERIC_TAG in r.tags for r in self.rules]
        self._companions = {r.id: r.companions for r in self.rules if r.companions}
        self._partners = [frozenset(c.rule for c in r.companions if c.required) for r in self.rules]
        self._markers = CompiledMarkers(spec.markers) if spec.markers is not None else None
        # Keyword-gated rules by keyword, so a buffer costs work only for the keywords it holds.
        self._gated_always = tuple(i for i in self._unsupported if not self._rule_keywords[i])
        self._gated_by_keyword: dict[int, list[int]] = {}
        for i in self._unsupported:
            for k in self._rule_keywords[i]:
                self._gated_by_keyword.setdefault(k, []).append(i)

    # -- compile on first use: most rules never fire in a given process -------------------------
    def pattern(self, index: int) -> Pattern:
        pat = self._patterns[index]
        if pat is None:
            rule = self.rules[index]
            pat = compile_rule_regex(rule.regex, multiline=rule.multiline, timeout=self.spec.regex_timeout)
            wanted = rule.secret_group if isinstance(rule.secret_group, tuple) else (rule.secret_group,)
            self._groups[index] = tuple(pat.group_index(g) for g in wanted)
            self._patterns[index] = pat
        return pat

    # -- candidates --------------------------------------------------------------------------------
    def candidates(self, data: bytes) -> dict[int, list[tuple[int, int]]]:
        """Rule index -> byte windows [start, end) that may hold a match. Windows are whole lines."""
        if self._hs is not None:
            hits, flooded = self._hs.scan(data)
            if not flooded:
                return self._windows_from_hits(data, hits)
        return self._gated_whole_buffer(data)

    def may_match(self, data: bytes, path: str) -> bool:
        """False only when no rule can match in ``data``, nor in any selection of its lines.

        A cheap superset test for sources that scan chosen lines of a buffer (history scans the lines
        a change adds): one prefilter pass over the whole buffer instead of building the selection.
        It holds because rules match within lines (or, multiline, over lines the buffer holds in the
        same order) and anchor only at line edges. Encoded text is ``may_decode``'s part.
        """
        if self._hs is None:
            return True
        rule_hit, present = self._hs.survey(data)
        if rule_hit:
            return True
        # Keyword-gated rules are confirmed over a whole buffer once a keyword occurs: search for them.
        # A rule that reports only next to a partner needs the partner to match, which this test covers.
        gated = set(self._gated_always).union(*(self._gated_by_keyword.get(k, ()) for k in present))
        return any(self._matches_somewhere(i, data, path) for i in sorted(gated) if not self._partners[i])

    def may_decode(self, data: bytes, path: str, rejected: set[bytes] | None = None) -> bool:
        """Whether ``scan`` would decode something in ``data`` or in a selection of its lines.

        ``rejected``: encoded strings already known not to decode to text (see decoding.may_hold_encoded).
        """
        return (bool(self.spec.decode_depth) and decoding.worth_decoding(path)
                and decoding.may_hold_encoded(data, rejected))

    def _matches_somewhere(self, index: int, data: bytes, path: str) -> bool:
        rule_path = self._rule_paths[index]
        if rule_path is not None and not _path_applies(rule_path, path):
            return False
        pattern = self.pattern(index)
        if pattern.engine != "re2":  # a backtracking search over a whole buffer may not end: assume a match
            return True
        # As scan confirms it: only on the lines its own database hits, where it has one.
        windows = self._located_windows(index, data, [(0, len(data))])
        return any(next(iter(pattern.finditer(data, start, end)), None) is not None for start, end in windows)

    def _keyword_ok(self, index: int, present: set[int]) -> bool:
        needed = self._rule_keywords[index]
        return not needed or not needed.isdisjoint(present)

    def _hit_keyword_ok(self, index: int, present: set[int], text: _KeywordText | None, wins: list[list[int]]) -> bool:
        needed = self._rule_keywords[index]
        if not needed or not needed.isdisjoint(present):
            return True
        unknown = needed - self._hs_keywords
        return bool(unknown) and text is not None and text.any_of(unknown, wins)

    def _gated_whole_buffer(self, data: bytes) -> dict[int, list[tuple[int, int]]]:
        present = self._gate.present(data)
        whole = [(0, len(data))]
        return {i: whole for i in range(len(self.rules)) if self._keyword_ok(i, present)}

    def _windows_from_hits(self, data: bytes, hits: list[tuple[int, int]]) -> dict[int, list[tuple[int, int]]]:
        if not hits and not self._gated_always:
            return {}  # most buffers of source code
        n = len(data)
        present: set[int] = set()
        windows = self._line_windows(data, hits, present)
        out: dict[int, list[tuple[int, int]]] = {}
        text = _KeywordText(data, self._keywords) if windows else None
        for i, wins in windows.items():
            merged = _merge(wins)
            if self._hit_keyword_ok(i, present, text, merged):
                out[i] = [(w[0], w[1]) for w in merged]
        whole = [(0, n)]
        for i in self._gated_always:
            out[i] = whole
        for k in present:
            for i in self._gated_by_keyword.get(k, ()):
                out[i] = whole
        return out

    def _located_windows(self, index: int, data: bytes, wins: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Line windows of a keyword-gated rule from its own database, where it has one (else ``wins``)."""
        located = self._located.get(index)
        if located is None:
            return wins
        if not isinstance(located, HyperscanPass):
            located = self._located[index] = HyperscanPass(located)
        hits, flooded = located.scan(data)
        if flooded:
            return wins
        windows = self._line_windows(data, hits, set()).get(index, [])
        return [(w[0], w[1]) for w in _merge(windows)]

    def _line_windows(
        self, data: bytes, hits: Iterable[tuple[int, int]], present: set[int]
    ) -> dict[int, list[list[int]]]:
        """Rule index -> whole-line windows around its hits; keyword hits go into ``present``."""
        n = len(data)
        base = len(self.rules)
        windows: dict[int, list[list[int]]] = {}
        multiline = self._multiline
        for pid, to in hits:
            if pid >= base:
                present.add(pid - base)
                continue
            wins = windows.get(pid)
            if wins is not None and wins[-1][0] <= to <= wins[-1][1]:
                continue  # same line(s) as the previous hit: the common case, keep it cheap
            if multiline[pid]:
                windows[pid] = [[0, n]]
                continue
            last = to - 1 if to > 0 else 0
            start = data.rfind(b"\n", 0, last) + 1
            end = data.find(b"\n", last)
            if end < 0:
                end = n
            if wins is None:
                windows[pid] = [[start, end]]
            elif start <= wins[-1][1] + 1 and end >= wins[-1][0]:
                wins[-1][0] = min(wins[-1][0], start)
                wins[-1][1] = max(wins[-1][1], end)
            else:
                wins.append([start, end])
        return windows

    # -- scanning ----------------------------------------------------------------------------------
    def scan(self, chunk: Chunk, *, decode: bool = True) -> ChunkResult:
        """Findings in the chunk; ``decode=False`` skips encoded strings (a caller that knows none decodes)."""
        result = self._scan_text(chunk)
        if decode and self.spec.decode_depth and chunk.data and decoding.worth_decoding(chunk.path):
            depth = self.spec.decode_depth
            decoded = decoding.scan_decoded(chunk, lambda c: self._scan_text(c).findings, depth, result.findings)
            result.findings.extend(decoded)
        return result

    def _scan_text(self, chunk: Chunk) -> ChunkResult:
        result = ChunkResult()
        data = chunk.data
        if not data:
            return result
        candidates = self.candidates(data)
        if not candidates:
            return result  # most buffers: nothing to confirm
        lines = _Lines(data)
        # Strings pulled out of a binary have no syntax around them: only provider rules apply.
        text_only = self._generic if chunk.kind == "binary-strings" else None
        deferred: list[tuple[int, list[tuple[int, int]]]] = []
        for index, wins in sorted(candidates.items()):
            rule_path = self._rule_paths[index]
            if rule_path is not None and not _path_applies(rule_path, chunk.path):
                continue
            if text_only is not None and text_only[index]:
                continue
            if self._partners[index]:
                deferred.append((index, wins))
                continue
            self._confirm_rule(chunk, index, wins, lines, result)
        # A rule that reports only next to a partner (a bare 40-character string near an AWS key
        # id) runs only when a partner rule found something here: it has no literal to anchor on.
        found = {f.rule_id for f in result.findings}
        for index, wins in deferred:
            if self._partners[index] & found:
                self._confirm_rule(chunk, index, wins, lines, result)
        result.findings = filters.prefer_specific(result.findings)
        if self._companions and result.findings:
            result.findings = link_companions(result.findings, self._companions)
        return result

    def _confirm_rule(
        self, chunk: Chunk, index: int, wins: Sequence[tuple[int, int]], lines: _Lines, result: ChunkResult
    ) -> None:
        try:
            wins = self._located_windows(index, chunk.data, list(wins))
            self._confirm(chunk, index, wins, lines, result.findings)
        except RegexTimeout:
            result.timed_out_rules.append(self.rules[index].id)

    def scan_whole(self, chunk: Chunk) -> ChunkResult:
        """Reference path: every rule over the whole buffer, no prefilter, no windows (for tests)."""
        result = ChunkResult()
        lines = _Lines(chunk.data)
        whole = [(0, len(chunk.data))]
        for index in range(len(self.rules)):
            rule_path = self._rule_paths[index]
            if rule_path is not None and not _path_applies(rule_path, chunk.path):
                continue
            self._confirm(chunk, index, whole, lines, result.findings)
        result.findings = filters.prefer_specific(result.findings)
        if self._companions and result.findings:
            result.findings = link_companions(result.findings, self._companions)
        return result

    def _confirm(
        self, chunk: Chunk, index: int, windows: Sequence[tuple[int, int]], lines: _Lines, out: list[Finding]
    ) -> None:
        rule = self.rules[index]
        pattern = self.pattern(index)
        groups = self._groups[index]
        data = chunk.data
        lo, hi = chunk.owned or (0, len(data))
        # One budget per rule and chunk: the timeout, plus time for the linear work a big chunk needs.
        deadline = time.monotonic() + self.spec.regex_timeout * (1 + len(data) / _BUDGET_BYTES)
        for start, end in windows:
            for m in pattern.finditer(data, start, end, deadline):
                s, e = _secret_span(m, groups)
                if s < 0 or s == e or not lo <= m.start() < hi:
                    continue
                finding = self._finding(chunk, index, rule, m.start(), m.end(), s, e, lines)
                if finding is not None:
                    out.append(finding)

    def _finding(
        self, chunk: Chunk, index: int, rule: Rule, ms: int, me: int, s: int, e: int, lines: _Lines
    ) -> Finding | None:
        data = chunk.data
        raw = data[s:e]
        entropy = shannon_entropy(raw)
        if entropy < rule.entropy:
            return None
        secret = raw.decode("utf-8", "replace")
        line_idx, line_start = lines.locate(s)
        line_end = lines.line_end(s)
        line_text = _line_excerpt(data, line_start, line_end, s, e)
        match = data[ms : min(me, ms + MAX_MATCH_TEXT)].decode("utf-8", "replace")
        if filters.is_placeholder(secret, rule, match=match, line=line_text, path=chunk.path):
            return None
        confidence = grade(rule, secret, entropy, chunk.path)
        commit = chunk.commit.sha if chunk.commit else None
        allowlists = self._rule_allow[index] + self._global_allow
        if any(
            a.allows(path=chunk.path, secret=secret, match=match, line=line_text, commit=commit) for a in allowlists
        ):
            return None
        if self._markers is not None and self._markers.covers(
            data, line_start, e, has_previous_line=_previous_line_known(chunk, line_idx)
        ):
            return None
        end_idx, end_line_start = lines.locate(e - 1)
        return Finding(
            rule_id=rule.id,
            description=rule.description,
            severity=rule.severity,
            confidence=confidence,
            path=chunk.path,
            line=_line_number(chunk, line_idx),
            column=_column(data, line_start, s) + (chunk.column_offset if line_idx == 0 else 0),
            end_line=_line_number(chunk, end_idx),
            end_column=_column(data, end_line_start, e) + (chunk.column_offset if end_idx == 0 else 0),
            secret=secret,
            match=match,
            line_text=line_text,
            entropy=round(entropy, 4),
            tags=rule.tags,
            commit=chunk.commit,
            remediation=rule.remediation,
            kind=rule.kind,
        )

    def path_allowed(self, path: str) -> bool:
        """True when a global allowlist excludes this path entirely (sources skip such files), or an
        archive it is a member of (``outer.zip!inner``, sources/archives.py): ``*.zip`` skips its members."""
        paths = with_archives(path)
        return any(a.paths and any(a.path_allowed(p) for p in paths) for a in self._global_allow)


def _path_applies(pattern: TextPattern, path: str) -> bool:
    """A rule's path regex applies to the path, or to an archive member's own path: ``(^|/)\\.pgpass$``
    matches ``backup.zip!.pgpass`` (sources/archives.py)."""
    return bool(pattern.search(path)) or ("!" in path and bool(pattern.search(path.rsplit("!", 1)[1])))


def link_companions(findings: list[Finding], companions: dict[str, tuple[Companion, ...]]) -> list[Finding]:
    """Link the parts of multi-part credentials found in one chunk (no extra regex pass).

    A finding of a rule with companions gets ``related``: (rule id, secret) of every companion
    finding within ``within_lines`` lines, and high confidence. A rule whose companion is
    ``required`` reports only next to one, and never where another rule already reports the same
    span (it is the context-free twin of a stricter rule).
    """
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)

    def near(f: Finding, c: Companion) -> list[Finding]:
        return [g for g in by_rule.get(c.rule, ()) if abs(g.line - f.line) <= c.within_lines and g.secret != f.secret]

    def needs_partner(f: Finding) -> bool:
        return any(c.required for c in companions.get(f.rule_id, ()))

    claimed = {(f.line, f.column, f.end_line, f.end_column) for f in findings if not needs_partner(f)}
    kept = []
    for f in findings:
        if needs_partner(f) and (
            (f.line, f.column, f.end_line, f.end_column) in claimed
            or not any(near(f, c) for c in companions[f.rule_id] if c.required)
        ):
            continue
        kept.append(f)
    if len(kept) != len(findings):
        by_rule = {}
        for f in kept:
            by_rule.setdefault(f.rule_id, []).append(f)
    out = []
    for f in kept:
        related = tuple(
            dict.fromkeys((g.rule_id, g.secret) for c in companions.get(f.rule_id, ()) for g in near(f, c))
        )
        out.append(dataclasses.replace(f, related=related, confidence=Confidence.HIGH) if related else f)
    return out


def _secret_span(m: Match, groups: tuple[int, ...]) -> tuple[int, int]:
    """The span of the first of ``groups`` that took part in the match ((-1, -1) when none did)."""
    for group in groups:
        start = m.start(group)
        if start >= 0:
            return start, m.end(group)
    return -1, -1


def _merge(wins: list[list[int]]) -> list[list[int]]:
    if len(wins) < 2:
        return wins
    wins.sort()
    merged = [wins[0]]
    for w in wins[1:]:
        if w[0] <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], w[1])
        else:
            merged.append(w)
    return merged


def _line_number(chunk: Chunk, index: int) -> int:
    if chunk.line_numbers is not None and index < len(chunk.line_numbers):
        return chunk.line_numbers[index]
    return index + 1 + chunk.line_offset


def _previous_line_known(chunk: Chunk, index: int) -> bool:
    """Whether the chunk's line before ``index`` is the file's previous line (diffs hold only added lines)."""
    if chunk.line_numbers is None:
        return index > 0
    return 0 < index < len(chunk.line_numbers) and chunk.line_numbers[index - 1] == chunk.line_numbers[index] - 1


def _column(data: bytes, line_start: int, offset: int) -> int:
    return len(data[line_start:offset].decode("utf-8", "replace")) + 1


def _line_excerpt(data: bytes, line_start: int, line_end: int, s: int, e: int) -> str:
    if line_end - line_start <= MAX_LINE_TEXT:
        return data[line_start:line_end].decode("utf-8", "replace").rstrip("\r")
    lo = max(line_start, s - MAX_LINE_TEXT // 2)
    hi = min(line_end, max(e, lo) + MAX_LINE_TEXT // 2)
    return data[lo:hi].decode("utf-8", "replace")
