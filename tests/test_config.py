"""`.leakscan.yaml`: discovery, rules, allowlists, options, strict validation, `config show`, `rules`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import git
from .leakscan_run import leakscan

AWS = "AKIAZ5GMHYJKLOPQRS7T"
AWS2 = "AKIAY34FZKBOKMUTVV7A"
GHP = "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"
CUSTOM_RULE = """\
rules:
  - id: acme-token
    description: ACME internal token
    severity: medium
    regex: '\\b(acme_[a-z0-9]{24})\\b'
    keywords: [acme_]
"""
ACME = "acme_k3j5h7g9f2d4s6a8q1w3e5r7"


def _rows(capsys, root: Path, *flags: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    run = leakscan(capsys, "scan", str(root), "-f", "json", *flags)
    assert run.code in (0, 1), run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def _tree(tmp_path: Path, config: str | None, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if config is not None:
        (tmp_path / ".leakscan.yaml").write_text(config)
    return tmp_path


def _ids(rows: list[dict]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((Path(r["path"]).name, r["rule_id"]) for r in rows)


def test_custom_rule_extends_defaults(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path, CUSTOM_RULE, {"a.py": f"t = '{ACME}'\nk = '{AWS}'\n"})
    rows = _rows(capsys, root)
    assert _ids(rows) == [("a.py", "acme-token"), ("a.py", "aws-access-key-id")]
    assert next(r for r in rows if r["rule_id"] == "acme-token")["severity"] == "medium"


def test_custom_rule_anchors_mean_line_edges(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # Files reach the engine as windows of lines: a bare ^ must not mean "the window's first line".
    config = CUSTOM_RULE.replace("'\\b(acme_[a-z0-9]{24})\\b'", "'^acme_key: (acme_[a-z0-9]{24})$'")
    assert config != CUSTOM_RULE
    body = "".join(f"line{i} = {i}\n" for i in range(40)) + f"acme_key: {ACME}\n" + "tail = 1\n"
    rows = _rows(capsys, _tree(tmp_path, config, {"a.yaml": body}))
    assert [(r["rule_id"], r["line"]) for r in rows] == [("acme-token", 41)]


def test_use_default_rules_false_replaces_defaults(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path, "use_default_rules: false\n" + CUSTOM_RULE, {"a.py": f"t = '{ACME}'\nk = '{AWS}'\n"})
    assert _ids(_rows(capsys, root)) == [("a.py", "acme-token")]


def test_disabled_rule_is_not_run(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path, "disabled_rules: [aws-access-key-id]\n", {"a.py": f"k = '{AWS}'\ng = '{GHP}'\n"})
    assert _ids(_rows(capsys, root)) == [("a.py", "github-pat")]


def test_override_changes_severity_entropy_and_allowlist(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = """\
rule_overrides:
  github-pat:
    severity: low
  aws-access-key-id:
    allowlists:
      - regexes: ['^AKIAY34F']
