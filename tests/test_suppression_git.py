"""Suppression in `history` and `staged`: the same config, markers, ignore file and baselines as `scan`."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from scanner.model import value_fingerprint
from tests.conftest import git
from tests.gitrepo import AWS, GITHUB, commit, leakscan

from .leakscan_run import leakscan as run_cli

MakeRepo = Callable[..., Path]
NEW = "AKIAY34FZKBOKMUTVV7A"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def test_history_baseline_stops_old_findings_and_lets_new_ones_through(make_repo: MakeRepo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    commit(repo, "old", {"app.py": f"k = '{AWS}'\n"})
    commit(repo, "gone", {"app.py": "k = None\n"})
    created = run_cli(capsys, "baseline", "create", str(repo), "--history", "-o", str(repo / "base.json"))
    assert created.code == 0, created.err
    rows = json.loads((repo / "base.json").read_text())["findings"]
    assert rows == [{"fingerprint": value_fingerprint("aws-access-key-id", AWS), "path": "app.py",
                     "rule_id": "aws-access-key-id"}]
    assert leakscan(capsys, "history", str(repo), "--baseline", str(repo / "base.json")).code == 0
    added = commit(repo, "new", {"lib.py": f"t = '{GITHUB}'\n", "app.py": f"# moved\nk = '{AWS}'\n"})
    run = leakscan(capsys, "history", str(repo), "--baseline", str(repo / "base.json"))
    assert run.code == 1
    assert [(f["path"], f["commit"]) for f in run.findings] == [("lib.py", added)]


def test_history_honours_markers_and_ignore_file(make_repo: MakeRepo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    commit(repo, "keys", {"id_rsa": "# leakscan:allow-next-line\n" + PEM, "a.py": f"k = '{AWS}'  # gitleaks:allow\n",
                          "b.py": f"n = '{NEW}'\n",
                          ".leakscanignore": value_fingerprint("aws-access-key-id", NEW) + "  # test key\n"})
    assert leakscan(capsys, "history", str(repo)).findings == []
    run = leakscan(capsys, "history", str(repo), "--no-inline-markers")
    assert sorted(f["path"] for f in run.findings) == ["a.py", "id_rsa"]


def test_staged_honours_config_ignore_file_and_markers(make_repo: MakeRepo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    commit(repo, "init", {".leakscan.yaml": "disabled_rules: [github-pat]\n",
                          ".leakscanignore": value_fingerprint("aws-access-key-id", NEW) + "\n"})
    (repo / "a.py").write_text(f"g = '{GITHUB}'\nn = '{NEW}'\n# leakscan:allow-next-line\nk = '{AWS}'\n")
    git(repo, "add", "a.py")
    assert leakscan(capsys, "staged", str(repo)).code == 0
    run = leakscan(capsys, "staged", str(repo), "--no-inline-markers")
    assert [(f["path"], f["line"]) for f in run.findings] == [("a.py", 4)]


def test_history_skips_allowlisted_commits(make_repo: MakeRepo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    first = commit(repo, "vendored fixture", {"fixture.py": f"k = '{AWS}'\n"})
    later = commit(repo, "real leak", {"app.py": f"n = '{NEW}'\n"})
    (repo / "cfg.yaml").write_text(f"allowlist:\n  commits: ['{first[:10]}']\n")
    run = leakscan(capsys, "history", str(repo), "--config", str(repo / "cfg.yaml"))
    assert [(f["path"], f["commit"]) for f in run.findings] == [("app.py", later)]
