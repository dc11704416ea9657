"""`.leakscanignore` and baselines on real files and git repositories: edits, renames, new secrets."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.model import value_fingerprint

from .conftest import git
from .leakscan_run import leakscan

OLD = "AKIAZ5GMHYJKLOPQRS7T"
NEW = "AKIAY34FZKBOKMUTVV7A"
OTHER = "AKIAQW3RT5YU7IOPLK2J"
FP_OLD = value_fingerprint("aws-access-key-id", OLD)


def _findings(capsys: pytest.CaptureFixture[str], *args: str, cwd: Path | None = None) -> tuple[int, list[dict]]:  # type: ignore[type-arg]
    run = leakscan(capsys, "scan", *args, "-f", "json", cwd=cwd)
    assert run.code in (0, 1), run.err
    return run.code, json.loads(run.out)


def _repo_with_secret(make_repo) -> Path:  # type: ignore[no-untyped-def]
    repo: Path = make_repo()
    (repo / "app").mkdir()
    (repo / "app" / "settings.py").write_text(f'DEBUG = True\nAWS_KEY = "{OLD}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def test_ignored_secret_stays_ignored_after_edit_above_and_rename(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    run = leakscan(capsys, "ignore", "add", FP_OLD, "--reason", "test fixture key", cwd=repo)
    assert run.code == 0, run.err
    assert _findings(capsys, ".", cwd=repo) == (0, [])
    settings = repo / "app" / "settings.py"
    settings.write_text("import os\n\n# many new lines\n" + settings.read_text())
    git(repo, "commit", "-qam", "edit above")
    assert _findings(capsys, ".", cwd=repo) == (0, [])
    git(repo, "mv", "app/settings.py", "app/config.py")
    git(repo, "commit", "-qm", "rename")
    assert _findings(capsys, ".", cwd=repo) == (0, [])


def test_different_secret_on_ignored_line_is_reported(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    (repo / ".leakscanignore").write_text(f"{FP_OLD}  # rotated, kept for docs\n")
    settings = repo / "app" / "settings.py"
    settings.write_text(settings.read_text().replace(OLD, NEW))
    code, rows = _findings(capsys, ".", cwd=repo)
    assert code == 1
    assert [(r["line"], r["fingerprint"]) for r in rows] == [(2, value_fingerprint("aws-access-key-id", NEW))]


def test_path_tied_entry_covers_only_that_path(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "example.md").write_text(f"key: {OLD}\n")
    (tmp_path / "app.py").write_text(f"key = '{OLD}'\n")
    (tmp_path / ".leakscanignore").write_text(f"{FP_OLD} docs/*.md  # documentation sample\n")
    code, rows = _findings(capsys, str(tmp_path))
    assert code == 1
    assert [Path(r["path"]).name for r in rows] == ["app.py"]


def test_report_unused_ignores_names_stale_entries(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    stale = value_fingerprint("aws-access-key-id", OTHER)
    (tmp_path / ".leakscanignore").write_text(f"# header\n{FP_OLD}\n{stale}  # gone\n")
    (tmp_path / "a.py").write_text(f"k = '{OLD}'\n")
    run = leakscan(capsys, "scan", str(tmp_path), "--report-unused-ignores")
    assert run.code == 0
    assert f".leakscanignore:3: {stale}" in run.err
    assert FP_OLD not in run.err
    assert OLD not in run.err + run.out


@pytest.mark.parametrize("left_out_by", [["--no-identifiers"], ["--min-confidence", "high"]],
                         ids=["no-identifiers", "min-confidence"])
def test_an_entry_for_a_finding_the_output_leaves_out_is_not_unused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], left_out_by: list[str]) -> None:
    # Reported unused, the entry would be deleted, and its finding back when the option is dropped.
    arn = "arn:aws:sns:us-west-2:904381276652:CloudwatchMetricAlarm"  # an identifier, confidence high
    user = "bowie"  # client-exposed-username: an identifier, confidence medium
    entries = [value_fingerprint("aws-arn", arn), value_fingerprint("client-exposed-username", user)]
    (tmp_path / ".leakscanignore").write_text("".join(f"{e}\n" for e in entries))
    (tmp_path / "infra.yaml").write_text(f'topic: "{arn}"\nREACT_APP_AUTH_USERNAME={user}\n')
    assert leakscan(capsys, "scan", str(tmp_path), "--report-unused-ignores").err == ""  # both in use
    run = leakscan(capsys, "scan", str(tmp_path), "--report-unused-ignores", *left_out_by)
    assert run.code == 0
    assert "unused ignore" not in run.err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (OLD + "\n", "not a leakscan fingerprint"),
        (f"{FP_OLD} a.py b.py\n", "expected FINGERPRINT [PATH]"),
        ("app.py:aws-access-key-id:2\n", "not a leakscan fingerprint"),
    ],
    ids=["secret-in-clear", "two-paths", "gitleaks-style-line-entry"],
)
def test_bad_ignore_file_is_a_usage_error(tmp_path: Path, capsys, content: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".leakscanignore").write_text("# ok\n" + content)
    run = leakscan(capsys, "scan", str(tmp_path))
    assert run.code == 2
    assert run.err.startswith("error: ") and ".leakscanignore:2: " in run.err and problem in run.err
    assert OLD not in run.err


def test_ignore_add_refuses_a_secret(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = leakscan(capsys, "ignore", "add", OLD, "--reason", "x", cwd=tmp_path)
    assert run.code == 2
    assert not (tmp_path / ".leakscanignore").exists()
    assert OLD not in run.err


def test_ignore_add_appends_with_path_and_reason(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".leakscanignore").write_text("# existing, no newline at end")
    run = leakscan(capsys, "ignore", "add", FP_OLD.upper(), "--path", "docs/**", "--reason", "sample  key",
                   cwd=tmp_path)
    assert run.code == 0
    assert (tmp_path / ".leakscanignore").read_text().splitlines() == [
        "# existing, no newline at end", f"{FP_OLD} docs/**  # sample key"]


# -- baselines ---------------------------------------------------------------------------------------


def test_baseline_stops_old_findings_and_lets_new_ones_through(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    run = leakscan(capsys, "baseline", "create", "-o", ".leakscan-baseline.json", cwd=repo)
    assert run.code == 0, run.err
    assert _findings(capsys, ".", "--baseline", ".leakscan-baseline.json", cwd=repo) == (0, [])
    (repo / "app" / "new.py").write_text(f"TOKEN = '{NEW}'\n")
    settings = repo / "app" / "settings.py"
    settings.write_text("# moved down\n" + settings.read_text())
    code, rows = _findings(capsys, ".", "--baseline", ".leakscan-baseline.json", cwd=repo)
    assert code == 1
    assert [(r["path"], r["line"]) for r in rows] == [("./app/new.py", 1)]


def test_baseline_is_sorted_line_independent_secret_free_and_stable(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    (repo / "b.env").write_text(f"A={NEW}\nB={OTHER}\n")
    assert leakscan(capsys, "baseline", "create", "-o", "one.json", cwd=repo).code == 0
    settings = repo / "app" / "settings.py"
    settings.write_text("\n\n\n" + settings.read_text())  # lines move; the baseline must not change
    assert leakscan(capsys, "baseline", "create", "-o", "two.json", cwd=repo).code == 0
    one, two = (repo / "one.json").read_bytes(), (repo / "two.json").read_bytes()
    assert one == two
    text = one.decode()
    for secret in (OLD, NEW, OTHER):
        assert secret not in text
    rows = json.loads(text)["findings"]
    assert rows == sorted(rows, key=lambda r: (r["path"], r["rule_id"], r["fingerprint"]))
    assert [r["path"] for r in rows] == ["app/settings.py", "b.env", "b.env"]
    assert "line" not in text and "date" not in text and "time" not in text


def test_baseline_from_another_directory_uses_root_relative_paths(make_repo, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    out = tmp_path / "base.json"
    assert leakscan(capsys, "baseline", "create", str(repo), "-o", str(out)).code == 0
    assert [r["path"] for r in json.loads(out.read_text())["findings"]] == ["app/settings.py"]
    assert _findings(capsys, ".", "--baseline", str(out), cwd=repo) == (0, [])


def test_baseline_update_prunes_entries_that_no_longer_match(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    (repo / "b.env").write_text(f"A={NEW}\n")
    assert leakscan(capsys, "baseline", "create", cwd=repo).code == 0
    (repo / "b.env").unlink()
    (repo / "c.env").write_text(f"C={OTHER}\n")
    run = leakscan(capsys, "baseline", "update", cwd=repo)
    assert run.code == 0, run.err
    rows = json.loads((repo / ".leakscan-baseline.json").read_text())["findings"]
    assert [r["path"] for r in rows] == ["app/settings.py"]  # pruned b.env; update never adds c.env


def test_baseline_update_keeps_entries_of_findings_the_output_leaves_out(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = _repo_with_secret(make_repo)
    (repo / "infra.yaml").write_text('topic: "arn:aws:sns:us-west-2:904381276652:CloudwatchMetricAlarm"\n')
    assert leakscan(capsys, "baseline", "create", cwd=repo).code == 0
    before = json.loads((repo / ".leakscan-baseline.json").read_text())["findings"]
    assert sorted(r["rule_id"] for r in before) == ["aws-access-key-id", "aws-arn"]
    (repo / ".leakscan.yaml").write_text("version: 1\noptions:\n  identifiers: false\n")
    assert leakscan(capsys, "baseline", "update", cwd=repo).code == 0
    after = json.loads((repo / ".leakscan-baseline.json").read_text())["findings"]
    assert after == before  # the ARN is still there; only the report leaves it out


@pytest.mark.parametrize(
    ("content", "problem"),
    [("{", "not valid JSON"), ('{"tool": "gitleaks"}', "not a leakscan baseline"),
     ('{"tool": "leakscan", "version": 1, "findings": [{"fingerprint": "x"}]}', "findings[0]")],
    ids=["broken-json", "foreign-file", "bad-entry"],
)
def test_bad_baseline_is_a_usage_error(tmp_path: Path, capsys, content: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b.json").write_text(content)
    run = leakscan(capsys, "scan", str(tmp_path), "--baseline", str(tmp_path / "b.json"))
    assert run.code == 2 and problem in run.err


def test_missing_baseline_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = leakscan(capsys, "scan", str(tmp_path), "--baseline", str(tmp_path / "nope.json"))
    assert run.code == 2 and "baseline not found" in run.err


def test_ignore_add_at_file_line_adds_that_lines_findings(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "app.py").write_text(f"x = 1\nk = '{OLD}'  # and '{NEW}'\nj = '{OTHER}'\n")
    run = leakscan(capsys, "ignore", "add", "--at", "app.py:2", "--reason", "doc keys", cwd=tmp_path)
    assert run.code == 0, run.err
    lines = (tmp_path / ".leakscanignore").read_text().splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(
        [FP_OLD, value_fingerprint("aws-access-key-id", NEW)])
    assert all(line.endswith("# doc keys (aws-access-key-id)") for line in lines)
    assert OLD not in run.err + run.out
    assert [r["line"] for r in _findings(capsys, ".", cwd=tmp_path)[1]] == [3]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [(["--at", "app.py:1"], "no finding on that line"), (["--at", "nope.py:1"], "cannot be read"),
     (["--at", "app.py"], "FILE:LINE"), ([FP_OLD, "--at", "app.py:1"], "either a FINGERPRINT or --at"),
     ([], "either a FINGERPRINT or --at")],
    ids=["empty-line", "missing-file", "no-line", "both", "neither"],
)
def test_ignore_add_at_errors(tmp_path: Path, capsys, argv: list[str], problem: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "app.py").write_text(f"x = 1\nk = '{OLD}'\n")
    run = leakscan(capsys, "ignore", "add", *argv, "--reason", "r", cwd=tmp_path)
    assert run.code == 2 and problem in run.err
    assert not (tmp_path / ".leakscanignore").exists()
