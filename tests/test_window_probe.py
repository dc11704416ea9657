"""A large change window is prefiltered as its sub-windows: every line the scan would pick lies in them."""
from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.sources import git_changes
from scanner.sources.git_changes import _probe, changed_lines
from tests.gitrepo import AWS, commit, leakscan

MakeRepo = Callable[..., Path]
WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "theta", "iota", "kappa", "lambda"]


def _text(rng: random.Random, lines: int) -> list[bytes]:
    """Code-like lines with repeats (blank lines, common lines), as real files have."""
    out = []
    for _ in range(lines):
        kind = rng.random()
        if kind < 0.1:
            out.append(b"")
        elif kind < 0.2:
            out.append(b"    return None")
        else:
            name, call = f"{rng.choice(WORDS)}_{rng.randint(0, 99)}", f"{rng.choice(WORDS)}({rng.randint(0, 9)})"
            out.append(f"    {name} = {call}".encode())
    return out


def _edit(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    new = list(lines)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(new) + 1)
        op = rng.random()
        if op < 0.3:
            new.insert(at, f"    added_{rng.randint(0, 10**6)} = 1".encode())
        elif op < 0.5 and at < len(new):
            del new[at]
        elif op < 0.6 and at < len(new):
            new[at] = b"  " + new[at]  # re-indented: a new line
        elif op < 0.7 and at < len(new):
            new[at] = new[at].lstrip()  # dedented: the end of an old line, so no text the old version lacks
        elif op < 0.85:
            j = rng.randrange(len(new))
            new.insert(at, new[j])  # a line copied from elsewhere: not new
        else:
            new[at:at] = [f"    block_{rng.randint(0, 10**6)}_{k} = {k}".encode() for k in range(rng.randint(2, 40))]
    return new


def _is_subsequence(picked: list[bytes], lines: list[bytes]) -> bool:
    it = iter(lines)
    return all(any(line == p for line in it) for p in picked)


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed-{s}")
def test_every_line_the_scan_picks_lies_in_the_probe_in_order(seed: int) -> None:
    rng = random.Random(seed)
    split = 0
    for _ in range(60):
        old_lines = _text(rng, rng.randint(300, 1500))
        old = b"\n".join(old_lines) + b"\n"
        new = b"\n".join(_edit(rng, old_lines)) + b"\n"
        start, end = changed_lines(new, old)
        if start >= end:
            continue
        if start:
            start = new.rfind(b"\n", 0, start - 1) + 1
        old_end = len(old) - (len(new) - end)
        probe = _probe(new, start, end, old, old_end)
        split += len(probe) < end - start
        # The lines holding text the old window lacks, and the lines either side of each.
        lines = new[start:end].split(b"\n")[:-1]
        old_window = old[start:old_end]
        new_text = [i for i, line in enumerate(lines) if line not in old_window]
        picked = [lines[j] for j in sorted({j for i in new_text for j in (i - 1, i, i + 1) if 0 <= j < len(lines)})]
        assert _is_subsequence(picked, probe.split(b"\n")), (seed, start, end)
    assert split > 10  # the case under test: windows that did split


def _numbered(n: int) -> list[str]:
    return [f"value_{i:04d} = compute({i}, 'x')\n" for i in range(n)]


def test_history_finds_a_key_added_amid_distant_edits_of_a_large_file(make_repo: MakeRepo,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo()
    lines = _numbered(600)  # about 20 KB: prefiltered as sub-windows
    commit(repo, "base", {"big.py": "".join(lines)})
    edited = list(lines)
    edited[10] = "value_0010 = compute(10, 'changed')\n"
    edited[300] = f"aws_access_key_id = {AWS}\n"
    edited[590] = "value_0590 = compute(590, 'changed')\n"
    added = commit(repo, "three distant edits", {"big.py": "".join(edited)})
    assert len("".join(edited)) > 2 * git_changes._SPLIT_AT
    run = leakscan(capsys, "history", str(repo))
    assert [(f["path"], f["line"], f["commit"]) for f in run.findings] == [("big.py", 301, added)]


def test_history_finds_a_second_private_key_in_a_large_file(make_repo: MakeRepo,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_history import PEM_BODY

    first = "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "-----END RSA PRIVATE KEY-----\n"
    other = first.replace("3Tz2", "9Qx7").replace("q0a8", "Zr5k")
    head, tail = "".join(_numbered(400)), "".join(_numbered(800)[400:])
    repo = make_repo()
    a = commit(repo, "one key", {"keys.txt": head + first + tail})
    b = commit(repo, "another key and an edit", {"keys.txt": head.replace("(5, 'x')", "(5, 'y')") + first + tail
                                                 + "\n" + other + tail.replace("'x'", "'z'")})
    run = leakscan(capsys, "history", str(repo))
    got = sorted((f["rule_id"], f["commit"]) for f in run.findings)
    assert got == sorted([("private-key", a), ("private-key", b)])

