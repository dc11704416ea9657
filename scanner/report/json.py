"""JSON (one array) and JSON Lines reporters."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from ..model import Finding
from . import RunInfo, finding_dict, redact, sorted_findings


def render(findings: Sequence[Finding], info: RunInfo, out: TextIO, *, redacted: bool = False) -> None:
    rows = [finding_dict(redact(f) if redacted else f) for f in sorted_findings(findings)]
    json.dump(rows, out, indent=2, ensure_ascii=False)
    out.write("\n")


def render_lines(findings: Sequence[Finding], info: RunInfo, out: TextIO, *, redacted: bool = False) -> None:
    for f in sorted_findings(findings):
        out.write(json.dumps(finding_dict(redact(f) if redacted else f), ensure_ascii=False))
        out.write("\n")
