"""Regex time: a backtracking user rule is refused at load time, or bounded at scan time as a partial scan."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from scanner import pipeline, regexprobe
from scanner.model import Rule
from scanner.ruleset import build_spec, default_rules
from scanner.sources import Notes
from scanner.sources.filesystem import walk

from .helpers import AKIA, leakscan

# The lookahead forces the backtracking `regex` engine even where RE2 is installed, and the
# character classes keep "zq" out of the load-time probe: this one gets past the probe.
EVASIVE = r"[z][q](?=.)(a|aa)+[b]"
EVASIVE_RULE = Rule(id="slow-user-rule", description="slow", regex=EVASIVE, keywords=("zq",))
# ~45 ms of backtracking per line on `regex`; the real match at the end makes every line a
# candidate for the prefilter, so the confirming search has to run on each.
CRAFTED_LINE = "zq" + "a" * 22 + "! zqab\n"


def _scan(root: Path, timeout: float) -> pipeline.ScanReport:
    notes = Notes()
    items = list(walk([str(root)], notes, max_file_size=None))
    # Without Hyperscan: a database holding a rule it rejects takes ~18 s to build the first time
    # (prefilter.build_database compiles rule by rule to find it); that is a start-up cost, not this case.
    spec = build_spec((*default_rules(), EVASIVE_RULE), regex_timeout=timeout, use_hyperscan=False)
    return pipeline.run(spec, items, jobs=1)


def test_catastrophic_rule_is_cut_off_per_file_and_other_findings_are_kept(tmp_path: Path) -> None:
    (tmp_path / "crafted.txt").write_text(f"k={AKIA}\n" + CRAFTED_LINE * 400)  # ~8 s unbounded
    (tmp_path / "other.txt").write_text("k=AKIAQYLPMN5HHHFPZAM2\n")
    started = time.monotonic()
    report = _scan(tmp_path, timeout=0.3)
    assert time.monotonic() - started < 10  # unbounded: 400 lines x 45 ms (x the machine's load)
    assert report.partial == [(str(tmp_path / "crafted.txt"), "slow-user-rule")]
    found = sorted(f.secret for f in report.findings if f.rule_id == "aws-access-key-id")
    assert found == sorted([AKIA, "AKIAQYLPMN5HHHFPZAM2"])


def test_partial_scan_is_a_warning_and_strict_makes_it_exit_3(tmp_path: Path) -> None:
    (tmp_path / ".leakscan.yaml").write_text(
        "rules:\n  - id: slow-user-rule\n    description: slow\n"
        f"    regex: '{EVASIVE}'\n    keywords: [zq]\n"
    )
    (tmp_path / "crafted.txt").write_text(CRAFTED_LINE * 400)
    (tmp_path / "other.txt").write_text(f"k={AKIA}\n")
    env = {"LEAKSCAN_REGEX_TIMEOUT": "0.3", "LEAKSCAN_DISABLE_HYPERSCAN": "1"}  # see _scan
    done = leakscan("scan", str(tmp_path), "-f", "json", env=env, timeout=60)
    assert done.returncode == 1, done.err
    assert [r["secret"] for r in done.rows() if r["rule_id"] == "aws-access-key-id"] == [AKIA]
    assert "crafted.txt: partially scanned, rule slow-user-rule hit its time limit" in done.err
    assert done.seconds < 30
    strict = leakscan("scan", str(tmp_path), "-f", "json", "--strict", env=env, timeout=60)
    assert strict.returncode == 3, strict.err
    assert [r["secret"] for r in strict.rows() if r["rule_id"] == "aws-access-key-id"] == [AKIA]


@pytest.mark.parametrize(
    "pattern",
    # Not (a+)+b: `regex` defuses that one to about a second of probes, right at the budget (flaky).
    [r"(a|aa)+b", r"(x+x+)+y", r"token=(a|a)+;", r"(\w+\s?)+$"],
    ids=["overlapping-alternation", "overlapping-plus", "alternation-after-literal", "nested-word-runs"],
)
def test_probe_refuses_catastrophic_patterns(pattern: str) -> None:
    started = time.monotonic()
    with pytest.raises(regexprobe.SlowRegex):
        regexprobe.check(pattern)
    assert time.monotonic() - started < 15  # ~1.5 s (PROBE_BUDGET); generous for a loaded CI machine


def test_probe_accepts_sound_token_rules() -> None:
    # Calibration on real patterns: every provider rule. (Built-in rules are not probed at load time;
    # the generic-* ones are quadratic on long word runs with `regex`, ~0.8 s of probes, too close to call.)
    for rule in default_rules():
        if not rule.id.startswith("generic-"):
            regexprobe.check(rule.regex, multiline=rule.multiline)


def test_catastrophic_custom_rule_in_config_is_a_usage_error(tmp_path: Path) -> None:
    # A lookahead keeps it on the backtracking engine even where RE2 is installed.
    (tmp_path / ".leakscan.yaml").write_text(
        "rules:\n  - id: bad-user-rule\n    description: slow\n    regex: '(?=a)(a|aa)+$'\n"
    )
    (tmp_path / "x.txt").write_text(f"k={AKIA}\n")
    done = leakscan("scan", str(tmp_path), timeout=60)
    assert done.returncode == 2, done.err
    assert done.err.startswith("error: ") and done.err.count("\n") == 1
    assert "bad-user-rule" in done.err and "catastrophically slow" in done.err
    assert done.seconds < 15
