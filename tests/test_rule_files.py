"""The shipped rule files read the same with PyYAML's pure-Python loader as with its C loader."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

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


def _bare_anchors(regex: str) -> list[int]:
    """Offsets of ``^``, ``$``, ``\\A`` and ``\\z`` outside any ``m`` flag: they anchor at a buffer's edges."""
    found: list[int] = []
    outer: list[bool] = []
    multiline, i = False, 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            if regex[i + 1:i + 2] in ("A", "z"):
                found.append(i)
            i += 2
        elif c == "[":  # a class: skip to its end (a leading ^ or ] is part of it)
            i += 2 if regex[i + 1:i + 2] == "^" else 1
            i += 1 if regex[i:i + 1] == "]" else 0
            while i < len(regex) and regex[i] != "]":
                i += 2 if regex[i] == "\\" else 1
            i += 1
        elif c == "(":
            flags = re.match(r"\(\?([a-zA-Z]*)(?:-[a-zA-Z]*)?([:)])", regex[i:])
            if flags and flags.group(2) == ")":  # (?m) sets the flag for the rest of the enclosing group
                multiline = multiline or "m" in flags.group(1)
            else:
                outer.append(multiline)
                multiline = multiline or bool(flags and "m" in flags.group(1))
            i += flags.end() if flags else 1
        elif c == ")":
            multiline = outer.pop() if outer else multiline
            i += 1
        else:
            if c in "^$" and not multiline:
                found.append(i)
            i += 1
    return found


@pytest.mark.parametrize(("regex", "bare"), [
    (r"^a$", [0, 2]), (r"(?m:^)a(?m:$)", []), (r"(?im)^a$", []), (r"[^a]\^\$[$]", []),
    (r"(?:(?m:^)|\s)a$", [14]), (r"\Aa\z", [0, 3]), (r"(?m:(?:^))a", []),
], ids=["plain", "scoped-m", "global-m", "classes-and-escapes", "after-scoped-group", "text-anchors", "nested"])
def test_bare_anchor_finder(regex: str, bare: list[int]) -> None:
    assert _bare_anchors(regex) == bare


# Sources scan windows of lines (a merged run of lines, the lines a commit adds), and history skips a
# window when no rule matches anywhere in it: both rely on rules anchoring at line edges only.
@pytest.mark.parametrize("rule", default_rules(), ids=lambda r: r.id)
def test_rules_anchor_at_line_edges_not_buffer_edges(rule) -> None:  # type: ignore[no-untyped-def]
    assert _bare_anchors(rule.regex) == [], f"{rule.id}: use (?m:^) / (?m:$), not a bare anchor"
