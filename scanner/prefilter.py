"""Prefilters: one Hyperscan pass that finds candidate (rule, end offset) pairs and keywords, or a
keyword gate (``re2.Set``, else plain substring search) where Hyperscan is not installed.

Hyperscan reports where matches *end*; start-of-match mode rejects too many rules, so the engine
turns each end offset into a window of whole lines and lets the confirming engine find the match.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Rule

try:  # pragma: no cover - exercised by the accelerator-free CI pass
    if os.environ.get("LEAKSCAN_DISABLE_HYPERSCAN"):
        raise ImportError("disabled by LEAKSCAN_DISABLE_HYPERSCAN")
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

from .regexes import re2

HAVE_HYPERSCAN = hyperscan is not None
FLOOD_LIMIT = 400_000  # candidate hits in one buffer before we stop the pass and gate by keyword


@dataclass(frozen=True)
class Database:
    """A serialized Hyperscan database and how its pattern ids map back to rules and keywords."""

    blob: bytes
    rule_ids: tuple[int, ...]  # rule indexes that are in the database
    unsupported: tuple[int, ...]  # rule indexes Hyperscan could not take: always confirmed
    keyword_base: int  # pattern id of the first keyword


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


def build_database(rules: Sequence[Rule]) -> Database | None:
    """Compile every rule and keyword into one block-mode database (about half a second for 250 rules)."""
    if hyperscan is None:
        return None
    keywords = keyword_table(rules)
    base = len(rules)
    accepted: list[tuple[int, bytes, int]] = []
    unsupported: list[int] = []
    for index, rule in enumerate(rules):
        accepted.append((index, rule.regex.encode("utf-8"), _rule_flags(rule)))
    kw_entries = [
        (base + k, _hs_escape(kw), hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH)
        for k, kw in enumerate(keywords)
    ]
    db = _compile(accepted + kw_entries)
    if db is None:
        # Find the patterns Hyperscan rejects; try them in prefilter mode, else leave them out.
        good: list[tuple[int, bytes, int]] = []
        for entry in accepted:
            if _compile([entry]) is not None:
                good.append(entry)
                continue
            loose = (entry[0], entry[1], entry[2] | hyperscan.HS_FLAG_PREFILTER)
            if _compile([loose]) is not None:
                good.append(loose)
            else:
                unsupported.append(entry[0])
        accepted = good
        db = _compile(accepted + kw_entries)
        if db is None:  # pragma: no cover - keywords are plain literals
            return None
    return Database(
        blob=hyperscan.dumpb(db),
        rule_ids=tuple(e[0] for e in accepted),
        unsupported=tuple(unsupported),
        keyword_base=base,
    )


def _compile(entries: Sequence[tuple[int, bytes, int]]):  # type: ignore[no-untyped-def]
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


class KeywordGate:
    """Which keywords occur in a buffer: every one of them, overlapping or not (no alternation)."""

    def __init__(self, keywords: Sequence[str]) -> None:
        self._keywords = tuple(keywords)
        self._set = None
        if re2 is not None and self._keywords:
            options = re2.Options()
            options.case_sensitive = False
            options.log_errors = False
            s = re2.Set.SearchSet(options)
            for kw in self._keywords:
                s.Add(re2.escape(kw.encode("utf-8")))
            s.Compile()
            self._set = s
        self._encoded = tuple(kw.encode("utf-8") for kw in self._keywords)

    def present(self, data: bytes) -> set[int]:
        if self._set is not None:
            return set(self._set.Match(data) or ())
        lowered = data.lower()
        return {i for i, kw in enumerate(self._encoded) if kw in lowered}
