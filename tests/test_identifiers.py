"""Identifiers (ARNs, buckets, OAuth client ids): reported in their own class, never failing a scan."""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from scanner.engine import Engine
from scanner.errors import RuleError
from scanner.model import Chunk, Kind, Severity
from scanner.report import RunInfo
from scanner.report import console as console_report
from scanner.ruleset import parse_rule
from tests.conftest import git
from tests.gitrepo import GITHUB, commit, leakscan
from tests.leakscan_run import leakscan as run_cli

MakeRepo = Callable[..., Path]
ARN = "arn:aws:sns:us-west-2:904381276652:CloudwatchMetricAlarm"
IDENTIFIER_LINE = f'alarm_topic: "{ARN}"\n'
SECRET_LINE = f"GITHUB_TOKEN={GITHUB}\n"


def _found(engine: Engine, text: str, path: str = "app/config.txt") -> list[tuple[str, str, Kind]]:
    return [(f.rule_id, f.secret, f.kind) for f in engine.scan(Chunk(data=text.encode(), path=path)).findings]


def _tree(tmp_path: Path, *lines: str) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "infra.yaml").write_text("".join(lines))
    return root


@pytest.mark.parametrize(("text", "rule_id", "value"), [
    pytest.param('"Resource": "arn:aws:s3:::acme-billing-exports/*"', "aws-arn", "arn:aws:s3:::acme-billing-exports/*",
                 id="s3-arn-without-account"),
    pytest.param('"KeyId": "arn:aws:kms:us-east-1:003084325827:key/84a66985-f968-4bac-82c2-365518adf157"', "aws-arn",
                 "arn:aws:kms:us-east-1:003084325827:key/84a66985-f968-4bac-82c2-365518adf157",
                 id="kms-key-arn-is-an-identifier-not-a-reference"),
    pytest.param("aws_account_id=891511536143", "aws-account-id", "891511536143", id="account-id"),
    pytest.param("https://s3.us-east-2.amazonaws.com/orbit-telemetry-raw/x.csv", "aws-s3-bucket-path-style",
                 "orbit-telemetry-raw", id="s3-path-style"),
    pytest.param("https://orbit-telemetry-raw.s3.amazonaws.com/x.csv", "aws-s3-bucket-virtual-hosted",
                 "orbit-telemetry-raw", id="s3-virtual-hosted"),
    pytest.param("https://storage.googleapis.com/acme-ml-datasets/train.csv", "gcs-bucket-path-style",
                 "acme-ml-datasets", id="gcs-path-style"),
    pytest.param("cid = '607830223128-4qgthc7ofdqce232dk690t5jgkm1ce33.apps.googleusercontent.com'",
                 "google-oauth-client-id", "607830223128-4qgthc7ofdqce232dk690t5jgkm1ce33.apps.googleusercontent.com",
                 id="google-client-id"),
    pytest.param("REACT_APP_AUTH_USERNAME=bowie", "client-exposed-username", "bowie", id="react-app-user"),
])
def test_identifier_is_reported_as_an_identifier(engine: Engine, text: str, rule_id: str, value: str) -> None:
    assert (rule_id, value, Kind.IDENTIFIER) in _found(engine, text)


@pytest.mark.parametrize("text", [
    pytest.param('IAMUserChangePassword = "arn:aws:iam::aws:policy/IAMUserChangePassword"', id="aws-owned-policy"),
    pytest.param('"Principal": {"AWS": "arn:aws:iam::123456789012:root"}', id="aws-docs-example-account"),
    pytest.param('"KeyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
                 id="aws-docs-example-key-arn"),
    pytest.param('return f"arn:aws:s3:::{bucket_name}"', id="format-template"),
    pytest.param('Resource: !Sub "arn:aws:iam::${AWS::AccountId}:role/deployer"', id="cloudformation-sub"),
    pytest.param("https://example-bucket.s3.amazonaws.com/key", id="example-bucket"),
    pytest.param('<Owner xmlns="http://s3.amazonaws.com/doc/2006-03-01/">', id="s3-xml-namespace"),
    pytest.param("REACT_APP_FORGOT_USERNAME=$REACT_APP_BASE_URL/forgot", id="react-app-reference"),
])
def test_not_an_identifier_of_the_owner(engine: Engine, text: str) -> None:
    assert _found(engine, text) == []


