"""SARIF 2.1.0: schema-valid, what GitHub code scanning requires, deterministic, bounded, and never a secret."""
from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from email.message import Message
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.model import Finding, Verdict, Verification
from scanner.report import RunInfo, sarif

from tests.conftest import REPO_ROOT, git
from tests.report_fixtures import (
    ACME, ACME_OLD, COMMITS, GLOBEX, INITECH, PLANTED, ROOT, SARIF_SCHEMA, assert_golden, golden_rules,
    history_findings, load_json, run_info, scan_text, working_tree_findings,
)

GITHUB_PAT = "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"
AWS_ID, AWS_SECRET = "AKIAOD22BF5Z32M3NBP6", "qtXa9NSXuvWwvB5UvpqmLYpleBPDovkJoptaKK4w"
SLACK = "xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd"

SCENARIOS: dict[str, Callable[[], tuple[list[Finding], RunInfo]]] = {
    "empty": lambda: ([], run_info()),
    "working-tree": lambda: (working_tree_findings(), run_info()),
    "history": lambda: (history_findings(), run_info("history")),
}


def _render(findings: list[Finding], info: RunInfo, *, redacted: bool = False) -> tuple[str, tuple[str, ...]]:
    out = io.StringIO()
    warnings = sarif.render(findings, info, out, redacted=redacted)
    return out.getvalue(), warnings


