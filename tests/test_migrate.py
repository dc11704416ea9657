"""Migration: a gitleaks config behaves the same under leakscan; .gitleaksignore and detect-secrets
baselines become ignore entries, and whatever cannot be carried over is reported."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from .conftest import git
from .leakscan_run import leakscan

AWS = "AKIAZ5GMHYJKLOPQRS7T"
AWS_ALLOWED = "AKIAY34FZKBOKMUTVV7A"
ACME = "acme_k3j5h7g9f2d4s6a8q1w3e5r7"

GITLEAKS_TOML = """\
title = "acme"
[extend]
useDefault = true
disabledRules = ["generic-api-key", "slack-bot-token"]

[[rules]]
id = "acme_token"
description = "ACME token"
regex = '''acme_([a-z0-9]{24})'''
secretGroup = 1
keywords = ["acme_"]
entropy = 3.0
  [[rules.allowlists]]
  stopwords = ["testtoken"]

[[rules]]
id = "pem-file"
path = '''\\.pem$'''

[allowlist]
description = "global"
paths = ['''(^|/)fixtures/''']
regexes = ['''AKIAY34F[A-Z0-9]+''']

[[allowlists]]
targetRules = ["acme_token"]
regexTarget = "line"
regexes = ['''# nosec''']

[[allowlists]]
condition = "AND"
paths = ['''docs/''']
stopwords = ["sample"]
"""

APP = (
    f'a = "{ACME}"\n'                              # 1: custom rule fires
    f'b = "acme_k3j5h7g9f2d4s6a8q1w3e5r8" # nosec\n'  # 2: targeted line allowlist
    'c = "acme_testtokenk3j5h7g9f2d4s6a"\n'          # 3: rule stopword
    f'k = "{AWS}"\n'                               # 4: default rule (useDefault)
    f'j = "{AWS_ALLOWED}"\n'                       # 5: global secret regex allowlist
    "s = xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd\n"  # 6: disabled default rule
)
# What gitleaks reports for this tree with this config, written out by hand:
EXPECTED = {("app.py", 1, "acme-token"), ("app.py", 4, "aws-access-key-id")}


def _tree(root: Path) -> Path:
    (root / "fixtures").mkdir(parents=True)
    (root / "fixtures" / "a.py").write_text(f'k = "{AWS}"\n')  # global path allowlist
    (root / "app.py").write_text(APP)
    (root / ".gitleaks.toml").write_text(GITLEAKS_TOML)
    return root


def _found(capsys, root: Path, *flags: str) -> set[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    run = leakscan(capsys, "scan", ".", "-f", "json", *flags, cwd=root)
    assert run.code in (0, 1), run.err
    return {(Path(r["path"]).as_posix().removeprefix("./"), r["line"], r["rule_id"]) for r in json.loads(run.out)}


def test_gitleaks_config_read_directly_behaves_like_gitleaks(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path)
    assert _found(capsys, root, "--config", ".gitleaks.toml") == EXPECTED
    run = leakscan(capsys, "scan", ".", "--config", ".gitleaks.toml", "-q", cwd=root)
    assert "warning: .gitleaks.toml: rules[1] (pem-file): rules without a regex" in run.err


def test_migrated_config_behaves_the_same_and_reports_losses(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path)
    run = leakscan(capsys, "migrate", "gitleaks", cwd=root)
    assert run.code == 0, run.err
    assert (root / ".leakscan.yaml").is_file()
    not_carried = [line for line in run.out.splitlines() if "NOT carried" in line]
    assert any("'generic-api-key' is not a leakscan rule id" in line for line in not_carried)
    assert any("pem-file" in line and "path-only" in line for line in not_carried)
    assert any("condition AND" in line for line in not_carried)
    assert len(not_carried) == 3
    assert _found(capsys, root) == EXPECTED
    again = leakscan(capsys, "migrate", "gitleaks", cwd=root)
    assert again.code == 2 and "exists" in again.err


def test_gitleaks_config_without_extend_replaces_defaults(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "g.toml").write_text("[[rules]]\nid = 'acme'\nregex = '''acme_[a-z0-9]{24}'''\n")
    assert _found(capsys, tmp_path, "--config", "g.toml") == {("app.py", 1, "acme"), ("app.py", 2, "acme"),
                                                              ("app.py", 3, "acme")}


def test_gitleaks_extend_path_is_followed(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "base.toml").write_text("[extend]\nuseDefault = true\n")
    (tmp_path / "g.toml").write_text("[extend]\npath = 'base.toml'\ndisabledRules = ['aws-access-key-id']\n")
    assert {r for _p, _l, r in _found(capsys, tmp_path, "--config", "g.toml")} == {"slack-bot-token"}


@pytest.mark.parametrize(
    ("toml", "message"),
    [("[[rules]\n", "invalid TOML"), ("[[rules]]\nid = 'x'\nregex = 'a{9}'\nsecretGroup = 'one'\n", "secretGroup"),
     ("[[rules]]\nid = 'x'\nregex = 'a{9}'\nkeywords = 'a'\n", "keywords must be an array"),
     ("[allowlist]\nregexTarget = 'file'\nregexes = ['x']\n", "regexTarget must be")],
    ids=["syntax", "secret-group-type", "keywords-type", "regex-target"],
)
def test_bad_gitleaks_config_is_a_usage_error(tmp_path: Path, capsys, toml: str, message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "g.toml").write_text(toml)
    run = leakscan(capsys, "scan", str(tmp_path), "--config", str(tmp_path / "g.toml"))
    assert run.code == 2 and run.err.startswith("error: ") and message in run.err, run.err


def test_gitleaksignore_maps_working_tree_and_commit_entries(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    (repo / "old.py").write_text(f"\n\nkey = '{AWS_ALLOWED}'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "old")
    sha = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app.py").write_text(f"x = 1\nkey = '{AWS}'\n")
    (repo / ".gitleaksignore").write_text(
        f"app.py:aws-access-token:2\n{sha}:old.py:aws-access-token:3\napp.py:aws-access-token:1\ngarbage\n")
    run = leakscan(capsys, "migrate", "gitleaks", cwd=repo)
    assert run.code == 0, run.err
    assert "carried over 2, not carried over 2" in run.out
    assert "no leakscan finding at app.py:1" in run.out and "not a gitleaks fingerprint" in run.out
    lines = (repo / ".leakscanignore").read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [
        [hashlib.sha256(f"aws-access-key-id\0{AWS}".encode()).hexdigest()[:32], "app.py"],
        [hashlib.sha256(f"aws-access-key-id\0{AWS_ALLOWED}".encode()).hexdigest()[:32], "old.py"]]
    assert AWS not in run.out + "".join(lines)
    (repo / "app.py").write_text("# moved\n" + (repo / "app.py").read_text())
    assert _found(capsys, repo) == set()


def test_detect_secrets_baseline_maps_by_secret_hash(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "app.py").write_text(f'k = "{AWS}"\npassword = "changeme"\n')
    sha1 = hashlib.sha1(AWS.encode()).hexdigest()
    baseline = {
        "version": "1.5.0", "plugins_used": [], "filters_used": [], "generated_at": "2026-01-01T00:00:00Z",
        "results": {"app.py": [
            {"type": "AWS Access Key", "filename": "app.py", "hashed_secret": sha1, "is_verified": False,
             "line_number": 1, "is_secret": False},
            {"type": "Secret Keyword", "filename": "app.py",
             "hashed_secret": hashlib.sha1(b"changeme").hexdigest(), "is_verified": False, "line_number": 2},
        ], "gone.py": [{"type": "AWS Access Key", "filename": "gone.py", "hashed_secret": sha1, "line_number": 9}]},
    }
    (tmp_path / ".secrets.baseline").write_text(json.dumps(baseline))
    assert _found(capsys, tmp_path) == {("app.py", 1, "aws-access-key-id")}
    run = leakscan(capsys, "migrate", "detect-secrets", cwd=tmp_path)
    assert run.code == 0, run.err
    assert "carried over 1, not carried over 2" in run.out
    assert "gone.py:9 (AWS Access Key): file cannot be read" in run.out
    assert "app.py:2 (Secret Keyword): no leakscan finding with that secret" in run.out
    assert "audited: false positive" in (tmp_path / ".leakscanignore").read_text()
    assert _found(capsys, tmp_path) == set()
    (tmp_path / "app.py").write_text(f'k = "{AWS}"\nk2 = "{AWS_ALLOWED}"\n')  # a new secret still shows
    assert _found(capsys, tmp_path) == {("app.py", 2, "aws-access-key-id")}