def test_identifier_rule_must_have_info_severity() -> None:
    entry = {"id": "acme-arn", "description": "d", "regex": "arn:acme:[a-z]+", "kind": "identifier", "severity": "high"}
    with pytest.raises(RuleError, match="severity info"):
        parse_rule(entry, "custom.yaml")
    assert parse_rule({**entry, "severity": "info"}, "custom.yaml").kind is Kind.IDENTIFIER
    del entry["severity"]
    assert parse_rule(entry, "custom.yaml").severity is Severity.INFO


def test_identifiers_alone_do_not_fail_a_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = leakscan(capsys, "scan", str(_tree(tmp_path, IDENTIFIER_LINE)))
    assert run.code == 0
    assert [(f["rule_id"], f["kind"], f["severity"]) for f in run.findings] == [("aws-arn", "identifier", "info")]


def test_a_secret_next_to_identifiers_fails_the_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = leakscan(capsys, "scan", str(_tree(tmp_path, IDENTIFIER_LINE, SECRET_LINE)))
    assert run.code == 1
    assert sorted(f["kind"] for f in run.findings) == ["identifier", "secret"]


@pytest.mark.parametrize("how", ["flag", "config"])
def test_identifiers_can_be_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    root = _tree(tmp_path, IDENTIFIER_LINE, SECRET_LINE)
    args = ["--no-identifiers"] if how == "flag" else []
    if how == "config":
        (root / ".leakscan.yaml").write_text("options:\n  identifiers: false\n")
    run = leakscan(capsys, "scan", str(root), *args)
    assert [f["rule_id"] for f in run.findings] == ["github-pat"]


def test_flag_wins_over_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, IDENTIFIER_LINE)
    (root / ".leakscan.yaml").write_text("options:\n  identifiers: false\n")
    assert [f["rule_id"] for f in leakscan(capsys, "scan", str(root), "--identifiers").findings] == ["aws-arn"]


def test_min_confidence_filters_identifiers_like_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, "REACT_APP_AUTH_USERNAME=bowie\n", IDENTIFIER_LINE)  # medium and high confidence
    run = leakscan(capsys, "scan", str(root), "--min-confidence", "high")
    assert [f["rule_id"] for f in run.findings] == ["aws-arn"]


def test_identifiers_are_never_verified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = leakscan(capsys, "scan", str(_tree(tmp_path, IDENTIFIER_LINE)), "--verify")
    assert run.code == 0
    assert [f["verification"] for f in run.findings] == [None]
    assert "verifying" not in run.stderr


def test_only_verified_drops_identifiers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = leakscan(capsys, "scan", str(_tree(tmp_path, IDENTIFIER_LINE)), "--verify", "--only-verified")
    assert (run.code, run.findings) == (0, [])


