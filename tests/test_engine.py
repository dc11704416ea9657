"""The engine: windowed confirmation finds exactly what whole-buffer scanning finds, on every path."""
from __future__ import annotations

import dataclasses
import random
import sysconfig
from pathlib import Path

import pytest

from scanner import prefilter, regexshape
from scanner.engine import Engine, shannon_entropy
from scanner.model import Chunk, Confidence
from scanner.regexes import HAVE_RE2
from scanner.ruleset import build_spec, parse_rule_document

PLANTED = [
    'aws_key = "AKIAZ5GMHYJKLOPQRS7T"',
    "token: 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",
    "SLACK=xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd",
    "stripe = 'sk_live_51Hx3k2LqM8nV7bR4tY6wZ9pQ0sD'",
]


def _corpus() -> list[Chunk]:
    """Real source files from the standard library, some with secrets planted at random lines."""
    rng = random.Random(1234)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    # The reference path runs every rule over every line; with the backtracking fallback (no RE2) that
    # is slow, so the fallback pass of CI checks the same property on fewer files.
    files = sorted(stdlib.glob("*.py"))[: 120 if HAVE_RE2 else 30]
    chunks = []
    for path in files:
        lines = path.read_bytes().splitlines(keepends=True)
        for secret in PLANTED:
            if lines and rng.random() < 0.3:
                lines.insert(rng.randrange(len(lines)), secret.encode() + b"\n")
        chunks.append(Chunk(data=b"".join(lines), path=str(path)))
    key = (Path(__file__).parent / "data" / "pem.txt")
    if key.exists():
        chunks.append(Chunk(data=key.read_bytes(), path=str(key)))
    return chunks


def _keys(findings):  # type: ignore[no-untyped-def]
    return sorted((f.path, f.rule_id, f.line, f.column, f.end_line, f.end_column, f.secret) for f in findings)


@pytest.fixture(scope="module")
def corpus() -> list[Chunk]:
    return _corpus()


@pytest.mark.parametrize("use_hyperscan", [True, False], ids=["hyperscan", "keyword-gate"])
def test_windowed_scan_equals_whole_buffer_scan(rules, corpus, use_hyperscan) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(build_spec(rules, use_hyperscan=use_hyperscan))
    windowed = [f for c in corpus for f in engine.scan(c).findings]
    whole = [f for c in corpus for f in engine.scan_whole(c).findings]
    assert _keys(windowed) == _keys(whole)
    assert len(windowed) >= 4  # the planted secrets are there to be found


