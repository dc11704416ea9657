"""Recall: values the generic rules used to drop or miss (quotes inside a quoted value, chance format
characters in a random value, a base64 PEM with one bad byte) are reported, and rules may name
alternative secret groups."""
from __future__ import annotations

import base64

import pytest

from scanner import decoding
from scanner.engine import Engine
from scanner.errors import RuleError
from scanner.model import Chunk
from scanner.ruleset import build_spec, parse_rule


def _found(engine: Engine, text: str, path: str = "app/settings.yaml") -> list[tuple[str, str]]:
    return [(f.rule_id, f.secret) for f in engine.scan(Chunk(data=text.encode(), path=path)).findings]


@pytest.mark.parametrize(("text", "rule_id", "secret"), [
    pytest.param("password = '`7Rw!qZ2pLx'", "generic-password", "`7Rw!qZ2pLx", id="single-quoted-with-backtick"),
    pytest.param('ADMIN_PASSWORD: "it\'s-Gr8\\\\day"', "generic-password", "it's-Gr8\\\\day",
                 id="double-quoted-with-apostrophe-and-escape"),
    pytest.param("signing_secret: 'Zq8\"mW2!xT9vLr4KpN7b'", "generic-secret", 'Zq8"mW2!xT9vLr4KpN7b',
                 id="single-quoted-with-double-quote"),
])
def test_quoted_value_holding_another_quote_character_is_reported(
    engine: Engine, text: str, rule_id: str, secret: str
) -> None:
    assert (rule_id, secret) in _found(engine, text)


@pytest.mark.parametrize("text", [
    pytest.param("query = \"password='\" + pwd + \"'\"", id="sql-concatenation"),
    pytest.param("password = '\"+ userPassword +\"'", id="js-concatenation"),
    pytest.param("token = \"Bearer %s\"", id="format-string"),
    pytest.param("api_secret = \"{0}-{1}-suffix-{2}\"", id="format-braces"),
])
def test_concatenations_and_format_strings_stay_quiet(engine: Engine, text: str) -> None:
    assert _found(engine, text, "app/client.yaml") == []


def test_random_value_that_happens_to_hold_a_format_sequence_is_reported(engine: Engine) -> None:
    value = "x7`D}/vYR)T;W5]EBrf;_&k>qX??]G&3CF=;@vyrVBp[_hK4^?{qT/EglJe[FYjp:IPgl_t$%r"
    assert ("generic-secret", value) in _found(engine, f'jwt_secret: "{value}"\n')


PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
    "-----END RSA PRIVATE KEY-----\n"
).encode()


def test_base64_pem_with_one_corrupted_byte_is_still_decoded_and_reported(rules) -> None:  # type: ignore[no-untyped-def]
    damaged = PEM[:150] + b"\xa1" + PEM[151:]  # one byte that is not UTF-8
    text = f"PRIVATE_KEY_B64={base64.b64encode(damaged).decode()}\n"
    engine = Engine(build_spec(rules, decode_depth=2))
    findings = engine.scan(Chunk(data=text.encode(), path="deploy/.env")).findings
    assert [(f.rule_id, f.decoded) for f in findings] == [("private-key", "base64")]


def test_base64_of_binary_is_not_decoded() -> None:
    blob = bytes(range(256)) * 2  # mostly not UTF-8: tolerating a few bad bytes must not admit binary
    assert list(decoding.candidates(b"BLOB=" + base64.b64encode(blob))) == []


RULE = {
    "id": "alt-quotes",
    "description": "test",
    "regex": "key=(?:\"([a-z]+)\"|'([a-z]+)')",
    "secret_group": [1, 2],
}


@pytest.mark.parametrize(("text", "secret"), [
    pytest.param("key=\"alpha\"", "alpha", id="first-group"),
    pytest.param("key='bravo'", "bravo", id="second-group"),
])
def test_secret_group_list_takes_the_first_group_that_matched(text: str, secret: str) -> None:
    engine = Engine(build_spec([parse_rule(RULE, "test.yaml")]))
    assert [f.secret for f in engine.scan(Chunk(data=text.encode(), path="a.txt")).findings] == [secret]


@pytest.mark.parametrize("groups", [pytest.param([1, 3], id="no-such-group"), pytest.param([1, True], id="bool"),
                                    pytest.param([], id="empty")])
def test_secret_group_list_is_validated(groups: list[object]) -> None:
    with pytest.raises(RuleError):
        parse_rule({**RULE, "secret_group": groups}, "test.yaml")


def test_issued_token_holding_a_run_of_underscores_is_reported(engine: Engine) -> None:
    # base64url writes a run of 0xFF bytes as underscores: a random token may hold one
    token = "HRKU-AAqT7vLm2Xc9RfWz4Kp8NbJd3Hs6YgUe1Qo5Za_____w4_hLrA0ym8PcV2nB"
    assert ("heroku-api-key", token) in _found(engine, f'HEROKU_API_KEY="{token}"\n', "deploy/.env")


@pytest.mark.parametrize("text", [
    pytest.param('STRIPE_KEY="sk_live_________________________"', id="underscore-filler"),
    pytest.param('api_token: "abc_____________xyz"', id="underscores-between-words"),
])
def test_underscore_filler_is_still_a_placeholder(engine: Engine, text: str) -> None:
    assert _found(engine, text + "\n", "app/config.yaml") == []
