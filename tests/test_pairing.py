"""Companion rules: parts of one credential found near each other are linked; required ones need a partner."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.errors import RuleError
from scanner.model import Chunk, Confidence, Finding
from scanner.report import REDACTED, RunInfo, redact
from scanner.report import json as json_report
from scanner.ruleset import build_spec, load_rule_files, parse_rule_document

KEY_ID = "AKIAOD22BF5Z32M3NBP6"
SECRET = "qtXa9NSXuvWwvB5UvpqmLYpleBPDovkJoptaKK4w"


def _scan(engine: Engine, text: str) -> list[Finding]:
    return engine.scan(Chunk(data=text.encode(), path="creds.txt")).findings


def _by_rule(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


def test_bare_secret_on_the_line_of_an_access_key_id_is_paired(engine: Engine) -> None:
    text = f"User name,Password,Access key ID,Secret access key\nci,,{KEY_ID},{SECRET}\n"
    found = _by_rule(_scan(engine, text))
    assert set(found) == {"aws-access-key-id", "aws-secret-access-key-near-id"}
    secret = found["aws-secret-access-key-near-id"]
    assert secret.secret == SECRET
    assert secret.related == (("aws-access-key-id", KEY_ID),)
    assert secret.confidence is Confidence.HIGH
    assert found["aws-access-key-id"].related == (("aws-secret-access-key-near-id", SECRET),)


@pytest.mark.parametrize("gap", [0, 2, 4], ids=lambda g: f"{g}-lines-between")
def test_assigned_secret_near_an_id_is_reported_once_and_linked(engine: Engine, gap: int) -> None:
    filler = "region = eu-west-1\n" * gap
    text = f"[default]\naws_access_key_id = {KEY_ID}\n{filler}aws_secret_access_key = {SECRET}\n"
    findings = _scan(engine, text)
    assert sorted(f.rule_id for f in findings) == ["aws-access-key-id", "aws-secret-access-key"]
    found = _by_rule(findings)
    assert found["aws-secret-access-key"].related == (("aws-access-key-id", KEY_ID),)
    assert found["aws-access-key-id"].related == (("aws-secret-access-key", SECRET),)


def test_assigned_secret_alone_is_reported_without_related(engine: Engine) -> None:
    (finding,) = _scan(engine, f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    assert (finding.rule_id, finding.secret, finding.related) == ("aws-secret-access-key", SECRET, ())


def test_access_key_id_alone_is_reported_without_related(engine: Engine) -> None:
    (finding,) = _scan(engine, f"key = {KEY_ID}\n")
    assert (finding.rule_id, finding.related) == ("aws-access-key-id", ())


def test_bare_secret_without_an_id_is_not_reported(engine: Engine) -> None:
    assert _scan(engine, f'signature = "{SECRET}"\n') == []


def test_bare_secret_far_from_the_id_is_not_reported(engine: Engine) -> None:
    text = f"access = {KEY_ID}\n" + "pass\n" * 6 + f'other = "{SECRET}"\n'
    (finding,) = _scan(engine, text)
    assert (finding.rule_id, finding.related) == ("aws-access-key-id", ())


def test_git_sha_next_to_an_id_is_not_a_secret(engine: Engine) -> None:
    text = f"key = {KEY_ID}\nrev = 3f786850e387550fdab836ed7e6dc881de23001b\n"
    assert [f.rule_id for f in _scan(engine, text)] == ["aws-access-key-id"]


def test_windowed_and_whole_buffer_pairing_agree(engine: Engine) -> None:
    text = "x = 1\n" * 50 + f"{KEY_ID} {SECRET}\n" + "y = 2\n" * 50
    chunk = Chunk(data=text.encode(), path="f")
    keys = [sorted((f.rule_id, f.line, f.related) for f in r.findings) for r in (engine.scan(chunk), engine.scan_whole(chunk))]
    assert keys[0] == keys[1] and len(keys[0]) == 2


# -- the generic mechanism, on a rule set of its own -------------------------------------------------

PAIR_RULES = """
rules:
  - id: demo-sid
    description: demo account id
    regex: '\\b(SID[0-9a-f]{8})\\b'
    keywords: [sid]
    companions: [{rule: demo-token, within_lines: 2}]
  - id: demo-token
    description: demo token, meaningful only next to an account id
    regex: 'tok=([0-9a-z]{12})'
    keywords: [tok=]
    confidence: low
    companions: [{rule: demo-sid, within_lines: 2, required: true}]