def _doc(findings: list[Finding], info: RunInfo, *, redacted: bool = False) -> dict[str, Any]:
    text, _ = _render(findings, info, redacted=redacted)
    doc: dict[str, Any] = json.loads(text)
    return doc


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = load_json(SARIF_SCHEMA)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("redacted", [False, True], ids=["plain", "redacted"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_document_passes_the_sarif_schema(
    validator: jsonschema.Draft4Validator, scenario: str, redacted: bool
) -> None:
    findings, info = SCENARIOS[scenario]()
    validator.validate(_doc(findings, info, redacted=redacted))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_document_matches_golden_file(scenario: str) -> None:
    findings, info = SCENARIOS[scenario]()
    text, warnings = _render(findings, info)
    assert warnings == ()
    assert_golden(f"{scenario}.sarif", text)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_output_is_byte_identical_whatever_the_input_order(scenario: str) -> None:
    findings, info = SCENARIOS[scenario]()
    shuffled = list(findings)
    random.Random(7).shuffle(shuffled)
    assert _render(shuffled, info) == _render(findings, info)
    assert "Time" not in _render(findings, info)[0]  # no startTimeUtc / endTimeUtc unless asked for


def test_driver_has_one_complete_rule_per_rule_that_fired() -> None:
    run = _doc(working_tree_findings(), run_info())["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("leakscan", __import__("scanner").__version__)
    assert driver["informationUri"] == sarif.REPOSITORY_URI
    rules = driver["rules"]
    fired = sorted({f.rule_id for f in working_tree_findings()})
    assert [r["id"] for r in rules] == fired
    by_id = {r.id: r for r in golden_rules()}
    for entry in rules:
        rule = by_id[entry["id"]]
        assert entry["name"] and " " not in entry["name"]
        assert entry["shortDescription"]["text"].startswith(rule.description)
        assert rule.description in entry["fullDescription"]["text"]
        for form in ("text", "markdown"):
            assert rule.description in entry["help"][form]
            assert "Revoke or rotate" in entry["help"][form]
            if rule.remediation:
                assert rule.remediation in entry["help"][form]
        props = entry["properties"]
        assert props["tags"][:3] == ["security", "secret", "external/cwe/cwe-798"]
        assert props["precision"] in {"very-high", "high", "medium", "low"}
        assert 0.0 < float(props["security-severity"]) <= 10.0
        assert entry["defaultConfiguration"]["level"] in {"error", "warning", "note"}


@pytest.mark.parametrize(
    ("rule_id", "level", "security_severity"),
    [
        ("acme-api-key", "error", "9.5"),  # critical
        ("hooli-private-key", "error", "7.5"),  # high
        ("globex-password", "warning", "5.0"),  # medium
        ("initech-token", "note", "3.0"),  # low
    ],
    ids=["critical", "high", "medium", "low"],
)
def test_severity_maps_to_level_and_security_severity(rule_id: str, level: str, security_severity: str) -> None:
    run = _doc(working_tree_findings(), run_info())["runs"][0]
    (entry,) = [r for r in run["tool"]["driver"]["rules"] if r["id"] == rule_id]
    assert entry["defaultConfiguration"]["level"] == level
    assert entry["properties"]["security-severity"] == security_severity


def test_live_secret_is_raised_to_error_with_its_verdict() -> None:
    run = _doc(working_tree_findings(), run_info())["runs"][0]
    tokens = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
              for r in run["results"] if r["ruleId"] == "initech-token"}
    live, unverified = tokens["deploy/run.sh"], tokens["web/app.min.js"]
    assert (live["level"], unverified["level"]) == ("error", "note")
    assert live["properties"]["verification"] == {
        "verdict": "valid", "reason": "200 from /v1/whoami", "identity": "svc-deploy"}
    assert "live" in live["message"]["text"]
    assert "verification" not in unverified["properties"]


def test_results_point_to_their_rule_and_the_exact_secret() -> None:
    findings = working_tree_findings()
    run = _doc(findings, run_info())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///srv/project/"
    assert len(run["results"]) == len(findings)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        artifact, region = location["physicalLocation"]["artifactLocation"], location["physicalLocation"]["region"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        from tests.report_fixtures import WORKING_TREE

        lines = WORKING_TREE[artifact["uri"]].split("\n")
        first, last = region["startLine"] - 1, region["endLine"] - 1
        text = "\n".join(lines[first:last + 1])
        end = len(text) - len(lines[last]) + region["endColumn"] - 1  # endColumn: the column after the last char
        covered = text[region["startColumn"] - 1:end]
        assert covered in PLANTED, f"{result['ruleId']} region covers {len(covered)} chars, not a planted secret"


def test_message_first_sentence_stands_alone() -> None:
    for scenario in ("working-tree", "history"):
        for result in _doc(*SCENARIOS[scenario]())["runs"][0]["results"]:
            first = result["message"]["text"].split(". ")[0]
            assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].split("/")[-1] in first
            assert first[0].isupper()


def test_history_result_names_the_commit_and_carries_its_metadata() -> None:
    run = _doc(history_findings(), run_info("history"))["runs"][0]
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in run["results"]}
    for commit, files in COMMITS:
        for path in files:  # the path as of that commit
            result = by_uri[path]
            assert commit.sha[:12] in result["message"]["text"].split(". ")[0]
            props = result["properties"]
            assert (props["commitSha"], props["author"], props["commitDate"]) == (commit.sha, commit.author,
                                                                                    commit.date)


def test_fingerprint_is_stable_across_line_shifts_and_renames() -> None:
    text = f"token = '{ACME}'\n"
    before = scan_text(text, f"{ROOT}/a.py")
    after = scan_text("# new header\n\n" + text, f"{ROOT}/renamed/b.py")
    fp = [_doc(found, run_info())["runs"][0]["results"][0]["partialFingerprints"] for found in (before, after)]
    assert fp[0] == fp[1] and fp[0]["secretFingerprint/v1"] == before[0].fingerprint


def test_repeated_secret_in_one_file_gets_distinct_fingerprints() -> None:
    run = _doc(scan_text(f"a='{ACME}'\nb='{ACME}'\n", f"{ROOT}/dup.py"), run_info())["runs"][0]
    fps = [r["partialFingerprints"]["secretFingerprint/v1"] for r in run["results"]]
    assert len(fps) == 2 and len(set(fps)) == 2


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (f"{ROOT}/src/app.py", "src/app.py"),
        (f"{ROOT}/./src/../src/app.py", "src/app.py"),
        (f"{ROOT}/my dir/a#b.py", "my%20dir/a%23b.py"),
        ("/elsewhere/app.py", "elsewhere/app.py"),
        ("-", "-"),
    ],
    ids=["plain", "dot-segments", "escaped", "outside-root", "stdin"],
)
def test_uri_is_relative_with_forward_slashes(path: str, uri: str) -> None:
    (finding,) = scan_text(f"k = '{ACME}'\n", path)
    result = _doc([finding], run_info())["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri


def _plant_everything() -> tuple[list[Finding], list[str]]:
    """Findings whose secrets are also in commit messages, companion fields and paths."""
    findings = working_tree_findings() + history_findings()
    companion = dataclasses.replace(findings[0], related=(("initech-token", "itk-ffffeeeeddddccccbbbbaaaa"),))
    in_path = dataclasses.replace(findings[1], path=f"{ROOT}/leaked-{INITECH}.txt")
    return [companion, in_path, *findings[2:]], [*PLANTED, "itk-ffffeeeeddddccccbbbbaaaa"]


@pytest.mark.parametrize("redacted", [False, True], ids=["plain", "redacted"])
def test_no_planted_secret_appears_anywhere_in_sarif(redacted: bool) -> None:
    findings, secrets = _plant_everything()
    assert any(ACME_OLD in (f.commit.message if f.commit else "") for f in findings)  # the trap is set
    text, _ = _render(findings, run_info(), redacted=redacted)
    for secret in secrets:
        for piece in {secret, *secret.split("\n")} - {"-----BEGIN HOOLI KEY-----", "-----END HOOLI KEY-----"}:
            assert piece not in text
    assert GLOBEX not in json.dumps(json.loads(text))  # nor in any escaped form


def test_run_over_the_result_limit_is_truncated_deterministically_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, validator: jsonschema.Draft4Validator
) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    findings = working_tree_findings()
    text, warnings = _render(findings, run_info())
    doc = json.loads(text)
    validator.validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 3
    # the live secret first, then by severity: nothing of lower severity kept while a higher one was dropped
    assert {r["ruleId"] for r in results} == {"initech-token", "acme-api-key"}
    assert [r["properties"]["severity"] for r in results].count("critical") == 2
    (warning,) = warnings
    assert f"3 of {len(findings)} results" in warning
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == warning
    assert _render(list(reversed(findings)), run_info()) == (text, warnings)


