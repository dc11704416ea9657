"""The encoded-string check and candidates() screen wrapped blocks of binary in bulk and miss no text."""
from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path

import pytest

from scanner import decoding
from scanner.engine import Engine
from scanner.model import Chunk
from scanner.ruleset import build_spec
from tests.gitrepo import GITHUB, commit, leakscan

MakeRepo = Callable[..., Path]
RNG_SEED = 20261128


@pytest.fixture(scope="module")
def engine_decoding(rules) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(build_spec(rules, decode_depth=2))


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


def _base64_runs(data: bytes) -> Iterator[tuple[int, int]]:
    """Every base64 run _BASE64 finds, one per line."""
    for m in decoding._BASE64.finditer(data):
        start, end = m.span()
        yield end - len(data[start:end].lstrip(decoding._BASE64_LEAD)), end


def _reference(data: bytes) -> list[bytes]:
    """The runs that decode to text, found as before screening: every run of every line tested alone."""
    spans = chain(_base64_runs(data), decoding._percent_runs(data))
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


# -- candidates: stretches of wrapped lines are read at once, with the same text spans as run by run --------

def _text_spans(data: bytes, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans that candidates() decodes to text (the others it skips, at no cost to its budget)."""
    return [(s, e) for s, e in spans
            if e - s <= decoding.MAX_CANDIDATE_LENGTH and decoding._decode(data[s:e]) is not None]


def _same_text_spans(data: bytes) -> list[tuple[int, int]]:
    """The text spans of the screened reading, asserted equal to those of reading every run."""
    screened = _text_spans(data, decoding._base64_spans(data))
    assert screened == _text_spans(data, decoding._base64_spans(data, screen=False))
    return screened


def _html(lines: list[str]) -> str:
    """An HTML export of a notebook: the image as a data URI wrapped at 76 columns."""
    return '<div class="output">\n<img src="data:image/png;base64,' + "\n".join(lines) + '\n">\n</div>\n'


def _plain(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _span_of(data: bytes, line: str) -> tuple[int, int]:
    start = data.index(line.encode())
    return start, start + len(line)


@pytest.mark.parametrize("layout", [_notebook, _html, _plain], ids=["notebook-json", "html-data-uri", "plain"])
@pytest.mark.parametrize("at", [1, 9, len(IMAGE_WHOLE_LINES)], ids=["second-line", "middle", "last-line"])
def test_a_secret_line_hidden_in_an_image_block_is_a_candidate(layout: Callable[[list[str]], str], at: int,
                                                               engine_decoding: Engine) -> None:
    text = layout(IMAGE_WHOLE_LINES[:at] + [SECRET_LINE] + IMAGE_WHOLE_LINES[at:])
    data = text.encode()
    [cand] = decoding.candidates(data)
    assert ((cand.start, cand.end), cand.encoding) == (_span_of(data, SECRET_LINE), "base64")
    assert _same_text_spans(data) == [(cand.start, cand.end)]
    line = next(i for i, row in enumerate(text.splitlines(), 1) if SECRET_LINE in row)
    found = engine_decoding.scan(Chunk(data=data, path="plot.ipynb")).findings
    assert [(f.rule_id, f.secret, f.decoded, f.line) for f in found] == [("github-pat", GITHUB, "base64", line)]


@pytest.mark.parametrize("layout", [_notebook, _html, _plain], ids=["notebook-json", "html-data-uri", "plain"])
def test_the_lines_of_an_image_are_not_candidates_one_by_one(layout: Callable[[list[str]], str]) -> None:
    data = layout(IMAGE_WHOLE_LINES).encode()
    # The first line is read as a run (it says whether the block is text); the others in one decode.
    assert list(decoding._candidate_spans(data)) == [_span_of(data, IMAGE_WHOLE_LINES[0])]
    assert len(list(decoding._base64_spans(data, screen=False))) == len(IMAGE_WHOLE_LINES)
    assert list(decoding.candidates(data)) == []


# A plain block of binary longer than a candidate may be: after MAX_CANDIDATE_LENGTH, a line starts a
# block of its own (joined when it is text), as it did when runs were read one at a time.
LONG_IMAGE = _b64_lines(_binary(57 * 1800, seed=3))
CAP = next(i for i in range(len(LONG_IMAGE)) if 77 * i + 76 > decoding.MAX_CANDIDATE_LENGTH)  # first line past it


@pytest.mark.parametrize(("texts", "tail_text"), [
    pytest.param([CAP - 2], False, id="before-the-limit"),
    pytest.param([CAP - 1], False, id="last-line-within-the-limit"),
    pytest.param([CAP + 1], False, id="second-line-of-the-next-block"),
    pytest.param([5, CAP - 1, CAP + 7, 2 * CAP + 1], False, id="in-three-blocks"),
    pytest.param([], True, id="next-block-is-text"),
])
def test_a_block_longer_than_a_candidate_is_split_as_before(texts: list[int], tail_text: bool) -> None:
    lines = list(LONG_IMAGE)
    for i in texts:
        lines[i] = _text_line(f"password=Tr0ub4dor&3-{i}")
    if tail_text:
        lines[CAP:] = _b64_lines(b"log line: nothing to see here, password=Tr0ub4dor&3\n" * 40)
    data = _plain(lines).encode()
    spans = _same_text_spans(data)
    assert spans and len(spans) == max(len(texts), 1)


TEXT_LINES = _b64_lines(b"a log line with a password=Tr0ub4dor&3 in it\n" * 12)[:6]  # whole lines of text
SHORT_TEXT = _text_line("password=Tr0ub4dor&3 again")[:12]  # a last line _BASE64 is too short to find


@pytest.mark.parametrize("text", [
    pytest.param("".join(f'  "{line}\\n",\n' for line in IMAGE[:6]) + f'  "{TEXT_LINES[0]}\n{SHORT_TEXT}\n',
                 id="json-list-whose-last-line-ends-its-line"),
    pytest.param("".join(f"{line}\n" for line in IMAGE[:6]) + " " + "\n ".join(TEXT_LINES) + "\n",
                 id="indentation-changes-in-a-block"),
    pytest.param("\n ".join(IMAGE[:3]) + " \n" + "\n ".join(TEXT_LINES) + "\n",  # every line break 2 long
                 id="indentation-changes-after-trailing-space"),
    pytest.param("key: " + "\n  ".join(IMAGE[:3]) + "\x0b\n  " + IMAGE[3] + "\n    " + "\n    ".join(TEXT_LINES) + "\n",
                 id="indentation-changes-after-a-vertical-tab"),
    pytest.param("".join(f"{line}{' ' * (i % 3)}\n" for i, line in enumerate(IMAGE[:6] + TEXT_LINES)),
                 id="trailing-space-differs"),
    pytest.param("key: " + IMAGE[0] + "\n" + "".join(f"  {line}\n" for line in IMAGE[1:8] + TEXT_LINES),
                 id="yaml-plain-scalar"),
    pytest.param("".join(f"{line}\n" for line in IMAGE[:6] + ["  " + IMAGE[6]] + TEXT_LINES), id="one-line-indented"),
    pytest.param("".join(f"{line}\r\n" for line in IMAGE[:6]) + "".join(f"{line}\n" for line in TEXT_LINES),
                 id="crlf-then-lf"),
])
def test_wrapped_layouts_read_in_stretches_give_the_text_spans_read_run_by_run(text: str) -> None:
    assert _same_text_spans(text.encode()) != []


def _candidate_document(rng: random.Random) -> bytes:
    """_random_document's blocks, and blocks of text, blocks whose line breaks differ from line to line,
    blocks longer than a candidate, more on a block's last line."""
    parts = [_random_document(rng).decode()]
    for _ in range(rng.randint(1, 3)):
        width = rng.choice([64, 76])
        kind = rng.choice(["text", "binary", "text-first", "long"])
        size = {"long": 57 * 900, "text": 400}.get(kind, rng.randint(2, 30) * width // 4 * 3)
        if kind == "text":
            payload = (b"a line of text with a password=hunter2 in it\n" * (size // 40 + 1))[:size]
        else:
            head = b"token=abc\n" * 10 if kind == "text-first" else b"\x89"
            payload = _binary(size, seed=rng.randrange(1 << 30), head=head)
        lines = _b64_lines(payload, width)
        if rng.random() < 0.5:
            lines.insert(rng.randint(0, len(lines)), _text_line("password: Tr0ub4dor&3 staple", width))
        layouts = [LAYOUTS[name] for name in rng.sample(sorted(LAYOUTS), rng.choice([1, 1, 2]))]
        trailing = rng.choice(["", "", " ", "mixed"])
        out = []
        for line in lines:
            indent, newline, _lead = rng.choice(layouts)
            tail = rng.choice(["", " "]) if trailing == "mixed" else trailing
            out.append(indent + line + tail + newline)
        block = "".join(out)
        if rng.random() < 0.4:  # more on the last line's line
            block = block.rstrip("\n") + rng.choice(['">', " # end", '"', ","]) + "\n"
        parts.append(block + rng.choice(["", '">\n', "x = 1\n"]))
    return "".join(parts).encode()


@pytest.mark.parametrize("seed", range(RNG_SEED, RNG_SEED + 60))
def test_candidates_read_in_stretches_are_those_read_run_by_run(seed: int) -> None:
    _same_text_spans(_candidate_document(random.Random(seed)))
