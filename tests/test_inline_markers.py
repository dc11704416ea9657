"""Inline allow markers: leakscan's own and every peer's, same line and next line, and --no-inline-markers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.markers import marker_set
from scanner.model import Chunk
from scanner.ruleset import build_spec

from .leakscan_run import leakscan

KEY = "AKIAZ5GMHYJKLOPQRS7T"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
    "-----END RSA PRIVATE KEY-----\n"
)

SUPPRESSED = {
    "leakscan-allow": f'key = "{KEY}"  # leakscan:allow\n',
    "leakscan-allow-next-line": f'# leakscan:allow-next-line\nkey = "{KEY}"\n',
    "gitleaks": f'key = "{KEY}"  # gitleaks:allow\n',
    "betterleaks": f'key = "{KEY}"  // betterleaks:allow\n',
    "trufflehog": f'key = "{KEY}"  # trufflehog:ignore\n',
    "kingfisher-ignore": f'key = "{KEY}"  # kingfisher:ignore\n',
    "kingfisher-allow": f'key = "{KEY}"  # kingfisher:allow\n',
    "pragma-allowlist-secret": f'key = "{KEY}"  # pragma: allowlist secret\n',
    "pragma-nextline": f'# pragma: allowlist nextline secret\nkey = "{KEY}"\n',
    "properties-next-line": f"# leakscan:allow-next-line\naws.key={KEY}\n",
    "pem-next-line": "# leakscan:allow-next-line\n" + PEM,
    "pem-end-line": PEM.replace("KEY-----\n", "KEY----- leakscan:allow\n", 2).replace(
        "-----BEGIN RSA PRIVATE KEY----- leakscan:allow", "-----BEGIN RSA PRIVATE KEY-----"),
}

REPORTED = {
    "no-marker": f'key = "{KEY}"\n',
    "next-line-marker-on-own-line": f'key = "{KEY}"  # leakscan:allow-next-line\n',
    "same-line-marker-on-previous-line": f'# leakscan:allow\nkey = "{KEY}"\n',
    "next-line-marker-two-lines-up": f'# leakscan:allow-next-line\n\nkey = "{KEY}"\n',
    "marker-after-the-finding": f'key = "{KEY}"\n# leakscan:allow-next-line\n',
}


def _scan(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *flags: str) -> list[dict[str, object]]:
    (tmp_path / "f.txt").write_text(text)
    run = leakscan(capsys, "scan", str(tmp_path), "-f", "json", *flags)
    assert run.code in (0, 1), run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("text", SUPPRESSED.values(), ids=SUPPRESSED.keys())
def test_marker_suppresses_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    assert _scan(tmp_path, capsys, text) == []


@pytest.mark.parametrize("text", SUPPRESSED.values(), ids=SUPPRESSED.keys())
def test_no_inline_markers_reports_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    assert len(_scan(tmp_path, capsys, text, "--no-inline-markers")) == 1


@pytest.mark.parametrize("text", REPORTED.values(), ids=REPORTED.keys())
def test_marker_in_wrong_place_does_not_suppress(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  text: str) -> None:
    assert len(_scan(tmp_path, capsys, text)) == 1


def test_config_can_turn_off_peer_markers_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".leakscan.yaml").write_text("peer_markers: false\n")
    text = f'a = "{KEY}"  # gitleaks:allow\nb = "AKIAY34FZKBOKMUTVV7A"  # leakscan:allow\n'
    rows = _scan(tmp_path, capsys, text)
    assert [r["line"] for r in rows] == [1]


def test_config_can_turn_off_all_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".leakscan.yaml").write_text("inline_markers: false\n")
    assert len(_scan(tmp_path, capsys, SUPPRESSED["leakscan-allow"])) == 1


def _diff_engine(rules) -> Engine:  # type: ignore[no-untyped-def]
    import dataclasses

    return Engine(dataclasses.replace(build_spec(rules), markers=marker_set()))


@pytest.mark.parametrize(
    ("line_numbers", "suppressed"),
    [((10, 11), True), ((4, 11), False)],
    ids=["marker-line-directly-above", "marker-line-elsewhere-in-file"],
)
def test_next_line_marker_in_diff_needs_the_real_previous_line(rules, line_numbers: tuple[int, int],  # type: ignore[no-untyped-def]
                                                               suppressed: bool) -> None:
    data = f"# leakscan:allow-next-line\nkey = {KEY}\n".encode()
    chunk = Chunk(data=data, path="a.py", line_numbers=line_numbers, kind="diff")
    findings = _diff_engine(rules).scan(chunk).findings
    assert (findings == []) is suppressed
    if not suppressed:
        assert findings[0].line == 11


def test_same_line_marker_in_diff_chunk(rules) -> None:  # type: ignore[no-untyped-def]
    chunk = Chunk(data=f"x = {KEY} # gitleaks:allow\n".encode(), path="a.py", line_numbers=(7,), kind="diff")
    assert _diff_engine(rules).scan(chunk).findings == []
