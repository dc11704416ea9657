"""The shipped rule files read the same with PyYAML's pure-Python loader as with its C loader."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.regexshape import bare_anchors, line_anchored
from scanner.ruleset import builtin_rule_files, default_rules, parse_rule_document


# PyYAML without libyaml (built from source, some platforms) has no CSafeLoader, and the pure-Python
# parser is stricter: an unquoted URL with `?` inside a flow list is an error there, fine in libyaml.
@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="needs libyaml to compare with")
@pytest.mark.parametrize("path", builtin_rule_files(), ids=lambda p: p.name)
def test_rule_file_reads_the_same_without_libyaml(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    with_libyaml = parse_rule_document(text, path.name)
    monkeypatch.delattr(yaml, "CSafeLoader")
    assert parse_rule_document(text, path.name) == with_libyaml


@pytest.mark.parametrize(("regex", "bare"), [
    (r"^a$", [0, 2]), (r"(?m:^)a(?m:$)", []), (r"(?im)^a$", []), (r"[^a]\^\$[$]", []),
    (r"(?:(?m:^)|\s)a$", [14]), (r"\Aa\z", [0, 3]), (r"(?m:(?:^))a", []),
], ids=["plain", "scoped-m", "global-m", "classes-and-escapes", "after-scoped-group", "text-anchors", "nested"])
def test_bare_anchor_finder(regex: str, bare: list[int]) -> None:
    assert bare_anchors(regex) == bare


@pytest.mark.parametrize(("regex", "anchored"), [
    (r"^token=(\w+)$", r"(?m:^)token=(\w+)(?m:$)"), (r"(?m:^)a[$^]", r"(?m:^)a[$^]"), (r"\Aa", r"\Aa"),
], ids=["bare", "already-line-anchored", "text-anchor-kept"])
def test_line_anchored_rewrites_only_bare_caret_and_dollar(regex: str, anchored: str) -> None:
    assert line_anchored(regex) == anchored


# Sources scan windows of lines (a merged run of lines, the lines a commit adds), and history skips a
# window when no rule matches anywhere in it: both rely on rules anchoring at line edges only. The
# loader rewrites a bare anchor (custom rules); the shipped files say what they mean as written.
_SHIPPED = [(path.name, entry["id"], entry["regex"]) for path in builtin_rule_files()
            for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]]


@pytest.mark.parametrize(("name", "rule_id", "regex"), _SHIPPED, ids=[r[1] for r in _SHIPPED])
def test_shipped_rules_anchor_at_line_edges_as_written(name: str, rule_id: str, regex: str) -> None:
    assert bare_anchors(regex) == [], f"{name}: {rule_id}: write (?m:^) / (?m:$), not a bare anchor"


def test_loaded_rules_anchor_at_line_edges() -> None:
    assert [r.id for r in default_rules() if bare_anchors(r.regex)] == []
