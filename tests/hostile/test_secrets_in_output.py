"""Secrets in output: with --redact, and in SARIF always, no planted secret appears in any byte of output."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.model import Chunk
from scanner.ruleset import build_spec, default_rules

from ..conftest import git
from .helpers import leakscan

FORMATS = ("console", "json", "jsonl", "sarif")


def _plants() -> list[tuple[str, str, str]]:
    """(rule id, example line, secret) for 20 rules of different families, from the rules' own examples."""
    rules = default_rules()
    engine = Engine(build_spec(rules, decode_depth=2))  # as the CLI scans by default
    found = []
    for rule in rules:
        for example in rule.examples:
            hits = [f for f in engine.scan(Chunk(data=f"{example}\n".encode(), path="x.txt")).findings
                    if f.rule_id == rule.id]
            if hits and len(hits[0].secret) >= 16 and "\n" not in hits[0].secret:
                found.append((rule.id, example, hits[0].secret))
                break
    step = max(1, len(found) // 20)
    plants = found[::step][:20]
    assert len({p[0] for p in plants}) == 20 and len({p[2] for p in plants}) == 20
    return plants


PLANTS = _plants()


def _leaks(blob: bytes) -> list[str]:
    """Rule ids whose secret, or the second half of it, appears anywhere in ``blob``."""
    text = blob.decode("utf-8", "replace")
    return [rule for rule, _ex, secret in PLANTS if secret in text or secret[len(secret) // 2 :] in text]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    for i, (rule, example, _secret) in enumerate(PLANTS):
        (root / f"{i:02}-{rule}.txt").write_text(f"# {rule}\n{example}\n")
    return root


def _check(done_out: bytes, done_err: bytes, report: Path | None = None) -> None:
    assert _leaks(done_out) == [] and _leaks(done_err) == []
    if report is not None:
        assert _leaks(report.read_bytes()) == []


def test_the_plants_are_all_found(planted: Path) -> None:
    done = leakscan("scan", str(planted), "-f", "json")
    assert {r["rule_id"] for r in done.rows()} >= {rule for rule, _e, _s in PLANTS}
    assert set(_leaks(done.stdout)) == {rule for rule, _e, _s in PLANTS}  # the check can see them


@pytest.mark.parametrize("fmt", FORMATS)
def test_redact_removes_every_secret_from_every_output(planted: Path, tmp_path: Path, fmt: str) -> None:
    done = leakscan("scan", str(planted), "-f", fmt, "--redact", "-vv")
    assert done.returncode == 1, done.err
    _check(done.stdout, done.stderr)
    report = tmp_path / f"report.{fmt}"
    to_file = leakscan("scan", str(planted), "-f", fmt, "--redact", "-v", "-o", str(report))
    assert to_file.returncode == 1
    _check(to_file.stdout, to_file.stderr, report)


def test_sarif_never_holds_a_secret_even_without_redact(planted: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.sarif"
    done = leakscan("scan", str(planted), "-f", "sarif", "-v", "-o", str(report))
    assert done.returncode == 1
    _check(done.stdout, done.stderr, report)


def test_console_masks_secrets_and_stderr_never_holds_one(planted: Path) -> None:
    done = leakscan("scan", str(planted), "-vv")
    assert done.returncode == 1
    _check(done.stdout, done.stderr)


@pytest.mark.parametrize("command", ["history", "staged"])
def test_git_commands_redact_every_format(planted: Path, tmp_path: Path, command: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for src in sorted(planted.iterdir()):
        (repo / src.name).write_bytes(src.read_bytes())
    git(repo, "add", ".")
    if command == "history":
        git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "add config")
    for fmt in FORMATS:
        done = leakscan(command, str(repo), "-f", fmt, "--redact", "-vv", cwd=repo)
        assert done.returncode == 1, (fmt, done.err)
        _check(done.stdout, done.stderr)
