"""Secrets inside base64, hex and percent-encoded strings are found, located at the encoded span."""
from __future__ import annotations

import base64
import dataclasses

import pytest

from scanner import decoding
from scanner.engine import Engine
from scanner.model import Chunk
from scanner.ruleset import build_spec

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def decoding_engine(rules) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(build_spec(rules, decode_depth=2))


@pytest.fixture(scope="module")
def plain_engine(decoding_engine) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(dataclasses.replace(decoding_engine.spec, decode_depth=0))


CASES = [
    pytest.param(f"kind: Secret\ndata:\n  db_password: {_b64('Hunter2S3cret!')}\n", "generic-password",
                 "Hunter2S3cret!", "base64", id="k8s-secret-data"),
    pytest.param(f"PRIVATE_KEY_B64={_b64(PEM)}\n", "private-key", PEM.rstrip("\n"), "base64", id="base64-pem"),
    pytest.param("DSN=" + "postgres://app:Xq7pTz2LwR9k@db.internal:5432/app".encode().hex() + "\n", "uri-credentials",
                 "Xq7pTz2LwR9k", "hex", id="hex-uri"),
    pytest.param("url=postgres%3A%2F%2Fapp%3AXq7pTz2LwR9k%40db.internal%3A5432%2Fapp\n", "uri-credentials",
                 "Xq7pTz2LwR9k", "percent", id="percent-uri"),
    pytest.param(f"blob: {_b64('token=' + _b64('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'))}\n", "github-pat",
                 "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", "base64>base64", id="nested-base64"),
]


@pytest.mark.parametrize(("text", "rule_id", "secret", "chain"), CASES)
def test_encoded_secret_is_found_at_the_encoded_span(decoding_engine, text, rule_id, secret, chain) -> None:  # type: ignore[no-untyped-def]
    findings = decoding_engine.scan(Chunk(data=text.encode(), path="x.yaml")).findings
    hits = [f for f in findings if f.rule_id == rule_id]
    assert [(f.secret, f.decoded) for f in hits] == [(secret, chain)]
    (f,) = hits
    line = text.splitlines()[f.line - 1]
    encoded = line[f.column - 1 : f.end_column - 1]
    assert len(encoded) > len(secret)  # points at the encoded text, not at a decoded copy


@pytest.mark.parametrize(("text", "rule_id", "secret", "chain"), CASES)
def test_decode_depth_zero_turns_decoding_off(plain_engine, text, rule_id, secret, chain) -> None:  # type: ignore[no-untyped-def]
    findings = plain_engine.scan(Chunk(data=text.encode(), path="x.yaml")).findings
    assert not [f for f in findings if f.decoded]


def test_nesting_stops_at_the_configured_depth(decoding_engine) -> None:  # type: ignore[no-untyped-def]
    text = f"blob: {_b64('token=' + _b64('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'))}\n".encode()
    spec = dataclasses.replace(decoding_engine.spec, decode_depth=1)
    shallow = Engine(spec).scan(Chunk(data=text, path="x")).findings
    assert not [f for f in shallow if f.rule_id == "github-pat"]


@pytest.mark.parametrize("value", [
    pytest.param("sha512-" + base64.b64encode(bytes(range(64))).decode(), id="lockfile-integrity"),
    pytest.param("4f9c0b2e7d1a4c3b9e8f5a6b7c8d9e0f4f9c0b2e", id="git-sha"),
    pytest.param("getElementByIdFromCacheOrCreate", id="identifier"),
    pytest.param(base64.b64encode(bytes(range(200, 248))).decode(), id="binary-payload"),
])
def test_non_text_payloads_are_not_decoded(value: str) -> None:
    assert list(decoding.candidates(f"x = {value}\n".encode())) == []


def test_decoding_work_is_capped_per_chunk() -> None:
    blob = "\n".join(f"k{i} = {_b64(f'value number {i:06d} padding')}" for i in range(5000)).encode()
    found = list(decoding.candidates(blob))
    assert 0 < len(found) <= decoding.MAX_CANDIDATES


@pytest.mark.parametrize(("path", "decoded"), [("deploy/secret.yaml", True), (".env", True), ("src/settings.py", False)])
def test_source_files_are_not_decoded(decoding_engine, path: str, decoded: bool) -> None:  # type: ignore[no-untyped-def]
    text = f"db_password: {_b64('Hunter2S3cret!')}\n".encode()
    findings = decoding_engine.scan(Chunk(data=text, path=path)).findings
    assert any(f.decoded for f in findings) is decoded


def _wrapped(text: str, width: int, indent: str = "", newline: str = "\n") -> str:
    encoded = _b64(text)
    return "".join(f"{indent}{encoded[i : i + width]}{newline}" for i in range(0, len(encoded), width))