def test_run_over_the_size_limit_is_cut_until_it_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    findings = working_tree_findings()
    full, _ = _render(findings, run_info())
    limit = len(gzip.compress(full.encode(), mtime=0)) - 1
    monkeypatch.setattr(sarif, "MAX_GZIP_BYTES", limit)
    text, warnings = _render(findings, run_info())
    assert len(gzip.compress(text.encode(), mtime=0)) <= limit
    assert 0 < len(json.loads(text)["runs"][0]["results"]) < len(findings)
    assert warnings and "truncated" in warnings[0]


def test_cli_warns_on_stderr_when_sarif_is_truncated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 1)
    (tmp_path / "a.env").write_text("K=AKIAZ5GMHYJKLOPQRS7T\nT=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\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "-f", "sarif", "-o", str(tmp_path / "out.sarif")])
    assert result.exit_code == 1
    assert "warning: SARIF output truncated to 1 of 2 results" in result.stderr
    assert len(load_json(tmp_path / "out.sarif")["runs"][0]["results"]) == 1


def test_cli_reports_uris_relative_to_the_enclosing_work_tree(make_repo: Callable[[str], Path]) -> None:
    repo = make_repo("repo")
    (repo / "svc" / "conf").mkdir(parents=True)
    (repo / "svc" / "conf" / "prod.env").write_text("AWS_ACCESS_KEY_ID=AKIAZ5GMHYJKLOPQRS7T\n")
    git(repo, "status")  # a real work tree
    for target in (repo, repo / "svc"):
        result = CliRunner().invoke(cli, ["scan", str(target), "-f", "sarif"])
        run = json.loads(result.stdout)["runs"][0]
        (res,) = run["results"]
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "svc/conf/prod.env"
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"


def test_cli_reports_uris_relative_to_a_plain_scanned_directory(tmp_path: Path) -> None:
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "file.txt").write_text("x = AKIAZ5GMHYJKLOPQRS7T\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "tree"), "-f", "sarif"])
    (res,) = json.loads(result.stdout)["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub/file.txt"


def test_unknown_rule_is_described_from_its_findings() -> None:
    (finding,) = scan_text(f"k = '{ACME}'\n", f"{ROOT}/a.py")
    run = _doc([finding], dataclasses.replace(run_info(), rules=()))["runs"][0]
    (entry,) = run["tool"]["driver"]["rules"]
    assert entry["id"] == "acme-api-key" and "Acme API key" in entry["help"]["text"]
    assert "https://acme.example/settings/api-keys" in entry["help"]["markdown"]


def test_verdicts_other_than_valid_keep_the_rule_level() -> None:
    (finding,) = scan_text(f'globex_password = "{GLOBEX}"\n', f"{ROOT}/a.py")
    checked = dataclasses.replace(finding, verification=Verification(Verdict.INVALID, "401"))
    (result,) = _doc([checked], run_info())["runs"][0]["results"]
    assert result["level"] == "warning" and result["properties"]["verification"]["verdict"] == "invalid"


# -- end to end: `leakscan history` on a fixture repository built with the git CLI ----------------------

FIXTURE_COMMITS = (
    ("2024-01-01T10:00:00+00:00", "add config", {"config.py": f"GITHUB = '{GITHUB_PAT}'\n"}),
    ("2024-01-02T10:00:00+00:00", "read token from env; add ci creds", {
        "config.py": "GITHUB = os.environ['GITHUB']\n",
        "creds.csv": f"User name,Password,Access key ID,Secret access key\nci,,{AWS_ID},{AWS_SECRET}\n",
    }),
    ("2024-01-03T10:00:00+00:00", f"move config; slack token was {SLACK}", {"app/config.py": None}),
)


def _fixture_repo(make_repo: Callable[[str], Path]) -> Path:
    repo = make_repo("fixture")
    for date, message, files in FIXTURE_COMMITS:
        for rel, text in files.items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if text is None:  # a rename of config.py
                git(repo, "mv", "config.py", rel)
            else:
                path.write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message, env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
                                                         "GIT_COMMITTER_NAME": "Test Author",
                                                         "GIT_COMMITTER_EMAIL": "author@example.com"})
    return repo


