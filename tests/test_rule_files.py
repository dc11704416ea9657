"""The shipped rule files read the same with PyYAML's pure-Python loader as with its C loader."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.ruleset import builtin_rule_files, parse_rule_document


# PyYAML without libyaml (built from source, some platforms) has no CSafeLoader, and the pure-Python
# parser is stricter: an unquoted URL with `?` inside a flow list is an error there, fine in libyaml.
@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="needs libyaml to compare with")
@pytest.mark.parametrize("path", builtin_rule_files(), ids=lambda p: p.name)
def test_rule_file_reads_the_same_without_libyaml(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    with_libyaml = parse_rule_document(text, path.name)
    monkeypatch.delattr(yaml, "CSafeLoader")
    assert parse_rule_document(text, path.name) == with_libyaml
