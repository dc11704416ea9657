"""Every rule's examples must be found by that rule, and its counter-examples must not be."""
from __future__ import annotations

import pytest

from scanner.engine import Engine
from scanner.model import Chunk
from scanner.regexes import TextPattern, re2_compatible
from scanner.ruleset import default_rules

RULES = default_rules()


# Rules with a `path` key only apply to some files: scan their examples under a file name they accept.
EXAMPLE_PATHS = (
    "example.txt", ".pgpass", ".pypirc", ".npmrc", ".netrc", "nuget.config", "wp-config.php", "main.tf",
    "config.json", ".htpasswd", ".git-credentials", "settings.py", "Dockerfile", "values.yaml",
)


def _path_for(rule) -> str:  # type: ignore[no-untyped-def]
    if not rule.path:
        return "example.txt"
    pattern = TextPattern(rule.path)
    return next((p for p in EXAMPLE_PATHS if pattern.search(p)), "example.txt")


def _cases(kind: str) -> list[object]:
    return [
        pytest.param(rule.id, text, _path_for(rule), id=f"{rule.id}-{i}")
        for rule in RULES
        for i, text in enumerate(getattr(rule, kind))
    ]


def _rule_ids_found(engine: Engine, text: str, path: str = "example.txt") -> set[str]:
    return {f.rule_id for f in engine.scan(Chunk(data=text.encode("utf-8"), path=path)).findings}


@pytest.mark.parametrize(("rule_id", "text", "path"), _cases("examples"))
def test_rule_finds_its_example(engine: Engine, rule_id: str, text: str, path: str) -> None:
    assert rule_id in _rule_ids_found(engine, text, path)


@pytest.mark.parametrize(("rule_id", "text", "path"), _cases("counter_examples"))
def test_rule_ignores_its_counter_example(engine: Engine, rule_id: str, text: str, path: str) -> None:
    assert rule_id not in _rule_ids_found(engine, text, path)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_examples_both_ways(rule) -> None:  # type: ignore[no-untyped-def]
    assert len(rule.examples) >= 2, "every rule needs at least 2 examples"
    assert len(rule.counter_examples) >= 1, "every rule needs at least 1 counter-example"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_builtin_rule_is_re2_syntax(rule) -> None:  # type: ignore[no-untyped-def]
    assert re2_compatible(rule.regex)


def test_there_are_enough_rules() -> None:
    assert len(RULES) >= 5


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_keywords_are_specific(rule) -> None:  # type: ignore[no-untyped-def]
    """Keywords gate rules kept out of the Hyperscan database: one- or two-letter keywords gate nothing."""
    assert rule.keywords, "every rule needs keywords (they gate it when it is confirmed whole-buffer)"
    assert all(len(k) >= 3 for k in rule.keywords), rule.keywords
