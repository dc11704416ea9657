"""Prefilters: one Hyperscan pass that finds candidate (rule, end offset) pairs and keywords, or a
keyword gate (``re2.Set``, else plain substring search) where Hyperscan is not installed.

Hyperscan reports where matches *end*; start-of-match mode rejects too many rules, so the engine
turns each end offset into a window of whole lines and lets the confirming engine find the match.
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import Rule
from .optional import optional_module
from .regexes import compile_rule_regex, re2
from .regexshape import hs_expression, literal_prefix

if TYPE_CHECKING:  # the type checker sees the module; at run time it may be None
    import hyperscan
else:
    hyperscan = optional_module("hyperscan", "LEAKSCAN_DISABLE_HYPERSCAN")

HAVE_HYPERSCAN = hyperscan is not None
FLOOD_LIMIT = 400_000  # candidate hits in one buffer before we stop the pass and gate by keyword
# A rule whose pattern alone scans this many times slower than the median rule is kept out of the
# database and confirmed over the whole buffer when its keywords occur: a few rules with leading
# character classes (no literal to anchor on) otherwise cost the database most of its speed.
EXPENSIVE_FACTOR = 5.0


@dataclass(frozen=True)
class Database:
    """A serialized Hyperscan database and how its pattern ids map back to rules and keywords."""

    blob: bytes
    rule_ids: tuple[int, ...]  # rule indexes that are in the database
    unsupported: tuple[int, ...]  # rule indexes Hyperscan could not take: always confirmed

    @property
    def keyword_gated(self) -> tuple[int, ...]:
        """Rules the engine confirms over the whole buffer whenever their keywords are present."""
        return self.unsupported + self.expensive
    keyword_base: int  # pattern id of the first keyword
    expensive: tuple[int, ...] = ()  # rule indexes kept out for speed: confirmed when keywords occur
    # Expensive rules that a database of their own locates faster than a whole-buffer regex search:
    # scanned only over buffers that hold the rule's keywords, then confirmed on line windows.
    located: tuple[Database, ...] = ()


def keyword_table(rules: Sequence[Rule]) -> tuple[str, ...]:
    """Every distinct keyword, lower-cased, in a stable order."""
    seen: dict[str, None] = {}
    for rule in rules:
        for kw in rule.keywords:
            seen.setdefault(kw.lower(), None)
    return tuple(seen)


def _hs_escape(literal: str) -> bytes:
    out = bytearray()
    for byte in literal.encode("utf-8"):
        out += b"\\x%02x" % byte
    return bytes(out)


def _rule_flags(rule: Rule) -> int:
    # A multiline rule only needs to be known present: it is confirmed over the whole buffer.
    return hyperscan.HS_FLAG_SINGLEMATCH if rule.multiline else 0


# Keywords found in most source files: gating a rule on them would confirm it over nearly every whole
# buffer, which costs more than Hyperscan does (measured with benchmarks/precision.py), so such rules
# (the generic ones) always stay in the database.
COMMON_KEYWORDS = frozenset({"password", "passwd", "pass", "pwd", "secret", "token", "key", "auth", "://",
                             "credential", "login", "value:", "data:", "curl", "authorization", "-p", "--"})


def _common_keywords(rule: Rule) -> bool:
    return any(k.lower() in COMMON_KEYWORDS for k in rule.keywords)


def build_database(
    rules: Sequence[Rule], *, measure: bool = True, verdicts: dict[str, bool] | None = None
) -> Database | None:
    """Compile every rule and keyword into one block-mode database (cached on disk by the caller).

    Patterns with no literal prefix are first compiled alone and their scan cost on a sample is
    compared with a plain literal's: outliers are left to the keyword-gated path. A pattern Hyperscan
    rejects is retried in prefilter mode, else left to the keyword-gated path too. ``verdicts`` maps a
    pattern to whether it was found expensive before; it is read and extended, so a rule set that adds
    one custom rule measures only that rule. An expensive rule that Hyperscan alone scans faster than
    the confirming regex gets a database of its own (``located``), scanned only where its keywords
    occur. Timing only decides *where* a rule is confirmed, never
    whether it is: results are the same either way (the windowed-equals-whole tests cover both paths).
    """
    if hyperscan is None:
        return None
    base = len(rules)
    entries = [(i, hs_expression(r.regex).encode("utf-8"), _rule_flags(r)) for i, r in enumerate(rules)]
    expensive: set[int] = set()
    singles: dict[int, hyperscan.Database | None] = {}  # rule index -> its pattern compiled alone by the probe
    known = verdicts if verdicts is not None else {}
    sample = _sample_text() if measure else b""
    if measure:
        floor: float | None = None
        for index, rule in enumerate(rules):
            if not rule.keywords or literal_prefix(rule.regex) or _common_keywords(rule):
                continue
            if rule.regex not in known:
                if floor is None:
                    probe = _compile([(0, b"\\x00zq\\x00", 0)])
                    assert probe is not None  # a plain literal always compiles
                    floor = _scan_cost(probe, sample)
                single = singles[index] = _compile([entries[index]])
                known[rule.regex] = single is not None and _scan_cost(single, sample) > EXPENSIVE_FACTOR * floor
            if known[rule.regex]:
                expensive.add(index)
    accepted = [e for e in entries if e[0] not in expensive]
    unsupported: list[int] = []
    db = _compile(accepted + _keyword_entries(rules, expensive))
    if db is None:
        accepted, unsupported = _supported(accepted)
        db = _compile(accepted + _keyword_entries(rules, expensive | set(unsupported)))
    if db is None:  # pragma: no cover - every entry compiled alone
        return None
    located = [_own_database(rules, i, entries[i], singles.get(i), sample) for i in sorted(expensive)]
    return Database(
        blob=hyperscan.dumpb(db),
        rule_ids=tuple(e[0] for e in accepted),
        unsupported=tuple(unsupported),
        keyword_base=base,
        expensive=tuple(sorted(expensive)),
        located=tuple(d for d in located if d is not None),
    )


def _own_database(
    rules: Sequence[Rule], index: int, entry: tuple[int, bytes, int], db: hyperscan.Database | None, sample: bytes
) -> Database | None:
    """A database of one expensive rule, when it scans the sample faster than the confirming regex does."""
    if db is None:
        good, _rejected = _supported([entry])
        db = _compile(good) if good else None
    if db is None:
        return None
    rule = rules[index]
    if re2 is not None:
        pattern = compile_rule_regex(rule.regex, multiline=rule.multiline)
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            for _m in pattern.finditer(sample, 0, len(sample)):
                pass
            best = min(best, time.perf_counter() - t0)
        if _scan_cost(db, sample) >= best:
            return None
    return Database(blob=hyperscan.dumpb(db), rule_ids=(index,), unsupported=(), keyword_base=len(rules))


def gated_keywords(rules: Sequence[Rule], gated: Iterable[int]) -> set[int]:
    """Indexes (in keyword_table order) of the keywords that keyword-gated rules need."""
    index = {kw: k for k, kw in enumerate(keyword_table(rules))}
    return {index[kw.lower()] for i in gated for kw in rules[i].keywords}


def _keyword_entries(rules: Sequence[Rule], gated: Iterable[int]) -> list[tuple[int, bytes, int]]:
    # Only keyword-gated rules need the database to say which keywords occur: a rule in the database
    # checks its keywords where it hits. Hundreds of short caseless literals cost the pass ~15%.
    keywords = keyword_table(rules)
    return [
        (len(rules) + k, _hs_escape(keywords[k]), hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH)
        for k in sorted(gated_keywords(rules, gated))
    ]


def _supported(entries: Sequence[tuple[int, bytes, int]]) -> tuple[list[tuple[int, bytes, int]], list[int]]:
    """Split entries into those Hyperscan takes (as is, or in prefilter mode) and the rule ids it rejects."""
    good: list[tuple[int, bytes, int]] = []
    rejected: list[int] = []
    for entry in entries:
        if _compile([entry]) is not None:
            good.append(entry)
            continue
        loose = (entry[0], entry[1], entry[2] | hyperscan.HS_FLAG_PREFILTER)
        if _compile([loose]) is not None:
            good.append(loose)
        else:
            rejected.append(entry[0])
    return good, rejected


def _sample_text(size: int = 262_144, seed: int = 7) -> bytes:
    """Deterministic source-like text (identifiers, numbers, assignments, hex and base64 runs) for cost probes."""
    rng = random.Random(seed)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    # Numbers matter: a pattern that opens with a digit run (`\b[0-9]{14,17}\|`) ran at every digit of
    # the standard library's sources, 15% of the whole pass, yet looked cheap on a sample without them.
    words = ["self", "value", "return", "config", "client", "import", "def", "data", "key", "token", "for",
             "user_id", "request", "response", "http", "json", "None", "True", "=", "(", ")", ":", ",", ".",
             "0", "1", "2", "10", "255", "1024", "3.5"]
    out, total = [], 0
    while total < size:
        roll = rng.random()
        if roll < 0.08:
            line = "x = '" + "".join(rng.choice(alnum + "+/") for _ in range(rng.randint(16, 80))) + "'"
        elif roll < 0.12:
            line = "h = " + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        else:
            line = "    " * rng.randint(0, 3) + " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        out.append(line)
        total += len(line) + 1
    return "\n".join(out).encode()


def _scan_cost(db: hyperscan.Database, sample: bytes) -> float:
    scratch = hyperscan.Scratch(db)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        db.scan(sample, match_event_handler=lambda *_a: None, scratch=scratch)
        best = min(best, time.perf_counter() - t0)
    return best


def _compile(entries: Sequence[tuple[int, bytes, int]]) -> hyperscan.Database | None:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(
            expressions=[e[1] for e in entries],
            ids=[e[0] for e in entries],
            elements=len(entries),
            flags=[e[2] for e in entries],
        )
    except hyperscan.error:
        return None
    return db


def loadable(database: Database) -> bool:
    """Whether this Hyperscan can load the database and the ones it locates with: a cached entry may
    come from another Hyperscan release or another CPU (a shared home), which only loading tells."""
    try:
        for db in (database, *database.located):
            hyperscan.loadb(db.blob, hyperscan.HS_MODE_BLOCK)
    except hyperscan.error:
        return False
    return True


class HyperscanPass:
    """Runs the database over a buffer. One per process: it owns its scratch space."""

    def __init__(self, database: Database) -> None:
        self._db = hyperscan.loadb(database.blob, hyperscan.HS_MODE_BLOCK)
        self._scratch = hyperscan.Scratch(self._db)
        self.keyword_base = database.keyword_base

    def scan(self, data: bytes) -> tuple[list[tuple[int, int]], bool]:
        """Return the raw (pattern id, end offset) hits, and whether the pass stopped on a flood."""
        hits: list[tuple[int, int]] = []
        append = hits.append
        limit = FLOOD_LIMIT

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> bool | None:
            append((pid, to))
            if len(hits) > limit:
                return True  # stop: the caller falls back to the keyword gate
            return None

        try:
            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        except hyperscan.ScanTerminated:
            return hits, True
        return hits, False

    def survey(self, data: bytes) -> tuple[bool, set[int]]:
        """Whether ``data`` holds any rule hit (the pass stops at the first), else the keywords present."""
        base = self.keyword_base
        present: set[int] = set()

        def on_match(pid: int, _from: int, _to: int, _flags: int, _ctx: object) -> bool | None:
            if pid < base:
                return True
            present.add(pid - base)
            return None

        try:
            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        except hyperscan.ScanTerminated:
            return True, present
        return False, present


class KeywordGate:
    """Which keywords occur in a buffer: every one of them, overlapping or not (no alternation)."""

    def __init__(self, keywords: Sequence[str]) -> None:
        self._keywords = tuple(keywords)
        self._set: Any = None  # built on first use: with Hyperscan, most runs never need it
        self._encoded = tuple(kw.encode("utf-8") for kw in self._keywords)

    def _compiled_set(self) -> Any:
        if self._set is None and re2 is not None and self._keywords:
            options = re2.Options()
            options.case_sensitive = False
            options.log_errors = False
            s = re2.Set.SearchSet(options)
            for kw in self._keywords:
                s.Add(re2.escape(kw.encode("utf-8")))
            s.Compile()
            self._set = s
        return self._set

    def present(self, data: bytes) -> set[int]:
        keyword_set = self._compiled_set()
        if keyword_set is not None:
            return set(keyword_set.Match(data) or ())
        lowered = data.lower()
        return {i for i, kw in enumerate(self._encoded) if kw in lowered}