def test_staged_identifiers_never_block_a_commit(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo()
    commit(repo, "base", {"infra.yaml": "a: 1\n"})
    (repo / "infra.yaml").write_text("a: 1\n" + IDENTIFIER_LINE)
    git(repo, "add", "infra.yaml")
    monkeypatch.setenv("PRE_COMMIT", "1")
    run = leakscan(capsys, "staged", str(repo))
    assert (run.code, [f["kind"] for f in run.findings]) == (0, ["identifier"])
    assert "blocked" not in run.stderr


def test_history_identifiers_do_not_fail(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo()
    commit(repo, "add topic", {"infra.yaml": IDENTIFIER_LINE})
    run = leakscan(capsys, "history", str(repo))
    assert (run.code, [f["rule_id"] for f in run.findings]) == (0, ["aws-arn"])


def test_sarif_reports_identifiers_as_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.sarif"
    done = run_cli(capsys, "scan", str(_tree(tmp_path, IDENTIFIER_LINE, SECRET_LINE)), "--format", "sarif", "-o", str(out))
    assert done.code == 1
    run = json.loads(out.read_text())["runs"][0]
    levels = {r["ruleId"]: (r["level"], r["properties"]["kind"]) for r in run["results"]}
    assert levels == {"aws-arn": ("note", "identifier"), "github-pat": ("error", "secret")}
    tags = {d["id"]: d["properties"]["tags"] for d in run["tool"]["driver"]["rules"]}
    assert "identifier" in tags["aws-arn"] and "secret" not in tags["aws-arn"]
    # GitHub would show a rule with a security-severity as a "Low" security alert, not as a note.
    severities = {d["id"]: d["properties"].get("security-severity") for d in run["tool"]["driver"]["rules"]}
    assert severities["aws-arn"] is None and severities["github-pat"] is not None


def _console(engine: Engine, text: str, *, redacted: bool = False) -> str:
    findings = engine.scan(Chunk(data=text.encode(), path="infra.yaml")).findings
    buf = io.StringIO()
    console_report.render(findings, RunInfo(files_scanned=1), Console(file=buf, width=200, no_color=True),
                          redacted=redacted)
    return buf.getvalue()


def test_console_lists_identifiers_after_the_secrets_without_a_fix_line(engine: Engine) -> None:
    text = _console(engine, IDENTIFIER_LINE + SECRET_LINE)
    secrets, rest = text.split("identifiers, not secrets (1)", 1)
    identifiers = rest.split("Findings by rule", 1)[0]
    assert "github-pat" in secrets and "aws-arn" not in secrets
    assert identifiers.strip() == f"infra.yaml:1:15  aws-arn  {ARN}"
    assert text.count("fix: revoke") == 1
    assert "1 leak found (1 identifier listed apart)" in text


def test_console_redacts_identifiers_with_redact(engine: Engine) -> None:
    text = _console(engine, IDENTIFIER_LINE, redacted=True)
    assert ARN not in text and "aws-arn  REDACTED" in text
    assert "no leaks found (1 identifier listed apart)" in text


def test_sarif_identifier_message_does_not_ask_to_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.sarif"
    run_cli(capsys, "scan", str(_tree(tmp_path, IDENTIFIER_LINE, SECRET_LINE)), "--format", "sarif", "-o", str(out))
    messages = {r["ruleId"]: r["message"]["text"] for r in json.loads(out.read_text())["runs"][0]["results"]}
    assert "Revoke or rotate" in messages["github-pat"]
    assert "Revoke" not in messages["aws-arn"] and "not a secret" in messages["aws-arn"]


@pytest.mark.parametrize("severity", ["high", "low"])
def test_config_cannot_raise_an_identifier_rule_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         severity: str) -> None:
    # An identifier at severity high was an "error" SARIF alert from a scan that passes.
    root = _tree(tmp_path, IDENTIFIER_LINE)
    (root / ".leakscan.yaml").write_text(f"rule_overrides:\n  aws-arn:\n    severity: {severity}\n")
    run = leakscan(capsys, "scan", str(root))
    assert run.code == 2
    assert "rule_overrides.aws-arn.severity: an identifier rule has severity info" in run.stderr
    assert "Traceback" not in run.stderr


def test_config_may_keep_an_identifier_rule_at_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, IDENTIFIER_LINE)
    (root / ".leakscan.yaml").write_text("rule_overrides:\n  aws-arn:\n    severity: info\n    confidence: low\n")
    run = leakscan(capsys, "scan", str(root))
    assert (run.code, [(f["rule_id"], f["confidence"]) for f in run.findings]) == (0, [("aws-arn", "low")])


def test_console_hides_a_secret_inside_an_identifier(engine: Engine) -> None:
    text = _console(engine, f"topic: arn:aws:sns:us-west-2:904381276652:alerts/{GITHUB}\n")
    assert "aws-arn  arn:aws:sns:us-west-2:904381276652:alerts/ghp_" in text  # the identifier, shown
    assert GITHUB not in text  # masked like the github-pat finding's own line
