"""Values typed by hand (a run of the alphabet inside them) are placeholders for every rule; random tokens
never hold such a run. Literals compared with a secret field and odd-length connection-string keys are found."""
from __future__ import annotations

import random
import string

import pytest

from scanner import filters
from scanner.engine import Engine
from scanner.model import Chunk

# Alphabets of issued token formats: base62 (GitHub, Slack, Stripe), hex (Datadog, many API keys),
# base64 (Azure keys, AWS secret keys), base64url (JWT parts, Mapbox), upper base32 (AWS key ids), Bech32 (age).
ALPHABETS = {
    "base62": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "base64": string.ascii_letters + string.digits + "+/",
    "base64url": string.ascii_letters + string.digits + "-_",
    "base32": string.ascii_uppercase + "234567",
    "bech32": "qpzry9x8gf2tvdw0s3jn54khce6mua7l",
}


def _found(engine: Engine, text: str, path: str = "app/config.txt") -> set[str]:
    return {f.rule_id for f in engine.scan(Chunk(data=text.encode(), path=path)).findings}


@pytest.mark.parametrize("alphabet", list(ALPHABETS.values()), ids=list(ALPHABETS))
def test_random_tokens_never_hold_a_counting_run(alphabet: str) -> None:
    rng = random.Random(alphabet)
    tokens = ("".join(rng.choice(alphabet) for _ in range(rng.choice((32, 40, 64, 88)))) for _ in range(20_000))
    assert [t for t in tokens if filters._has_counting_run(t.lower())] == []


@pytest.mark.parametrize(("text", "rule_id"), [
    pytest.param("sk-ant-admin01-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaop"
                 "aaaabc123xyzAA", "anthropic-admin-key", id="anthropic-typed-alphabet"),
    pytest.param('SLACK_TOKEN="xoxb-1234098765-9876543210123-AbCdEfGhIjKlMnOpQrStUvWx"', "slack-bot-token",
                 id="slack-alphabet-tail"),
    pytest.param("okta_token: 00QCjAl4MlV-WPXM-ABCDEFGHIJKL-0HmjFx-vbGua", "okta-api-token", id="okta-alphabet-run"),
])
def test_value_with_a_typed_alphabet_run_is_a_placeholder(engine: Engine, text: str, rule_id: str) -> None:
    assert rule_id not in _found(engine, text)


@pytest.mark.parametrize("text", [
    pytest.param("sk-ant-admin01-Xq7vT2mX9pLk4RzB8wYc3NfH6sDg1QaE5uVo0tKiZrWb3Lp8Nm2Qs6Vd9Rf4Tg7Yh1Uj5Ik0Ol3Pz8Xc2Vb6"
                 "Nm9Qw4Er7Ty1UiAA", id="anthropic-random"),
    pytest.param('SLACK_TOKEN="xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd"', id="slack-random"),
])
def test_random_token_of_the_same_format_is_still_found(engine: Engine, text: str) -> None:
    assert _found(engine, text) - {"generic-secret", "generic-secret-unquoted"}


@pytest.mark.parametrize(("text", "path"), [
    pytest.param('if creds.Secret != "open-sesame" {\n  http.Error(rw, "unauthorized", 401)\n}\n', "auth.go", id="go"),
    pytest.param("if (req.query.token === 'kx7-harbor-lantern') { next() }\n", "app.js", id="javascript"),
])
def test_literal_compared_with_a_secret_field_is_found(engine: Engine, text: str, path: str) -> None:
    assert "generic-secret-comparison" in _found(engine, text, path)


@pytest.mark.parametrize("text", [
    pytest.param("if creds.Secret != expectedSecret {\n", id="two-names"),
    pytest.param('if token == "undefined" {\n', id="placeholder"),
    pytest.param("if (token === 'refresh_token') {\n", id="names-its-own-kind"),
    pytest.param('if secret_name == "db-password" {\n', id="a-name-key"),
])
def test_comparison_that_holds_no_credential_is_quiet(engine: Engine, text: str) -> None:
    assert _found(engine, text, "auth.go") == set()


def test_connection_string_key_of_another_length_is_found_with_low_confidence(engine: Engine) -> None:
    text = ("DefaultEndpointsProtocol=http;AccountName=testacc1;\n"
            "AccountKey=kV3mQ8sZp1Lr9XwT4bYc7Hn2Fd6Gj0Ka5Ue8Rt3Wq1Zx/Pl4Mo7Nb2Vc==;\n"
            "BlobEndpoint=http://127.0.0.1:8440/testacc1;\n")
    found = [f for f in engine.scan(Chunk(data=text.encode(), path="app.config")).findings]
    assert [(f.rule_id, f.confidence.value, f.line) for f in found] == [("azure-connection-string-account-key", "low", 2)]