"""
    root = _tree(tmp_path, config, {"a.py": f"k = '{AWS}'\nj = '{AWS2}'\ng = '{GHP}'\n"})
    rows = _rows(capsys, root)
    assert [(r["rule_id"], r["line"], r["severity"]) for r in rows] == [
        ("aws-access-key-id", 1, "high"), ("github-pat", 3, "low")]
    high_floor = "rule_overrides:\n  aws-access-key-id:\n    entropy: 7.9\n"
    (root / ".leakscan.yaml").write_text(high_floor)
    assert _ids(_rows(capsys, root)) == [("a.py", "github-pat")]


@pytest.mark.parametrize(
    ("allowlist", "kept_lines"),
    [
        ("paths: ['fixtures/**']", [1]),
        ("paths: ['*.md']", [1, 2]),
        ("path_regexes: ['fixtures/']", [1]),
        (f"regexes: ['{AWS2}']", [1]),
        ("regexes: ['^j = ']\n  regex_target: line", [1]),
        ("regexes: ['^AKIAY']\n  regex_target: match", [1]),
        ("stopwords: ['y34f']", [1]),
    ],
    ids=["path-glob-dir", "path-glob-nomatch", "path-regex", "secret-regex", "line-regex", "match-regex", "stopword"],
)
def test_global_allowlist(tmp_path: Path, capsys, allowlist: str, kept_lines: list[int]) -> None:  # type: ignore[no-untyped-def]
    files = {"src/a.py": f"k = '{AWS}'\n", "fixtures/b.py": f"j = '{AWS2}'\n"}
    root = _tree(tmp_path, f"allowlist:\n  {allowlist}\n", files)
    rows = _rows(capsys, root)
    lines = sorted({"a.py": 1, "b.py": 2}[Path(r["path"]).name] for r in rows)
    assert lines == kept_lines


def test_allowlisted_commit_is_skipped_in_engine(rules) -> None:  # type: ignore[no-untyped-def]
    from scanner.config import parse_config, resolve_rules
    from scanner.engine import Engine
    from scanner.model import Chunk, CommitInfo
    from scanner.ruleset import build_spec

    config = parse_config({"allowlist": {"commits": ["ABC123"]}}, "c.yaml", rules, {})
    engine = Engine(build_spec(resolve_rules(config, rules), config.allowlists))
    data = f"k = {AWS}\n".encode()
    assert engine.scan(Chunk(data=data, path="a", commit=CommitInfo("abc123"))).findings == []
    assert len(engine.scan(Chunk(data=data, path="a", commit=CommitInfo("def456"))).findings) == 1


def test_config_options_apply_unless_flag_given(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path, "options:\n  max_file_size: 1KB\n  scan_binaries: true\n  jobs: 1\n",
                 {"big.txt": f"k = {AWS}\n" + "x" * 2000, "blob.bin": f"\x00\x01{AWS2}\x00"})
    assert _ids(_rows(capsys, root)) == [("blob.bin", "aws-access-key-id")]
    assert _ids(_rows(capsys, root, "--max-file-size", "1MB")) == [
        ("big.txt", "aws-access-key-id"), ("blob.bin", "aws-access-key-id")]


def test_config_found_at_repository_top_when_scanning_a_subdirectory(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    _tree(repo, "disabled_rules: [aws-access-key-id]\n", {"sub/a.py": f"k = '{AWS}'\n"})
    git(repo, "add", "-A")
    assert _rows(capsys, repo / "sub") == []


def test_explicit_config_wins_over_discovered(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path / "t", "disabled_rules: [aws-access-key-id]\n", {"a.py": f"k = '{AWS}'\n"})
    other = tmp_path / "other.yaml"
    other.write_text("version: 1\n")
    assert len(_rows(capsys, root, "--config", str(other))) == 1


BAD_CONFIGS = {
    "unknown-top-key": ("rulez: []\n", ":1: rulez: unknown key"),
    "not-a-mapping": ("- a\n", ":1: (top level): a config file is a mapping"),
    "yaml-syntax": ("allowlist:\n  paths: [a\n", ".leakscan.yaml:3:"),
    "duplicate-key": ("jobs: 1\noptions: {}\noptions: {}\n", ":3: options: duplicate key"),
    "bad-version": ("version: 2\n", ":1: version: only version 1"),
    "use-default-not-bool": ("use_default_rules: 'yes'\n", ":1: use_default_rules: must be true or false"),
    "rules-not-list": ("rules: {id: x}\n", ":1: rules: must be a list"),
    "rule-missing-key": ("rules:\n  - id: x\n    regex: 'x{9}'\n", ":2: rule 'x': missing key 'description'"),
    "rule-bad-regex": ("rules:\n  - id: x\n    description: d\n    regex: '(unclosed'\n", ":2: rule 'x': regex:"),
    "rule-verify-forbidden": ("rules:\n  - id: x\n    description: d\n    regex: 'x{9}'\n    verify: {url: x}\n",
                              ":5: rules[0].verify: verify is not allowed"),
    "rule-shadows-builtin": ("rules:\n  - id: github-pat\n    description: d\n    regex: 'x{9}'\n",
                             ":2: rules[0]: rule id 'github-pat' is a built-in rule"),
    "disabled-unknown-rule": ("disabled_rules:\n  - nope\n", ":2: disabled_rules[0]: unknown rule id 'nope'"),
    "disabled-not-list": ("disabled_rules: nope\n", ":1: disabled_rules: must be a list"),
    "override-unknown-rule": ("rule_overrides:\n  nope: {severity: low}\n", ":2: rule_overrides.nope: unknown rule id"),
    "override-unknown-key": ("rule_overrides:\n  github-pat:\n    regex: x\n", ":3: rule_overrides.github-pat.regex: unknown key"),
    "override-bad-severity": ("rule_overrides:\n  github-pat:\n    severity: huge\n",
                              ":3: rule_overrides.github-pat.severity: must be one of critical"),
    "override-bad-entropy": ("rule_overrides:\n  github-pat:\n    entropy: 9\n", ":3: rule_overrides.github-pat.entropy: must be a number"),
    "allowlist-bad-regex": ("allowlist:\n  regexes:\n    - 'ok'\n    - '(['\n", ":4: allowlist.regexes[1]: bad regex"),
    "allowlist-bad-target": ("allowlist:\n  regexes: [x]\n  regex_target: file\n", ":3: allowlist.regex_target: must be one of"),
    "allowlist-empty": ("allowlist:\n  description: nothing\n", ":1: allowlist: an allowlist needs at least one"),
    "allowlist-paths-not-strings": ("allowlists:\n  - paths: [1]\n", ":2: allowlists[0].paths[0]: must be a non-empty string"),
    "option-unknown": ("options:\n  threads: 2\n", ":2: options.threads: unknown key"),
    "option-bad-size": ("options:\n  max_file_size: lots\n", ":2: options.max_file_size: must be a size"),
    "option-bad-jobs": ("options:\n  jobs: -1\n", ":2: options.jobs: must be a whole number"),
    "option-bad-binaries": ("options:\n  scan_binaries: 1\n", ":2: options.scan_binaries: must be true or false"),
    "markers-not-bool": ("inline_markers: off-ish\n", ":1: inline_markers: must be true or false"),
}


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_is_a_one_line_usage_error(tmp_path: Path, capsys, config: str, message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".leakscan.yaml").write_text(config)
    run = leakscan(capsys, "scan", str(tmp_path))
    assert run.code == 2
    assert run.err.startswith("error: ") and run.err.count("\n") == 1, run.err
    assert ".leakscan.yaml" in run.err and message in run.err, run.err
    assert "Traceback" not in run.err


def test_bad_config_fails_every_config_aware_command(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".leakscan.yaml").write_text("nope: 1\n")
    for argv in (["config", "show", str(tmp_path)], ["rules", "list", str(tmp_path)],
                 ["baseline", "create", str(tmp_path), "-o", str(tmp_path / "b.json")]):
        run = leakscan(capsys, *argv)
        assert run.code == 2 and "nope: unknown key" in run.err, argv


def test_missing_explicit_config_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run = leakscan(capsys, "scan", str(tmp_path), "--config", str(tmp_path / "none.yaml"))
    assert run.code == 2 and "config file not found" in run.err


# -- config show, rules list, rules show ---------------------------------------------------------------


def test_config_show_prints_resolved_config(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = CUSTOM_RULE + "disabled_rules: [slack-bot-token]\nallowlist:\n  paths: ['tests/**']\noptions:\n  jobs: 2\n"
    root = _tree(tmp_path, config, {".leakscanignore": "0123456789abcdef0123456789abcdef  # x\n"})
    run = leakscan(capsys, "config", "show", str(root))
    assert run.code == 0, run.err
    doc = yaml.safe_load(run.out)
    assert doc["source"].endswith(".leakscan.yaml")
    assert doc["rules"]["custom"] == ["acme-token"]
    assert doc["rules"]["disabled"] == ["slack-bot-token"]
    assert "slack-bot-token" in doc["rules"]["builtin_inactive"]
    assert doc["options"]["jobs"] == 2
    assert doc["allowlists"][0]["path_regexes"][0].startswith("(?:^|/)tests/")
    assert doc["inline_markers"]["enabled"] is True and "gitleaks:allow" in doc["inline_markers"]["same_line"]
    assert doc["ignore_file"]["entries"] == 1
    as_json = json.loads(leakscan(capsys, "config", "show", str(root), "--format", "json").out)
    assert as_json == doc


def test_config_show_without_config_shows_defaults(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(leakscan(capsys, "config", "show", str(tmp_path)).out)
    assert doc["source"] is None and doc["use_default_rules"] is True and doc["rules"]["custom"] == []


def test_rules_list_includes_custom_and_drops_disabled(tmp_path: Path, capsys, rules) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path, CUSTOM_RULE + "disabled_rules: [github-pat]\n", {})
    run = leakscan(capsys, "rules", "list", str(root), "--format", "json")
    rows = {r["id"]: r for r in json.loads(run.out)}
    assert rows["acme-token"]["origin"] == "config" and rows["acme-token"]["severity"] == "medium"
    assert "github-pat" not in rows
    assert set(rows) == {r.id for r in rules} - {"github-pat"} | {"acme-token"}
    text = leakscan(capsys, "rules", "list", str(root)).out.splitlines()
    assert text[0].split() == ["ID", "SEVERITY", "CONFIDENCE", "ORIGIN", "DESCRIPTION"]
    assert any(line.split()[:4] == ["acme-token", "medium", "medium", "config"] for line in text[1:])


def test_rules_show_describes_rule_with_overrides(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = _tree(tmp_path, "rule_overrides:\n  aws-access-key-id: {severity: low, entropy: 3.5}\n", {})
    run = leakscan(capsys, "rules", "show", "aws-access-key-id", str(root))
    doc = yaml.safe_load(run.out)
    assert doc["id"] == "aws-access-key-id" and doc["origin"] == "builtin"
    assert doc["severity"] == "low" and doc["entropy"] == 3.5
    assert "AKIA" in doc["regex"] and "akia" in doc["keywords"]


def test_rules_show_unknown_rule(capsys) -> None:  # type: ignore[no-untyped-def]
    run = leakscan(capsys, "rules", "show", "no-such-rule")
    assert run.code == 2 and "no rule 'no-such-rule'" in run.err


def test_readme_config_example_is_valid(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("```yaml\nversion: 1") + len("```yaml\n")
    (tmp_path / ".leakscan.yaml").write_text(readme[start : readme.index("```", start)])
    run = leakscan(capsys, "config", "show", str(tmp_path))
    assert run.code == 0, run.err
    doc = yaml.safe_load(run.out)
    assert doc["rules"]["custom"] == ["acme-token"] and doc["options"]["max_file_size"] == 10 << 20


def test_no_project_config_ignores_the_scanned_trees_suppressions(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from scanner.model import value_fingerprint

    root = _tree(tmp_path, "allowlist:\n  paths: ['**']\n", {
        "a.py": f"k = '{AWS}'\n", ".leakscanignore": value_fingerprint("github-pat", GHP) + "\n",
        "b.py": f"g = '{GHP}'\n"})
    assert _rows(capsys, root) == []
    assert _ids(_rows(capsys, root, "--no-project-config")) == [("a.py", "aws-access-key-id"), ("b.py", "github-pat")]


def test_config_decode_depth_applies_unless_flag_given(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import base64

    blob = base64.b64encode(f"aws_key = {AWS} and more text here".encode()).decode()
    root = _tree(tmp_path, None, {"a.env": f'blob = "{blob}"\n'})
    assert _ids(_rows(capsys, root)) == [("a.env", "aws-access-key-id")]
    (root / ".leakscan.yaml").write_text("options:\n  decode_depth: 0\n")
    assert _rows(capsys, root) == []
    assert _ids(_rows(capsys, root, "--decode-depth", "1")) == [("a.env", "aws-access-key-id")]


ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 12))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [(".leakscan.yaml", ALIAS_BOMB, "a0: unknown key"),
     (".leakscan.yaml", "x: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
     ("g.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply")],
    ids=["yaml-alias-bomb", "yaml-deep-nesting", "toml-deep-nesting"],
)
def test_hostile_config_fails_fast_with_usage_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    import subprocess
    import sys

    (tmp_path / name).write_text(content)
    done = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path), "--config", str(tmp_path / name)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr, done.stderr
