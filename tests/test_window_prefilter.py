"""The whole-window test history scans run first: a buffer is passed over only when no selection of
its lines could hold a finding (Engine.may_match, Engine.may_decode)."""
from __future__ import annotations

import base64
import random
import sysconfig
from pathlib import Path

import pytest

from scanner import prefilter
from scanner.engine import Engine
from scanner.model import Chunk
from scanner.ruleset import build_spec
from tests.gitrepo import commit, leakscan

PLANTED = [
    'aws_key = "AKIAZ5GMHYJKLOPQRS7T"',
    "token: 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",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n-----END RSA PRIVATE KEY-----",
    "databricks configure set api_token q8Vt2LmX9wKz4RbN7pYc",
]


def _buffers() -> list[tuple[str, bytes]]:
    """Standard-library modules, a third of them with a planted secret somewhere in the middle."""
    rng = random.Random(7)
    out = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:30]:
        lines = path.read_bytes().splitlines(keepends=True)
        if lines and rng.random() < 0.35:
            lines.insert(rng.randrange(len(lines)), rng.choice(PLANTED).encode() + b"\n")
        out.append((str(path), b"".join(lines)))
    return out


def _selections(data: bytes, rng: random.Random) -> list[bytes]:
    """Line selections like the ones history scans: runs of lines, joined in order."""
    lines = data.split(b"\n")
    picks = []
    for keep in (0.05, 0.3, 0.8):
        chosen = [line for line in lines if rng.random() < keep]
        picks.append(b"\n".join(chosen) + b"\n")
    return picks


def test_window_with_a_finding_in_any_selection_is_never_passed_over(engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    found = passed_over = 0
    for path, data in _buffers():
        whole = engine.may_match(data, path)
        passed_over += not whole
        for selection in [data, *_selections(data, rng)]:
            if engine.scan(Chunk(data=selection, path=path)).findings:
                found += 1
                assert whole, path
    assert found >= 5  # the planted secrets were there to be found
    if prefilter.HAVE_HYPERSCAN:
        assert passed_over >= 5  # and the test does skip the windows that hold nothing


@pytest.mark.parametrize("line", PLANTED, ids=["hyperscan-rule", "keyword", "multiline", "keyword-gated-rule"])
def test_window_holding_a_secret_between_other_lines_is_scanned(engine, line: str) -> None:  # type: ignore[no-untyped-def]
    data = f"x = 1\n{line}\ny = 2\n".encode()
    assert engine.scan(Chunk(data=data, path="conf/settings.cfg")).findings
    assert engine.may_match(data, "conf/settings.cfg")


@pytest.fixture(scope="module")
def decoding_engine(rules) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(build_spec(rules, decode_depth=2))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("path", "text", "expected"), [
    pytest.param("deploy/secret.yaml", f"data:\n  token: {_b64('token: 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')}\n",
                 True, id="encoded-secret"),
    pytest.param("deploy/secret.yaml", f"data:\n  note: {_b64('just some readable words here')}\n", True,
                 id="encoded-text"),
    pytest.param("notebook.ipynb", '"image/png": "' + base64.b64encode(bytes(range(256)) * 4).decode() + '"\n',
                 False, id="encoded-binary"),
    pytest.param("src/settings.py", f"TOKEN = '{_b64('token: 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')}'\n",
                 False, id="source-file"),
    pytest.param("docs/readme.txt", "No encoded text at all in here.\n", False, id="plain-text"),
])
def test_may_decode_tells_whether_encoded_text_is_there(decoding_engine, engine, path: str, text: str,  # type: ignore[no-untyped-def]
                                                       expected: bool) -> None:
    assert decoding_engine.may_decode(text.encode(), path) is expected
    decoded = [f for f in decoding_engine.scan(Chunk(data=text.encode(), path=path)).findings if f.decoded]
    if decoded:
        assert expected
    assert not engine.may_decode(text.encode(), path)  # decoding off: never


def test_encoded_strings_remembered_as_binary_never_hide_text(decoding_engine) -> None:  # type: ignore[no-untyped-def]
    """A file's versions share their encoded strings: those that are not text are remembered, the rest never."""
    encoded = base64.b64encode(random.Random(3).randbytes(1024)).decode()
    binary = "".join(f'      "{encoded[i : i + 76]}\\n",\n' for i in range(0, len(encoded), 76))  # a wrapped image
    text = f"data:\n  note: {_b64('just some readable words here')}\n"
    rejected: set[bytes] = set()
    assert not decoding_engine.may_decode(binary.encode(), "notebook.ipynb", rejected)
    assert rejected
    for _version in range(2):
        assert decoding_engine.may_decode((binary + text).encode(), "notebook.ipynb", rejected)


def test_history_finds_an_encoded_secret_added_among_encoded_images(make_repo, capsys) -> None:  # type: ignore[no-untyped-def]
    """The window of the change holds the file's earlier encoded strings too: those are known not to be
    text; the new one is decoded and its secret found, at the commit that added it."""
    encoded = base64.b64encode(random.Random(5).randbytes(2048)).decode()
    image = "".join(f"  - {encoded[i : i + 76]}\n" for i in range(0, len(encoded), 76))
    repo = make_repo()
    commit(repo, "base", {"deploy/values.yaml": f"image:\n{image}token: none\nend: 1\n"})
    commit(repo, "retouch", {"deploy/values.yaml": f"image:\n{image}token: none\nend: 2\n"})
    secret = _b64("token: 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")
    added = commit(repo, "add", {"deploy/values.yaml": f"image:\n{image}token: {secret}\nend: 2\n"})
    run = leakscan(capsys, "history", str(repo))
    line = image.count("\n") + 2
    assert [(f["path"], f["line"], f["decoded"], f["commit"]) for f in run.findings] == [
        ("deploy/values.yaml", line, "base64", added)]


def _located_rules(engine: Engine) -> list[int]:
    database = engine.spec.database
    return sorted(i for d in (database.located if database is not None else ()) for i in d.rule_ids)


def test_rules_with_a_database_of_their_own_get_the_same_window_decision_as_a_scan(engine) -> None:  # type: ignore[no-untyped-def]
    # Such a rule is searched only on the lines its database hits, not over the whole window.
    located = _located_rules(engine)
    if prefilter.HAVE_HYPERSCAN:
        assert located  # the default rules have some: the test covers them
    checked = 0
    for index in located:
        rule = engine.rules[index]
        for example in rule.examples:
            data = f"x = 1\n{example}\ny = 2\n".encode()
            if any(f.rule_id == rule.id for f in engine.scan(Chunk(data=data, path="conf/app.cfg")).findings):
                assert engine.may_match(data, "conf/app.cfg"), rule.id
                checked += 1
        for keyword in rule.keywords:  # the keyword alone: the rule is gated open, yet nothing can match
            data = f"x = 1\n# see {keyword} docs\ny = 2\n".encode()
            if not engine.scan(Chunk(data=data, path="conf/app.cfg")).findings:
                assert not engine.may_match(data, "conf/app.cfg"), (rule.id, keyword)
    assert checked >= len(located)