WRAPPED_PEM = PEM.replace("-----\n", "-----\n" + "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n" * 3, 1)


@pytest.mark.parametrize(("head", "width", "indent", "newline"), [
    pytest.param("", 76, "", "\n", id="base64-command-76"),
    pytest.param("", 64, "", "\n", id="openssl-64"),
    pytest.param("kind: Secret\ndata:\n  tls.key: |\n", 76, "    ", "\n", id="yaml-block-scalar"),
    pytest.param("", 64, "", "\r\n", id="crlf"),
])
def test_a_wrapped_base64_block_is_decoded_as_one(decoding_engine, head, width, indent, newline) -> None:  # type: ignore[no-untyped-def]
    block = _wrapped(WRAPPED_PEM, width, indent, newline)
    text = head.replace("\n", newline) + block
    findings = decoding_engine.scan(Chunk(data=text.encode(), path="key.b64")).findings
    (f,) = [f for f in findings if f.rule_id == "private-key"]
    assert (f.secret, f.decoded) == (WRAPPED_PEM.rstrip("\n"), "base64")
    lines = text.split(newline)
    first = head.count("\n") + 1
    assert (f.line, f.column) == (first, len(indent) + 1)
    assert (f.end_line, f.end_column) == (first + block.count(newline) - 1, len(lines[f.end_line - 1]) + 1)


def test_neighbouring_values_are_not_joined_into_one_block(decoding_engine) -> None:  # type: ignore[no-untyped-def]
    first, second = "Tr0ub4dor&3-correct-horse-battery-staple!", "Xq7pTz2LwR9k-another-long-passw0rd-value!"
    text = f"data:\n  db_password: {_b64(first)}\n  api_password: {_b64(second)}\n"
    spans = [text.encode()[s:e] for s, e in decoding._candidate_spans(text.encode())]
    assert spans == [_b64(first).encode(), _b64(second).encode()]
    found = decoding_engine.scan(Chunk(data=text.encode(), path="x.yaml")).findings
    assert sorted(f.secret for f in found if f.decoded) == sorted([first, second])


TEXT64 = _b64("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8)  # base64 of text
BINARY64 = base64.b64encode(bytes(range(256))).decode()  # base64 of bytes that are not text


@pytest.mark.parametrize(("lines", "blocks"), [
    pytest.param([TEXT64[:76], TEXT64[76:156]], [[0], [1]], id="later-line-wider"),
    pytest.param([TEXT64[:76], "  " + TEXT64[76:152], TEXT64[152:228]], [[0, 1], [2]], id="indent-changes"),
    pytest.param([TEXT64[:74] + "==", TEXT64[76:152]], [[0], [1]], id="padding-ends-a-block"),
    pytest.param([TEXT64[:76], TEXT64[76:116], TEXT64[116:192]], [[0, 1], [2]], id="nothing-after-a-short-line"),
    pytest.param([TEXT64[:76] + " # note", TEXT64[76:152]], [[0], [1]], id="text-after-the-run"),
    pytest.param([TEXT64[:76], TEXT64[76:152], "CCCC=="], [[0, 1, 2]], id="short-last-line-joins"),
    pytest.param(["key: " + TEXT64[:76], "  " + TEXT64[76:152], "  " + TEXT64[152:160]], [[0, 1, 2]],
                 id="yaml-plain-scalar"),
    pytest.param([BINARY64[:76], BINARY64[76:152], BINARY64[152:228]], [[0], [1], [2]], id="not-text-stays-lines"),
])
def test_which_runs_form_one_wrapped_block(lines: list[str], blocks: list[list[int]]) -> None:
    data = "".join(f"{line}\n" for line in lines).encode()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    spans = decoding._candidate_spans(data)
    got = [[i for i in range(len(lines)) if s < starts[i + 1] and e > starts[i]] for s, e in spans]
    assert got == blocks


def test_a_long_wrapped_text_is_decoded_piecewise_and_keeps_its_end(decoding_engine) -> None:  # type: ignore[no-untyped-def]
    token = "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"
    body = "".join(f"line {i}: nothing to see in this log line at all\n" for i in range(2500))
    text = _wrapped(body + f"token={token}\n", 76)
    assert len(text) > decoding.MAX_CANDIDATE_LENGTH  # larger than one candidate may be
    found = decoding_engine.scan(Chunk(data=text.encode(), path="log.b64")).findings
    assert [f.secret for f in found if f.rule_id == "github-pat"] == [token]


def test_decoded_text_never_in_a_candidates_repr() -> None:
    secret = "Hunter2S3cret!-long-enough"
    (cand,) = decoding.candidates(f"password: {_b64(secret)}\n".encode())
    assert secret.encode() in cand.text and secret not in repr(cand) and _b64(secret) not in repr(cand)
