"""JSON and JSON Lines: the documented schema (validated here), sorted output, redaction of every secret."""
from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from scanner.model import Finding
from scanner.report import RunInfo, finding_dict
from scanner.report import json as json_report

from tests.conftest import REPO_ROOT
from tests.report_fixtures import (
    ACME, FINDING_SCHEMA, GLOBEX, INITECH, PLANTED, ROOT, assert_golden, history_findings, load_json, run_info,
    scan_text, working_tree_findings,
)

SCENARIOS: dict[str, Callable[[], tuple[list[Finding], RunInfo]]] = {
    "empty": lambda: ([], run_info()),
    "working-tree": lambda: (working_tree_findings(), run_info()),
    "history": lambda: (history_findings(), run_info("history")),
}


def _json(findings: list[Finding], info: RunInfo, *, redacted: bool = False) -> str:
    out = io.StringIO()
    json_report.render(findings, info, out, redacted=redacted)
    return out.getvalue()


def _jsonl(findings: list[Finding], info: RunInfo, *, redacted: bool = False) -> str:
    out = io.StringIO()
    json_report.render_lines(findings, info, out, redacted=redacted)
    return out.getvalue()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    doc: dict[str, Any] = load_json(FINDING_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(doc)
    return doc


@pytest.mark.parametrize("redacted", [False, True], ids=["plain", "redacted"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_json_output_validates_against_the_shipped_schema(
    schema: dict[str, Any], scenario: str, redacted: bool
) -> None:
    findings, info = SCENARIOS[scenario]()
    jsonschema.Draft202012Validator(schema).validate(json.loads(_json(findings, info, redacted=redacted)))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_jsonl_line_validates_as_one_finding(schema: dict[str, Any], scenario: str) -> None:
    findings, info = SCENARIOS[scenario]()
    one = {**schema, **schema["$defs"]["finding"]}
    one.pop("items")
    lines = _jsonl(findings, info).splitlines()
    assert len(lines) == len(findings)
    for line in lines:
        jsonschema.Draft202012Validator(one).validate(json.loads(line))


def test_schema_rejects_a_finding_that_drifts_from_it(schema: dict[str, Any]) -> None:
    row = json.loads(_json(working_tree_findings(), run_info()))[0]
    validator = jsonschema.Draft202012Validator(schema)
    for broken in ({**row, "undocumented": 1}, {k: v for k, v in row.items() if k != "fingerprint"},
                   {**row, "line": 0}, {**row, "severity": "urgent"}):
        assert not validator.is_valid([broken])


def test_schema_readme_and_reporter_name_the_same_fields(schema: dict[str, Any]) -> None:
    reported = set(finding_dict(working_tree_findings()[0]))
    documented = set(schema["$defs"]["finding"]["properties"])
    assert set(schema["$defs"]["finding"]["required"]) == documented == reported
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## JSON output", 1)[1].split("\n## ", 1)[0]
    in_table = {name for row in section.splitlines() if row.startswith("| `")
                for name in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])}
    assert in_table == reported


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_json_matches_golden_file(scenario: str) -> None:
    findings, info = SCENARIOS[scenario]()
    assert_golden(f"{scenario}.json", _json(findings, info))


def test_redacted_json_matches_golden_file() -> None:
    assert_golden("working-tree.redacted.json", _json(working_tree_findings(), run_info(), redacted=True))


@pytest.mark.parametrize("render", [_json, _jsonl], ids=["json", "jsonl"])
def test_findings_are_sorted_by_path_line_and_column(render: Callable[..., str]) -> None:
    findings = list(reversed(working_tree_findings()))
    text = render(findings, run_info())
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()]
    keys = [(r["path"], r["line"], r["column"]) for r in rows]
    assert keys == sorted(keys) and len(keys) == len(findings)


@pytest.mark.parametrize("render", [_json, _jsonl], ids=["json", "jsonl"])
def test_redact_removes_every_secret_and_keeps_the_fingerprint(render: Callable[..., str]) -> None:
    findings = working_tree_findings() + history_findings()
    findings[0] = dataclasses.replace(findings[0], related=(("globex-password", "companion-value-1234"),))
    plain, redacted = render(findings, run_info()), render(findings, run_info(), redacted=True)
    for secret in (*PLANTED, "companion-value-1234"):
        for piece in set(secret.split("\n")) - {"-----BEGIN HOOLI KEY-----", "-----END HOOLI KEY-----"}:
            assert piece not in redacted
    assert ACME in plain and GLOBEX in plain  # the plain report is the one that may hold secrets

    def rows(text: str) -> list[dict[str, Any]]:
        return json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()]

    assert [r["fingerprint"] for r in rows(redacted)] == [r["fingerprint"] for r in rows(plain)]
    assert all(r["secret"] == "REDACTED" for r in rows(redacted))


def test_redact_masks_another_findings_secret_inside_a_match() -> None:
    # One match that holds a second rule's secret: both must go.
    (token, key) = sorted(scan_text(f"deploy --token {INITECH} --acme {ACME}\n", f"{ROOT}/x.sh"),
                          key=lambda f: f.rule_id != "initech-token")
    widened = dataclasses.replace(token, match=f"{INITECH} --acme {ACME}")
    text = _json([widened, key], run_info(), redacted=True)
    assert INITECH not in text and ACME not in text


def test_git_fields_are_null_for_working_tree_and_set_for_history() -> None:
    tree = json.loads(_json(working_tree_findings(), run_info()))
    assert all(r[k] is None for r in tree for k in ("commit", "author", "email", "date", "message"))
    history = json.loads(_json(history_findings(), run_info("history")))
    assert all(re.fullmatch(r"[0-9a-f]{40}", r["commit"]) and r["author"] and r["date"] for r in history)


def test_redact_drops_the_match_of_a_secret_found_through_an_encoding() -> None:
    import base64

    encoded = base64.b64encode(ACME.encode()).decode()
    (finding,) = scan_text(f"k = '{ACME}'\n", f"{ROOT}/a.py")
    decoded = dataclasses.replace(finding, decoded="base64", match=f"blob = '{encoded}'")
    (row,) = json.loads(_json([decoded], run_info(), redacted=True))
    assert (row["secret"], row["match"]) == ("REDACTED", "REDACTED")
