#!/usr/bin/env python3
"""Does Hyperscan miss a rule shaped `[(,] ?["']...` when it sits in the full database? A reproduction check.

    python benchmarks/hyperscan_shape.py [--measure]

An earlier session saw such a pattern (a call's string argument) unmatched "only in the full database"
and left the opening out of one generic rule's Hyperscan expression (scanner/regexshape.py). This
compiles each variant below alone and inside a database of every built-in rule (as build_database
gives them, with and without a caseless keyword entry for every keyword) and compares the end offsets
Hyperscan reports for it over every rule's examples and counter-examples plus generated call shapes.
Then, at the engine level, it adds each variant to the built-in rules as a rule of its own and compares
the Hyperscan path with the whole-buffer reference (``--measure``: with the cost probe, so the variant
may be classed expensive and keyword-gated, as on a real first run). Exit status 1 on any difference.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys

import hyperscan

from scanner.engine import Engine, EngineSpec
from scanner.model import Chunk, Rule
from scanner.prefilter import _keyword_entries, _rule_flags, build_database
from scanner.regexshape import hs_expression
from scanner.ruleset import default_rules

_WORDS = r"(?:password|passwd|secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|credentials?)"
VARIANTS = {
    "comma-or-paren": rf"""(?i)[(,] ?["'](?:[\w.-]*{_WORDS}[\w.-]*)["']\s*,\s*["']([^\s"'\\]{{6,400}})["']""",
    "comma-or-paren-escaped-quote": rf"""(?i)[(,] ?["'](?:[\w.-]*{_WORDS}[\w.-]*)["']\s*,\s*["']\\?"?([^\s"'\\]{{6,400}})\\?"?["']""",
    "paren (generic-secret-call)": rf"""(?i)\( ?["'](?:[\w.-]*{_WORDS}[\w.-]*)["']\s*,\s*["']([^\s"'\\]{{6,400}})["']""",
    "gradle-with-comma": rf"""(?i)\b(?:buildConfigField|resValue)[ \t]*[( ] ?["']\w+["'] ?[(,] ?["'][\w.-]*{_WORDS}[\w.-]*["'] ?, ?["']\\?"?([^\s"'\\]{{6,400}})\\?"?["']""",
}


def texts(rules: tuple[Rule, ...], count: int = 3000) -> list[str]:
    out = [e for r in rules for e in (*r.examples, *r.counter_examples)]
    rng = random.Random(3)
    keys = ["api_token", "API_KEY", "password", "db_secret", "access-key", "x.token.y", "credentials"]
    values = ["dafa7817-e246-48f3-91a7-e87653d587b8", "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB", '\\"q8Vt2LmX9wKz4RbN7pYc\\"']
    for _ in range(count):
        q1, q2 = rng.choice("\"'"), rng.choice("\"'")
        out.append(f"{rng.choice(['f', 'x.get', 'buildConfigField', ''])}{rng.choice(['(', ', ', ',', '( ', ' '])}"
                   f"{q1}{rng.choice(keys)}{q1}{rng.choice([',', ', ', ' ,  '])}{q2}{rng.choice(values)}{q2}"
                   f"{rng.choice([')', '', ' # x'])}")
    return out


def _compile(entries: list[tuple[int, bytes, int]]) -> hyperscan.Database:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=[e[1] for e in entries], ids=[e[0] for e in entries], elements=len(entries),
               flags=[e[2] for e in entries])
    return db


def _ends(db: hyperscan.Database, text: str, pid: int) -> set[int]:
    found: set[int] = set()
    db.scan(text.encode(), match_event_handler=lambda i, _f, to, _fl, _c: found.add(to) if i == pid else None)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", action="store_true", help="run the cost probe at the engine level")
    args = parser.parse_args()
    rules = default_rules()
    corpus = texts(rules)
    base = [(i, hs_expression(r.regex).encode(), _rule_flags(r)) for i, r in enumerate(rules)]
    keywords = _keyword_entries(rules, range(len(rules)))
    differ = 0
    print(f"Hyperscan level: {len(corpus)} texts, {len(rules)} rules")
    for name, regex in VARIANTS.items():
        pid = 1 << 20
        alone = _compile([(pid, regex.encode(), 0)])
        for label, entries in (("rules", base), ("rules + every keyword", base + keywords)):
            full = _compile([*entries, (pid, regex.encode(), 0)])
            bad = [t for t in corpus if _ends(alone, t, pid) != _ends(full, t, pid)]
            differ += len(bad)
            print(f"  {name:30} in {label:22}: {len(bad)} texts differ" + (f", e.g. {bad[0][:60]!r}" if bad else ""))
    print(f"Engine level (cost probe {'on' if args.measure else 'off'}):")
    for name, regex in VARIANTS.items():
        extra = dataclasses.replace(rules[0], id="zz-variant", regex=regex, multiline=False, tags=(), allowlists=(),
                                    entropy=0.0, path="", checksum="", companions=(),
                                    keywords=("password", "passwd", "secret", "token", "key", "credential",
                                              "buildconfigfield"))  # generic-secret-call's, and Gradle's
        every = (*rules, extra)
        database = build_database(every, measure=args.measure, verdicts={})
        engine = Engine(EngineSpec(rules=every, database=database))
        where = ("keyword-gated" if len(every) - 1 in database.keyword_gated else "in the database")
        bad = 0
        for text in corpus:
            chunk = Chunk(data=(text + "\n").encode(), path="x.py")
            got = [(f.line, f.column) for f in engine.scan(chunk).findings if f.rule_id == extra.id]
            want = [(f.line, f.column) for f in engine.scan_whole(chunk).findings if f.rule_id == extra.id]
            bad += got != want
        differ += bad
        print(f"  {name:30} ({where}): {bad} texts differ from the whole-buffer scan")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