def test_keyword_gated_rules_find_the_same(rules, corpus, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rules kept out of the Hyperscan database for speed are confirmed whole-buffer, or on the lines
    their own database locates: same findings."""
    if not prefilter.HAVE_HYPERSCAN:
        pytest.skip("needs Hyperscan")
    monkeypatch.setattr(prefilter, "EXPENSIVE_FACTOR", 0.0)  # every measured rule counts as expensive
    database = prefilter.build_database(rules)
    assert database is not None and database.expensive and database.located
    engine = Engine(build_spec(rules, use_hyperscan=False))
    gated = Engine(dataclasses.replace(build_spec(rules, use_hyperscan=False), database=database, use_hyperscan=True))
    assert _keys(f for c in corpus for f in gated.scan(c).findings) == _keys(
        f for c in corpus for f in engine.scan_whole(c).findings
    )


def test_flood_of_candidates_falls_back_without_losing_findings(rules, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(build_spec(rules))
    blob = ("AKIA" * 50_000 + "\n" + PLANTED[0] + "\n").encode()
    expected = _keys(engine.scan(Chunk(data=blob, path="f")).findings)
    monkeypatch.setattr(prefilter, "FLOOD_LIMIT", 10)
    flooded = _keys(engine.scan(Chunk(data=blob, path="f")).findings)
    assert flooded == expected
    assert [k[1] for k in flooded] == ["aws-access-key-id"]


def test_positions_are_character_columns_with_non_ascii_text(engine) -> None:  # type: ignore[no-untyped-def]
    text = "# clé ünïcode\nschlüssel = «AKIAZ5GMHYJKLOPQRS7T»\n"
    (f,) = engine.scan(Chunk(data=text.encode(), path="x")).findings
    assert (f.line, f.column, f.end_line, f.end_column) == (2, 14, 2, 34)
    assert text.splitlines()[1][f.column - 1 : f.end_column - 1] == f.secret


def test_multiline_match_reports_start_and_end_lines(engine) -> None:  # type: ignore[no-untyped-def]
    body = "\n".join(["MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a"] * 3)
    text = f"x = 1\n  -----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    (f,) = engine.scan(Chunk(data=text.encode(), path="k")).findings
    assert (f.rule_id, f.line, f.column, f.end_line) == ("private-key", 2, 3, 6)
    assert f.end_column == len("-----END RSA PRIVATE KEY-----") + 1


def test_line_numbers_map_through_diff_chunks(engine) -> None:  # type: ignore[no-untyped-def]
    chunk = Chunk(data=b"a = 1\nk = AKIAZ5GMHYJKLOPQRS7T\n", path="x", line_numbers=(10, 42))
    (f,) = engine.scan(chunk).findings
    assert f.line == 42 and f.end_line == 42


def test_checksum_sets_confidence(engine) -> None:  # type: ignore[no-untyped-def]
    good = engine.scan(Chunk(data=b"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", path="x")).findings
    bad = engine.scan(Chunk(data=b"ghp_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH814Un4J", path="x")).findings
    assert [f.confidence for f in good] == [Confidence.HIGH]
    assert [f.confidence for f in bad] == [Confidence.LOW]


def test_secret_never_in_repr(engine) -> None:  # type: ignore[no-untyped-def]
    (f,) = engine.scan(Chunk(data=PLANTED[0].encode(), path="x")).findings
    assert "AKIAZ5GMHYJKLOPQRS7T" not in repr(f)


def test_secret_in_a_commit_message_never_in_a_findings_repr(engine) -> None:  # type: ignore[no-untyped-def]
    from scanner.model import CommitInfo

    commit = CommitInfo(sha="0" * 40, message="add key AKIAZ5GMHYJKLOPQRS7T")
    (f,) = engine.scan(Chunk(data=b"add key AKIAZ5GMHYJKLOPQRS7T", path="(commit message)", commit=commit)).findings
    assert f.commit is not None and "AKIAZ5GMHYJKLOPQRS7T" not in repr(f)


def test_entropy() -> None:
    assert shannon_entropy(b"aaaa") == 0
    assert shannon_entropy(b"abcd") == 2.0


KEYWORD_RULES = """
rules:
  - id: demo-keyed
    description: demo value that counts only where its keyword occurs in the buffer
    regex: 'val_([0-9a-z]{12})'
    keywords: [demokw]
"""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("x = val_a1b2c3d4e5f6\n", False),
        ("demokw: x = val_a1b2c3d4e5f6\n", True),
        ("DemoKW\n" + "pass\n" * 40 + "x = val_a1b2c3d4e5f6\n", True),
        ("x = val_a1b2c3d4e5f6\n" + "pass\n" * 40 + "# DEMOKW\n", True),
    ],
    ids=["no-keyword", "keyword-on-the-line", "keyword-lines-before", "keyword-lines-after"],
)
@pytest.mark.parametrize("use_hyperscan", [True, False], ids=["hyperscan", "keyword-gate"])
def test_rule_reports_only_where_its_keyword_occurs(text: str, found: bool, use_hyperscan: bool) -> None:
    engine = Engine(build_spec(parse_rule_document(KEYWORD_RULES, "kw.yaml"), use_hyperscan=use_hyperscan))
    findings = engine.scan(Chunk(data=text.encode(), path="f")).findings
    assert [f.secret for f in findings] == (["a1b2c3d4e5f6"] if found else [])


@pytest.mark.parametrize(
    ("regex", "anchored"),
    [
        (r"(?i)\bconfigure\s+set\s+(?:a|b)", True),
        (r"(?i)abc[|\]]d", True),
        (r"(?i)\bconfigure|x", False),
        (r"(?i)ab", False),
        (r"(?i:abc|d)", False),
        (r"[a-z]{40}", False),
        (r"ghp_[A-Za-z0-9]{36}", True),
    ],
    ids=["caseless", "bar-in-class", "top-level-alternative", "short", "scoped-alternative", "class", "plain"],
)
def test_patterns_opening_with_a_literal_skip_the_cost_probe(regex: str, anchored: bool) -> None:
    assert regexshape.literal_prefix(regex) is anchored


@pytest.mark.parametrize(
    ("regex", "expression"),
    [
        (r"""(?i)\( ?["'](?:\w*token)["']""", r"""(?i)(?:\w*token)["']"""),
        (r"""\(["']secret_([a-z]+)""", r"""secret_([a-z]+)"""),
        (r"[?&](?:token|key)=", r"[?&](?:token|key)="),
        (r"""(?i)\( ?["']x|password""", r"""(?i)\( ?["']x|password"""),
        (r"--\s*password", r"--\s*password"),
        (r"\b(hf_[A-Za-z0-9]{34})\b", r"\b(hf_[A-Za-z0-9]{34})\b"),
    ],
    ids=["call-opening", "plain-opening", "one-character-opening", "top-level-alternative", "no-literal-next", "word-boundary"],
)
def test_database_drops_a_punctuation_opening_before_a_literal(regex: str, expression: str) -> None:
    assert regexshape.hs_expression(regex) == expression


def test_rule_with_a_punctuation_opening_finds_the_same_through_the_database(rules) -> None:  # type: ignore[no-untyped-def]
    opening = [r for r in rules if regexshape.hs_expression(r.regex) != r.regex]
    if not opening:
        pytest.skip("no built-in rule opens with punctuation")
    engine = Engine(build_spec(rules))
    for rule in opening:
        for example in rule.examples:
            chunk = Chunk(data=("x = 1\n" * 30 + example + "\n" + "y = 2\n" * 30).encode(), path="settings.py")
            assert _keys(engine.scan(chunk).findings) == _keys(engine.scan_whole(chunk).findings)
            assert rule.id in {f.rule_id for f in engine.scan(chunk).findings}
