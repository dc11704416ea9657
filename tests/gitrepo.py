"""Helpers for tests that build real repositories with the git CLI and run leakscan on them in-process."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import git

AWS = "AKIAZ5GMHYJKLOPQRS7T"
GITHUB = "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"
SLACK = "xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd"

_clock = [1_700_000_000]


def commit(repo: Path, message: str, files: dict[str, str | None] | None = None, *, when: int | None = None,
           allow_empty: bool = False) -> str:
    """Write (or, with None, delete) files, stage everything and commit; return the commit id."""
    for rel, text in (files or {}).items():
        path = repo / rel
        if text is None:
            git(repo, "rm", "-q", rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", rel)
    _clock[0] += 60
    stamp = f"{when if when is not None else _clock[0]} +0200"
    args = ["commit", "-q", "-m", message] + (["--allow-empty"] if allow_empty else [])
    git(repo, *args, env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
    return git(repo, "rev-parse", "HEAD").strip()


@dataclass
class Run:
    code: int
    findings: list[dict[str, Any]]
    stderr: str


def leakscan(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """Run the real entry point (error handler included) and parse its JSON report."""
    capsys.readouterr()
    try:
        main([*args, "--format", "json", "--jobs", "1"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    findings = json.loads(out.out) if out.out.strip() else []
    return Run(code, findings, out.err)


def where(run: Run) -> set[tuple[str, int, str]]:
    """(path, line, rule id) of every finding."""
    return {(f["path"], f["line"], f["rule_id"]) for f in run.findings}