"""


@pytest.fixture(scope="module")
def pair_engine() -> Engine:
    return Engine(build_spec(parse_rule_document(PAIR_RULES, "pair.yaml")))


@pytest.mark.parametrize(
    ("gap", "paired"), [(0, True), (1, True), (2, False)], ids=["adjacent", "within", "one-too-far"]
)
def test_within_lines_is_the_largest_line_distance(pair_engine: Engine, gap: int, paired: bool) -> None:
    text = "SID0a1b2c3d\n" + "-\n" * gap + "tok=k3j9x8m2p7q1\n"
    found = _by_rule(_scan(pair_engine, text))
    assert ("demo-token" in found) is paired
    assert bool(found["demo-sid"].related) is paired
    if paired:
        assert found["demo-token"].confidence is Confidence.HIGH  # raised from the rule's low


def test_every_nearby_companion_is_related(pair_engine: Engine) -> None:
    text = "tok=aaaa1111bbbb\nSID0a1b2c3d\ntok=cccc2222dddd\n"
    sid = _by_rule(_scan(pair_engine, text))["demo-sid"]
    assert sid.related == (("demo-token", "aaaa1111bbbb"), ("demo-token", "cccc2222dddd"))


# -- redaction ----------------------------------------------------------------------------------------


def test_redact_scrubs_related_secrets_everywhere(engine: Engine) -> None:
    text = f"ci,,{KEY_ID},{SECRET}\n"
    for finding in _scan(engine, text):
        clean = redact(finding)
        shown = " ".join([clean.secret, clean.match, clean.line_text, *(s for _, s in clean.related)])
        assert KEY_ID not in shown and SECRET not in shown
        assert [r for r, _ in clean.related] == [r for r, _ in finding.related]
        assert all(s == REDACTED for _, s in clean.related)


@pytest.mark.parametrize("redacted", [False, True], ids=["plain", "redacted"])
def test_json_shows_related_rule_ids_and_secrets_only_unredacted(engine: Engine, redacted: bool) -> None:
    findings = _scan(engine, f"{KEY_ID}\n{SECRET}\n")
    out = io.StringIO()
    json_report.render(findings, RunInfo(), out, redacted=redacted)
    rows = {row["rule_id"]: row for row in json.loads(out.getvalue())}
    related = rows["aws-access-key-id"]["related"]
    assert [r["rule_id"] for r in related] == ["aws-secret-access-key-near-id"]
    assert (SECRET in out.getvalue()) is not redacted
    assert (KEY_ID in out.getvalue()) is not redacted


# -- validation ---------------------------------------------------------------------------------------

_BASE = """
rules:
  - id: one
    description: d
    regex: 'one([0-9]+)'
    companions: {companions}
  - id: two
    description: d
    regex: 'two([0-9]+)'
"""


@pytest.mark.parametrize(
    ("companions", "message"),
    [
        ("{rule: two, within_lines: 3}", "companions must be a list"),
        ("[two]", "each entry is a mapping"),
        ("[{rule: two, within_lines: 3, near: 1}]", "unknown key 'near'"),
        ("[{rule: two}]", "within_lines must be a whole number"),
        ("[{rule: two, within_lines: three}]", "within_lines must be a whole number"),
        ("[{rule: two, within_lines: -1}]", "within_lines must be a whole number"),
        ("[{rule: Two_X, within_lines: 1}]", "rule must be a rule id"),
        ("[{rule: two, within_lines: 1, required: 'yes'}]", "required must be true or false"),
        ("[{rule: three, within_lines: 1}]", "unknown rule 'three'"),
        ("[{rule: one, within_lines: 1}]", "names itself"),
    ],
    ids=["not-a-list", "not-a-mapping", "unknown-key", "no-distance", "text-distance", "negative-distance",
         "bad-id", "bad-required", "unknown-rule", "self"],
)
def test_bad_companions_are_rule_errors_naming_file_and_rule(tmp_path: Path, companions: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(_BASE.format(companions=companions))
    with pytest.raises(RuleError) as info:
        load_rule_files([path])
    text = str(info.value)
    assert message in text and "bad.yaml" in text and "'one'" in text


def test_a_key_repeated_in_one_rule_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    # YAML keeps the last of two equal keys silently: a second `companions:` would hide the first.
    path = tmp_path / "bad.yaml"
    path.write_text(_BASE.format(companions="[{rule: two, within_lines: 3}]")
                    + "    companions: [{rule: one, within_lines: 3}]\n    companions: []\n")
    with pytest.raises(RuleError) as info:
        load_rule_files([path])
    assert str(info.value) == f"{path}:11: duplicate key 'companions'"


def test_rule_needing_a_partner_does_not_run_without_one(rules) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(build_spec(rules))  # fresh: rule regexes compile on first use
    index = [r.id for r in rules].index("aws-secret-access-key-near-id")
    assert _scan(engine, f"tz = 'Asia/Tokyo'\nsig = '{SECRET}'\n") == []  # "asia" is one of its keywords
    assert engine._patterns[index] is None
    assert [f.rule_id for f in _scan(engine, f"{KEY_ID} {SECRET}\n")] == ["aws-access-key-id", "aws-secret-access-key-near-id"]
    assert engine._patterns[index] is not None
