"""Cheap heuristics that recognise placeholders and example values, so they are never reported."""
from __future__ import annotations

import re

from .model import Rule

_PLACEHOLDER_WORDS = re.compile(
    r"(?i)(?:your[_-]?|my[_-]?)(?:api[_-]?)?(?:key|token|secret|password)|changeme|placeholder|redacted"
    r"|xxxxxx|\*\*\*\*|<[a-z_ -]+>|\$\{[^}]*\}|\{\{[^}]*\}\}|example|dummy|insert[_-]?here"
)


def is_placeholder(secret: str, rule: Rule) -> bool:
    """True when the value is evidently not a real credential."""
    if len(set(secret)) <= 2 and len(secret) >= 4:
        return True
    return _PLACEHOLDER_WORDS.search(secret) is not None
