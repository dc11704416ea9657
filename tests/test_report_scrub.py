"""The scrubber that hides every secret of a run in a text in one pass."""
from __future__ import annotations

import time

import pytest

from scanner.report.scrub import Scrubber


@pytest.mark.parametrize(
    ("secrets", "text", "want"),
    [
        (["abcd1234"], "x=abcd1234;y=abcd1234", "x=<abcd1234>;y=<abcd1234>"),
        (["abcd1234", "abcd12345678"], "k=abcd12345678", "k=<abcd12345678>"),  # longest wins
        (["1234abcd", "abcd9999"], "1234abcd9999", "<1234abcd>9999"),  # leftmost wins, no overlap
        (["xy", "xyz0"], "axyz0 xy", "a<xyz0> <xy>"),  # shorter than the usual prefix
        (["abcd1234"], "nothing here", "nothing here"),
        ([], "abcd1234", "abcd1234"),
        (["", "abcd1234"], "abcd1234", "<abcd1234>"),
    ],
    ids=["repeated", "longest-first", "leftmost", "short-secret", "no-hit", "no-secrets", "empty-secret"],
)
def test_scrubber_replaces_every_secret(secrets: list[str], text: str, want: str) -> None:
    assert Scrubber(secrets, lambda s: f"<{s}>")(text) == want


def test_scrubber_is_linear_in_the_number_of_secrets() -> None:
    secrets = [f"tok_{i:08d}xyz" for i in range(20_000)]
    scrub = Scrubber(secrets, lambda _: "R")
    texts = [f"line {i}: tok_{i:08d}xyz and tok_{i + 1:08d}xyz" for i in range(20_000)]
    start = time.perf_counter()
    out = [scrub(t) for t in texts]
    assert out[5] == "line 5: R and R"
    assert time.perf_counter() - start < 5  # str.replace per secret per text: 4e8 calls, minutes
