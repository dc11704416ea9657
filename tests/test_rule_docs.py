"""Provider rule files cite the provider's token-format documentation, and every provider rule says where to rotate."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.ruleset import builtin_rule_files, default_rules

# Structural rules (keys, JWTs, URIs, assignments, config files) have no single provider to cite.
GENERIC_FILES = {"generic.yaml", "config-files.yaml", "jwt.yaml", "private-keys.yaml", "uri.yaml"}
PROVIDER_FILES = [p for p in builtin_rule_files() if p.name not in GENERIC_FILES]
_URL = re.compile(r"https://[^\s)]+")


def _leading_comment(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("path", PROVIDER_FILES, ids=lambda p: p.name)
def test_provider_rule_file_starts_with_documentation_urls(path: Path) -> None:
    assert _URL.search(_leading_comment(path)), f"{path.name}: start with a comment citing the token format docs"


@pytest.mark.parametrize(
    "rule", [r for r in default_rules() if Path(r.source).name not in GENERIC_FILES], ids=lambda r: r.id
)
def test_provider_rule_remediation_is_a_url(rule) -> None:  # type: ignore[no-untyped-def]
    assert _URL.fullmatch(rule.remediation), f"{rule.id}: remediation must be the provider's rotate/revoke URL"
