"""The common prefix and suffix of two versions, which bound the lines a change touched, are exact."""
from __future__ import annotations

import random

import pytest

from scanner.sources import git_changes
from scanner.sources.git_changes import changed_lines

STEP = git_changes._STEP


def _naive_prefix(a: bytes, b: bytes) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _naive_suffix(a: bytes, b: bytes, limit: int) -> int:
    n = 0
    while n < limit and a[len(a) - 1 - n] == b[len(b) - 1 - n]:
        n += 1
    return n


def _pairs(seed: int) -> list[tuple[bytes, bytes]]:
    """Versions that differ at random places, at page edges, in length, or not at all."""
    rng = random.Random(seed)
    out = []
    for _ in range(400):
        size = rng.choice([0, 1, 7, STEP - 1, STEP, STEP + 1, 3 * STEP, rng.randint(0, 5 * STEP)])
        a = bytes(rng.choice(b"ab\n") for _ in range(size))
        b = bytearray(a)
        for _ in range(rng.randint(0, 3)):
            if not b:
                break
            at = rng.choice([0, len(b) - 1, STEP - 1, STEP, 2 * STEP - 1, rng.randrange(len(b))]) % len(b)
            b[at] = b[at] ^ 0x80 if rng.random() < 0.5 else b[at] ^ 1
        if rng.random() < 0.3:
            cut = rng.randint(0, len(b))
            b[cut:cut] = bytes(rng.choice(b"ab\n") for _ in range(rng.randint(1, STEP + 2)))
        if rng.random() < 0.5:
            a, b = bytes(b), a
        out.append((a, bytes(b)))
    return out


@pytest.mark.parametrize("seed", [1, 2], ids=["seed-1", "seed-2"])
def test_common_prefix_and_suffix_match_a_byte_by_byte_count(seed: int) -> None:
    for a, b in _pairs(seed):
        pre = git_changes._prefix_length(a, 0, len(a), b, 0, len(b))
        assert pre == _naive_prefix(a, b)
        limit = min(len(a), len(b)) - pre
        suffix = git_changes._suffix_length(a, len(a) - limit, len(a), b, len(b) - limit, len(b))
        assert suffix == _naive_suffix(a, b, limit)


@pytest.mark.parametrize(("old", "new", "lines"), [
    pytest.param(b"a\nb\nc\n", b"a\nX\nc\n", b"X\n", id="one-line-edited"),
    pytest.param(b"a\nb\n", b"a\nb\nc\n", b"c\n", id="line-appended"),
    pytest.param(b"a\nb\nc\n", b"a\nc\n", b"", id="line-deleted"),
    pytest.param(b"a\nb\n", b"a\nb\n", b"", id="unchanged"),
    pytest.param(b"ab\ncd\n", b"abcd\n", b"abcd\n", id="lines-joined"),
    pytest.param(b"x" * STEP + b"\nold\n" + b"y" * STEP, b"x" * STEP + b"\nnew\n" + b"y" * STEP, b"new\n",
                 id="edit-between-pages"),
])
def test_changed_lines_are_the_whole_lines_between_prefix_and_suffix(old: bytes, new: bytes, lines: bytes) -> None:
    start, end = changed_lines(new, old)
    assert new[start:end] == lines
