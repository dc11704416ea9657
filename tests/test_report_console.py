"""The console view: grouped findings with masked secrets and a highlighted line, a summary, plain when piped."""
from __future__ import annotations

import dataclasses
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from scanner.cli import cli
from scanner.model import Finding
from scanner.report import RunInfo
from scanner.report import console as console_report

from tests.report_fixtures import (
    ACME, ACME_OLD, GLOBEX, INITECH, PLANTED, ROOT, assert_golden, history_findings, run_info, scan_text,
    working_tree_findings,
)

SCENARIOS: dict[str, Callable[[], tuple[list[Finding], RunInfo]]] = {
    "empty": lambda: ([], run_info()),
    "working-tree": lambda: (working_tree_findings(), run_info()),
    "history": lambda: (history_findings(), run_info("history")),
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _render(findings: list[Finding], info: RunInfo, *, terminal: bool = False, **options: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=terminal, color_system="standard" if terminal else None,
                      highlight=False, soft_wrap=True)
    console_report.render(findings, info, console, **options)
    return out.getvalue()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_console_matches_golden_file(scenario: str) -> None:
    assert_golden(f"{scenario}.console.txt", _render(*SCENARIOS[scenario]()))


def test_redacted_console_matches_golden_file() -> None:
    assert_golden("working-tree.redacted.console.txt", _render(working_tree_findings(), run_info(), redacted=True))


def test_findings_are_grouped_by_file_with_rule_location_and_fix() -> None:
    text = _render(working_tree_findings(), run_info())
    headers = [line for line in text.splitlines() if line.startswith(ROOT)]
    assert headers == sorted(headers) and len(headers) == len(set(headers)) == 4
    assert "  CRITICAL acme-api-key  Acme API key" in text
    assert f"at {ROOT}/deploy/run.sh:2:16" in text
    assert "fix: revoke or rotate it at https://initech.example/tokens" in text
    assert "verified: valid (200 from /v1/whoami; svc-deploy)" in text


def test_history_findings_are_grouped_by_commit_in_date_order() -> None:
    text = _render(history_findings(), run_info("history"))
    commits = [line.split()[1] for line in text.splitlines() if line.startswith("commit ")]
    assert commits == ["3f2a9c1d8e7b", "9b8c7d6e5f4a"]
    assert "at src/client.py:1:16" in text and "2 commits" in text


@pytest.mark.parametrize("scenario", ["working-tree", "history"])
def test_default_view_masks_every_secret_even_in_lines_and_commit_messages(scenario: str) -> None:
    text = _render(*SCENARIOS[scenario]())
    for secret in PLANTED:
        for piece in set(secret.split("\n")) - {"-----BEGIN HOOLI KEY-----", "-----END HOOLI KEY-----"}:
            assert piece not in text
    assert "acme****************" in text


def test_show_secrets_shows_them_and_redact_wins_over_it() -> None:
    findings, info = working_tree_findings(), run_info()
    shown = _render(findings, info, show_secrets=True)
    assert ACME in shown and GLOBEX in shown and INITECH in shown
    redacted = _render(findings, info, show_secrets=True, redacted=True)
    assert not any(s in redacted for s in (ACME, ACME_OLD, GLOBEX, INITECH))
    assert "secret REDACTED" in redacted


def test_plain_output_marks_the_match_with_carets_under_it() -> None:
    (finding,) = scan_text(f"x = 1; key = '{ACME}'\n", f"{ROOT}/a.py")
    lines = _render([finding], run_info()).splitlines()
    (i,) = [n for n, line in enumerate(lines) if "│" in line]
    start = lines[i].index("acme***")
    assert lines[i + 1] == " " * start + "^" * len("acme****************")


def test_terminal_output_highlights_the_match_and_draws_no_carets() -> None:
    (finding,) = scan_text(f"key = '{ACME}'\n", f"{ROOT}/a.py")
    text = _render([finding], run_info(), terminal=True)
    assert re.search(r"\x1b\[[0-9;]*7m" + re.escape("acme****************") + r"\x1b\[0m", text)
    assert "^^^^" not in text


def test_long_line_is_cut_to_a_window_around_the_match() -> None:
    (finding,) = [f for f in working_tree_findings() if f.path.endswith("app.min.js")]
    (line,) = [line for line in _render([finding], run_info()).splitlines() if "│" in line]
    assert "itk-****" in line and line.count("…") == 2 and len(line) < 200


def test_summary_counts_by_rule_and_severity_with_bytes_and_duration() -> None:
    text = _render(working_tree_findings(), run_info())
    summary = text.split("Findings by rule", 1)[1]
    rows = {m.group(1): (m.group(2), int(m.group(3)))
            for m in re.finditer(r"^\s*([a-z-]+)\s+(critical|high|medium|low|info)\s+(\d+)\s*$", summary, re.M)}
    assert rows == {"acme-api-key": ("critical", 3), "hooli-private-key": ("high", 1),
                    "globex-password": ("medium", 1), "initech-token": ("low", 2)}
    assert "by severity: 3 critical, 1 high, 1 medium, 2 low" in summary
    assert "7 leaks found; scanned 4 files (1.5 KB) in 0.25s" in summary


def test_skipped_inputs_are_counted() -> None:
    info = dataclasses.replace(run_info(), skipped=(("a.bin", "binary"), ("b.bin", "binary")))
    assert "2 inputs skipped" in _render([], info)


def test_piped_cli_output_has_no_escape_codes(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("AWS_ACCESS_KEY_ID=AKIAZ5GMHYJKLOPQRS7T\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path)])
    assert result.exit_code == 1
    assert not ANSI.search(result.stdout)
    assert "AKIA****************" in result.stdout and "AKIAZ5GMHYJKLOPQRS7T" not in result.stdout


@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "unset"])
def test_no_color_env_drops_colour_on_stdout(monkeypatch: pytest.MonkeyPatch, no_color: bool) -> None:
    from scanner.cli import common

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    seen: list[Console] = []
    monkeypatch.setattr(console_report, "render", lambda findings, info, console, **kw: seen.append(console))
    options = common.OutputOptions("console", None, False, False, 1, common.Confidence.LOW, False, 0)
    common.render(working_tree_findings(), run_info(), options, sys.stdout)  # none: rich is not needed at all
    (console,) = seen
    assert console.no_color is no_color


def test_no_color_console_writes_no_colour_codes() -> None:
    out = io.StringIO()
    colourless = Console(file=out, force_terminal=True, no_color=True, highlight=False)
    console_report.render(working_tree_findings(), run_info(), colourless)
    assert "\x1b[" in out.getvalue()  # still a terminal: bold and reverse remain
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", out.getvalue())  # but no foreground colour


def test_line_of_a_secret_found_through_an_encoding_is_shown_only_with_show_secrets() -> None:
    import base64

    encoded = base64.b64encode(ACME.encode()).decode()
    (finding,) = scan_text(f"k = '{ACME}'\n", f"{ROOT}/a.py")
    decoded = dataclasses.replace(finding, decoded="base64", line_text=f"blob = '{encoded}'")
    masked = _render([decoded], run_info())
    assert encoded not in masked and "│" not in masked
    assert encoded in _render([decoded], run_info(), show_secrets=True)
