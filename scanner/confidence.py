"""How sure a finding is: the rule's own confidence, raised by a valid checksum, graded for generic rules.

Generic rules match a value after a key name, so the value itself tells how likely it is to be a
real secret: long, high-entropy values under a strong key name are medium (high when very random),
short or low-entropy ones and anything under test / example / documentation paths are low.
"""
from __future__ import annotations

from . import checksums
from .filters import GENERIC_TAG
from .lazyregex import LazyPattern
from .model import Confidence, Rule

_TEST_PATH = LazyPattern(
    r"(?i)(?:^|[\\/])(?:tests?|spec|specs|__tests__|testdata|test_data|fixtures?|examples?|samples?|docs?|mocks?)"
    r"(?:[\\/]|$)|(?:_test|\.test|\.spec|_spec|test_[^\\/]*)\.\w+$|\.(?:md|rst|adoc|txt)$"
)


def grade(rule: Rule, secret: str, entropy: float, path: str) -> Confidence:
    """The confidence of one finding of ``rule`` (a value the filters let through)."""
    if rule.checksum:
        return Confidence.HIGH if checksums.check(rule.checksum, secret) else Confidence.LOW
    if GENERIC_TAG not in rule.tags:
        return rule.confidence
    if _TEST_PATH.search(path):
        return Confidence.LOW
    if len(secret) >= 20 and entropy >= 4.2 and _classes(secret) >= 3:
        return Confidence.HIGH if rule.confidence is Confidence.HIGH else Confidence.MEDIUM
    if len(secret) < 8 or entropy < 2.5 or _classes(secret) < 2:
        return Confidence.LOW
    return min(rule.confidence, Confidence.MEDIUM, key=lambda c: c.rank)


def _classes(secret: str) -> int:
    """How many of lower case, upper case, digits and symbols the value mixes."""
    return (
        any(c.islower() for c in secret)
        + any(c.isupper() for c in secret)
        + any(c.isdigit() for c in secret)
        + any(not c.isalnum() for c in secret)
    )
