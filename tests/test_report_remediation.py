"""What a finding says to do: the provider's page when the rule names one, the rule's own advice otherwise."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.report import remediation_uri, sarif
from scanner.ruleset import default_rules

from .leakscan_run import leakscan

_URI = re.compile(r"https?://\S+")
ADVICE = [r for r in default_rules() if r.remediation and remediation_uri(r.remediation) is None]
PAGES = [r for r in default_rules() if remediation_uri(r.remediation)]


def test_both_kinds_of_remediation_are_shipped() -> None:
    assert ADVICE and PAGES  # structural rules advise in words; provider rules link their revoke page


@pytest.mark.parametrize("rule", default_rules(), ids=lambda r: r.id)
def test_every_rule_descriptor_has_a_uri_for_help(rule) -> None:  # type: ignore[no-untyped-def]
    assert _URI.fullmatch(sarif._descriptor(rule)["helpUri"])  # SARIF: helpUri is a URI, never a sentence


@pytest.mark.parametrize("rule", ADVICE[:5] + PAGES[:5], ids=lambda r: r.id)
def test_sarif_help_links_a_page_or_quotes_the_advice(rule) -> None:  # type: ignore[no-untyped-def]
    help_ = sarif._descriptor(rule)["help"] if rule.kind.value == "secret" else None
    if help_ is None:
        pytest.skip("identifier rules have no revoke step")
    for form, text in help_.items():
        if remediation_uri(rule.remediation):
            assert f"at {rule.remediation}" in text or f"at <{rule.remediation}>" in text, form
        else:
            assert " ".join(rule.remediation.split()) in text, form
            assert "at " + rule.remediation[:10] not in text and "<" + rule.remediation[:10] not in text, form


def test_console_fix_line_reads_as_a_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "settings.py").write_text('db_password = "Xq7pTz2LwR9kVb3N"\nAWS_KEY = "AKIAZ5GMHYJKLOPQRS7T"\n')
    run = leakscan(capsys, "scan", str(tmp_path))
    fixes = sorted(line.strip() for line in run.out.splitlines() if line.strip().startswith("fix:"))
    generic = next(r for r in default_rules() if r.id == "generic-password")
    assert remediation_uri(generic.remediation) is None
    assert f"fix: {generic.remediation}" in fixes  # the rule's advice, not "revoke or rotate it at Rotate ..."
    assert any(re.fullmatch(r"fix: revoke or rotate it at https://\S+, then remove it from the code", f)
               for f in fixes)
    assert not any(re.search(r" at [A-Z]", f) for f in fixes)
