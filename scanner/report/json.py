"""JSON (one array) and JSON Lines reporters."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from ..model import Finding
from . import RunInfo, finding_dict, redact_all, sorted_findings


def render(findings: Sequence[Finding], info: RunInfo, out: TextIO, *, redacted: bool = False) -> None:
    json.dump(_rows(findings, redacted), out, indent=2, ensure_ascii=False)
    out.write("\n")


def render_lines(findings: Sequence[Finding], info: RunInfo, out: TextIO, *, redacted: bool = False) -> None:
    for row in _rows(findings, redacted):
        out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n")


def _rows(findings: Sequence[Finding], redacted: bool) -> list[dict[str, Any]]:
    """Finding dicts sorted by path, line and column; redacted ones keep the real value fingerprint."""
    ordered = sorted_findings(findings)
    if not redacted:
        return [finding_dict(f) for f in ordered]
    return [{**finding_dict(shown), "fingerprint": f.fingerprint} for f, shown in zip(ordered, redact_all(ordered))]
