"""Findings for the reporter tests, made by a real engine from fixed rules, and golden-file checks.

The rules live in tests/golden/rules.yaml so that edits to rules/ never change a golden file.
Set LEAKSCAN_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
from pathlib import Path
from typing import Any

from scanner.engine import Engine
from scanner.model import Chunk, CommitInfo, Finding, Rule, Verdict, Verification
from scanner.report import RunInfo
from scanner.ruleset import build_spec, parse_rule_document

from tests.conftest import REPO_ROOT, SHARED

GOLDEN = Path(__file__).parent / "golden"
SARIF_SCHEMA = SHARED / "sarif" / "sarif-schema-2.1.0.json"
FINDING_SCHEMA = REPO_ROOT / "scanner" / "schemas" / "finding.schema.json"

ROOT = "/srv/project"  # as if `leakscan scan /srv/project` had run

ACME = "acme_Q7vLk2Xp9RtM4sWb8NcYz3HdFg6JuE1a"
ACME_OLD = "acme_Zr4Tq8Wn2Lp6Vc1Xb9Mk5Hd3Js7Gf0Ay"
GLOBEX = "Sup3r-S3cret-Gl0bex!"
INITECH = "itk-0f3a9c27b4e1d8562a7c9e13"
HOOLI = "-----BEGIN HOOLI KEY-----\nq0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS\n-----END HOOLI KEY-----"
PLANTED = (ACME, ACME_OLD, GLOBEX, INITECH, HOOLI)

WORKING_TREE = {
    "config/settings.py": (
        "# settings\n"
        f"ACME_KEY = '{ACME}'\n"
        f'globex_password = "{GLOBEX}"\n'
        f"    fallback = '{ACME}'  # the same key again\n"
    ),
    "deploy/run.sh": f"#!/bin/sh\ndeploy --token {INITECH} --acme {ACME_OLD}\n",
    "keys/hooli.pem": f"\n{HOOLI}\n",
    "web/app.min.js": "var a=1;" * 40 + f'k="{INITECH}";' + "var b=2;" * 40 + "\n",
}

COMMITS = (
    (
        CommitInfo(sha="3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", author="Alice Example",
                   email="alice@example.com", date="2024-03-01T10:00:00+00:00",
                   message=f"add acme client (key {ACME_OLD})"),
        {"src/client.py": f"client = Acme('{ACME_OLD}')\n"},
    ),
    (
        CommitInfo(sha="9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c", author="Bob Example", email="bob@example.com",
                   date="2024-03-02T12:30:00+00:00", message="move settings"),
        {"old/settings.ini": f'[globex]\nglobex_password = "{GLOBEX}"\n'},
    ),
)


@functools.lru_cache(maxsize=1)
def golden_rules() -> tuple[Rule, ...]:
    return tuple(parse_rule_document((GOLDEN / "rules.yaml").read_text(), "rules.yaml"))


@functools.lru_cache(maxsize=1)
def golden_engine() -> Engine:
    return Engine(build_spec(golden_rules()))


def scan_text(text: str, path: str, commit: CommitInfo | None = None) -> list[Finding]:
    return list(golden_engine().scan(Chunk(data=text.encode(), path=path, commit=commit)).findings)


def working_tree_findings() -> list[Finding]:
    found = [f for rel, text in WORKING_TREE.items() for f in scan_text(text, f"{ROOT}/{rel}")]
    # What the other stages add: a live verdict and a secret found through an encoding.
    return [
        dataclasses.replace(f, verification=Verification(Verdict.VALID, "200 from /v1/whoami", "svc-deploy"))
        if f.rule_id == "initech-token" and f.path.endswith("run.sh")
        else dataclasses.replace(f, decoded="base64") if f.rule_id == "acme-api-key" and f.line == 4 else f
        for f in found
    ]


def history_findings() -> list[Finding]:
    return [f for commit, files in COMMITS for path, text in files.items() for f in scan_text(text, path, commit)]


def run_info(command: str = "scan", **extra: Any) -> RunInfo:
    counts = {"files_scanned": 4, "bytes_scanned": 1536} if command == "scan" else {
        "commits_scanned": 2, "files_scanned": 2, "bytes_scanned": 96}
    return RunInfo(command=command, root=ROOT, duration=0.25, rules=golden_rules(), **{**counts, **extra})


def assert_golden(name: str, text: str) -> None:
    """``text`` equals tests/golden/``name`` byte for byte (rewritten with LEAKSCAN_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if os.environ.get("LEAKSCAN_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.exists(), f"missing golden file {path}; run with LEAKSCAN_UPDATE_GOLDEN=1 to create it"
    want = path.read_text(encoding="utf-8")
    assert text == want, f"{name} differs from the golden file; if intended, rerun with LEAKSCAN_UPDATE_GOLDEN=1"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
