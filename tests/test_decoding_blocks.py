"""The encoded-string check screens wrapped blocks of binary in bulk and still finds every line of text."""
from __future__ import annotations

import base64
import random
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import pytest

from scanner import decoding
from tests.gitrepo import GITHUB, commit, leakscan

MakeRepo = Callable[..., Path]
RNG_SEED = 20261128


def _binary(size: int, seed: int, head: bytes = b"\x89PNG\r\n\x1a\n") -> bytes:
    """Bytes that look like an image: a magic number, then noise (compressed data is noise)."""
    return head + random.Random(seed).randbytes(size - len(head))


def _b64_lines(payload: bytes, width: int = 76) -> list[str]:
    encoded = base64.b64encode(payload).decode()
    return [encoded[i : i + width] for i in range(0, len(encoded), width)]


def _text_line(text: str, width: int = 76) -> str:
    """One wrapped line's worth of base64 (``width`` characters, no padding) that decodes to ``text``."""
    raw = text.encode().ljust(width // 4 * 3, b" ")
    assert len(raw) == width // 4 * 3
    return base64.b64encode(raw).decode()


SECRET_LINE = _text_line(f"GITHUB_TOKEN={GITHUB}")
HEX_TEXT_LINE = f"token={GITHUB}"[:38].encode().hex()  # 76 hex digits: _decode reads it as hex


def _notebook(lines: list[str]) -> str:
    """An old-style notebook whose one output is an image stored as a list of lines (nbformat 3/4)."""
    body = ",\n".join(f'       "{line}\\n"' for line in lines)
    return ('{\n "cells": [\n  {\n   "cell_type": "code",\n   "outputs": [\n    {\n     "data": {\n'
            f'      "image/png": [\n{body}\n      ]\n     }}\n    }}\n   ]\n  }}\n ]\n}}\n')


def _reference(data: bytes) -> list[bytes]:
    """The runs that decode to text, found as before screening: every run of every line tested alone."""
    spans = chain(decoding._base64_runs(data), decoding._percent_runs(data))
    runs = (data[s:e] for s, e in spans if e - s <= decoding.MAX_CANDIDATE_LENGTH)
    return [run for run in runs if decoding._decode(run) is not None]


def _screened(data: bytes) -> list[bytes]:
    return [run for run in decoding._encoded_runs(data) if decoding._decode(run) is not None]


IMAGE = _b64_lines(_binary(57 * 20 + 10, seed=1))  # the last line is shorter and padded
IMAGE_WHOLE_LINES = _b64_lines(_binary(57 * 20, seed=2))  # ends at a line's end: no padding, no short line


@pytest.mark.parametrize("lines", [
    pytest.param(IMAGE + [SECRET_LINE], id="right-after-the-image-in-the-same-list"),
    pytest.param(IMAGE_WHOLE_LINES + [SECRET_LINE], id="after-an-image-of-whole-lines"),
    pytest.param(IMAGE[:7] + [SECRET_LINE] + IMAGE[7:], id="inside-the-image-block"),
    pytest.param([SECRET_LINE] + IMAGE, id="before-the-image"),
    pytest.param(IMAGE[:5] + [HEX_TEXT_LINE] + IMAGE[5:], id="hex-line-inside-the-image-block"),
    pytest.param(_b64_lines(b"\x89PNG\r\n\x1a\n" + f"token={GITHUB} ".encode() * 8), id="image-magic-then-text"),
])
def test_a_line_of_text_among_image_lines_is_still_checked(lines: list[str]) -> None:
    data = _notebook(lines).encode()
    assert decoding.may_hold_encoded(data)
    assert _screened(data) == _reference(data) != []


@pytest.mark.parametrize("width", [48, 1000, 1004, 1024], ids=lambda w: f"width-{w}")
def test_blocks_of_any_width_are_checked_line_by_line_alike(width: int) -> None:
    lines = _b64_lines(_binary(width // 4 * 3 * 6, seed=width), width)
    data = "\n".join(lines[:3] + [_text_line("password: Tr0ub4dor&3 staple", width)] + lines[3:]).encode()
    assert decoding.may_hold_encoded(data)
    assert _screened(data) == _reference(data) != []


def test_the_lines_of_an_image_are_screened_out_in_bulk() -> None:
    data = _notebook(IMAGE_WHOLE_LINES).encode()
    assert list(decoding._encoded_runs(data)) == [IMAGE_WHOLE_LINES[0].encode()]  # the block's first line only
    assert not decoding.may_hold_encoded(data)


def test_a_notebook_line_of_text_added_to_an_image_is_found_in_history(make_repo: MakeRepo, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    commit(repo, "plot", {"plot.ipynb": _notebook(IMAGE_WHOLE_LINES)})
    text = _notebook(IMAGE_WHOLE_LINES[:9] + [SECRET_LINE] + IMAGE_WHOLE_LINES[9:])
    added = commit(repo, "replot", {"plot.ipynb": text})
    line = next(i for i, row in enumerate(text.splitlines(), 1) if SECRET_LINE in row)
    run = leakscan(capsys, "history", str(repo))
    assert [(f["rule_id"], f["secret"], f["decoded"], f["line"], f["commit"]) for f in run.findings] == [
        ("github-pat", GITHUB, "base64", line, added)]


# Line breaks of wrapped blocks as files hold them: plain, CRLF, indented (YAML), JSON string lists.
LAYOUTS = {
    "plain": ("", "\n", ""),
    "crlf": ("", "\r\n", ""),
    "indented": ("    ", "\n", ""),
    "json-list": ('       "', '\\n",\n', ""),
    "json-list-py2": ('        "', '", \n', ""),
    "html-data-uri": ("", "\n", '<img src="data:image/png;base64,'),
    "deep-indent": (" " * 70, "\n", ""),
}


def _random_document(rng: random.Random) -> bytes:
    """Blocks of wrapped lines (binary, text, hex, cut short, padded, too long) in random layouts."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        indent, newline, lead = LAYOUTS[rng.choice(sorted(LAYOUTS))]
        width = rng.choice([48, 64, 76])
        lines = _b64_lines(_binary(rng.randint(1, 30) * width // 4 * 3 + rng.choice([0, 0, 1, 2]),
                                   seed=rng.randrange(1 << 30)), width)
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice(["text", "hex", "short", "long", "padded", "utf8"])
            line = {
                "text": lambda: _text_line(f"password={rng.randrange(10**9)}", width),
                "hex": lambda: f"pass={rng.randrange(10**9):09d} ".ljust(width // 2, "x").encode().hex(),
                "short": lambda: _text_line("some words of text here and there", width)[: width - 8],
                "long": lambda: _text_line("some words of text here and there", width) + "QUJD",
                "padded": lambda: base64.b64encode(b"x" * (width // 4 * 3 - 1)).decode(),
                "utf8": lambda: base64.b64encode("pässwört=äöü€ " .encode().ljust(width // 4 * 3, b"x")).decode(),
            }[kind]()
            lines.insert(rng.randint(0, len(lines)), line)
        parts.append(lead + newline.join(indent + line for line in lines) + newline)
        parts.append(rng.choice(["", "x = 1\n", "key: %s %d 100%\n", "url=a%3Ab%2Fc%40d%2Fe\n"]))
    return "".join(parts).encode()


@pytest.mark.parametrize("seed", range(RNG_SEED, RNG_SEED + 120))
def test_screening_finds_the_same_text_runs_as_testing_every_line(seed: int) -> None:
    data = _random_document(random.Random(seed))
    expected = _reference(data)
    assert _screened(data) == expected
    assert decoding.may_hold_encoded(data) is bool(expected)


@pytest.mark.parametrize("text", [
    pytest.param("x = '%s' % name\n" * 200 + "url=postgres%3A%2F%2Fapp%3Apw%40db%2Fapp\n", id="after-format-strings"),
    pytest.param("100% done, 50%% left\nurl=a%3Ab%2Fc%40d%2Fe and b%3Ac%2Fd%40e%2Ff\n", id="two-runs"),
    pytest.param("%3A%2F x %40 y %2F%2F%2F\n", id="escapes-too-far-apart-then-a-run"),
])
def test_percent_runs_are_found_wherever_the_first_escape_pair_is(text: str) -> None:
    data = text.encode()
    expected = []
    for m in decoding._PERCENT.finditer(data):  # the search over the whole text, as before the gate
        start = m.start()
        while start > 0 and data[start - 1 : start] not in b" \t\r\n\"'<>=`(,;":
            start -= 1
        expected.append((start, m.end()))
    assert list(decoding._percent_runs(data)) == expected != []