def test_history_scan_of_a_fixture_repository_matches_golden_sarif(
    make_repo: Callable[[str], Path], validator: jsonschema.Draft4Validator
) -> None:
    repo = _fixture_repo(make_repo)
    result = CliRunner().invoke(cli, ["history", str(repo), "-f", "sarif", "-q", "--jobs", "1"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    validator.validate(doc)
    for secret in (GITHUB_PAT, AWS_ID, AWS_SECRET, SLACK):
        assert secret not in result.stdout
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"github-pat", "aws-access-key-id", "slack-bot-token"}
    # the machine's temporary directory is the one thing that differs between runs
    text = result.stdout.replace(Path(os.path.abspath(repo)).as_uri() + "/", "file:///fixture/")
    assert_golden("history-fixture-repo.sarif", text)


def test_repository_uri_fallback_is_pyprojects_repository_url() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    urls = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Repository"] == sarif.REPOSITORY_URI


@pytest.fixture
def fresh_information_uri() -> Iterator[None]:
    sarif.information_uri.cache_clear()
    yield
    sarif.information_uri.cache_clear()


def _not_installed(_name: str) -> Message:
    raise metadata.PackageNotFoundError("leakscan")


def _urls(*entries: str) -> Callable[[str], Message]:
    message = Message()
    for entry in entries:
        message["Project-URL"] = entry
    return lambda _name: message


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        (_urls("Homepage, https://example.org/home", "Repository, https://example.org/repo"), "https://example.org/repo"),
        (_urls("Home-Page, https://example.org/home"), "https://example.org/home"),
        (_urls("Repository, http://example.org/plain"), sarif.REPOSITORY_URI),
        (_urls(), sarif.REPOSITORY_URI),
        (_not_installed, sarif.REPOSITORY_URI),
    ],
    ids=["repository-wins", "homepage-label-normalized", "not-https", "no-urls", "not-installed"],
)
def test_information_uri_comes_from_the_installed_metadata(
    monkeypatch: pytest.MonkeyPatch, fresh_information_uri: None, installed: Callable[[str], Message], expected: str
) -> None:
    monkeypatch.setattr(metadata, "metadata", installed)
    doc = _doc([], run_info())
    jsonschema.validate(doc, load_json(SARIF_SCHEMA))
    assert doc["runs"][0]["tool"]["driver"]["informationUri"] == expected
