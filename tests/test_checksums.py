"""Checksum validators recompute what the provider embeds, and a changed character fails them."""
from __future__ import annotations

import pytest

from scanner import checksums
from scanner.engine import Engine
from scanner.model import Chunk, Confidence

# Generated for these tests (32 random bytes, Bech32-encoded with age's HRP); not a published key.
AGE_KEY = "AGE-SECRET-KEY-1GVDX3WNCKXUVNWRUWK57SYMF7FCVW9XY88C34927JTSAAVCWHJZQUK5M9Y"

# The first Grafana token is the one in Grafana's own satokengen test; the Packagist key is the example in
# Private Packagist's API authentication docs. The others were generated with each provider's algorithm.
VALID = [
    pytest.param("grafana-crc32-le", "glsa_yscW25imSKJIuav8zF37RZmnbiDvB05G_fcaaf58a", id="grafana-upstream-test-token"),
    pytest.param("grafana-crc32-le", "glsa_8r7fJhaQzeFWUgIICknr6ZHjrKSbajpT_8c202aa0", id="grafana-generated"),
    pytest.param("crc32-hex-suffix", "packagist_ack_ffce048835c6cdea47bcc4b73c79", id="packagist-docs-api-key"),
    pytest.param(
        "crc32-hex-suffix",
        "packagist_uut_abd206e652442cb3819304e9d282e80edf280b511dc708ae932cc3a6f80dc7ffa849",
        id="packagist-user-token",
    ),
    pytest.param("bech32", AGE_KEY, id="age-identity"),
    pytest.param("bech32", AGE_KEY.lower(), id="age-identity-lower-case"),
    pytest.param("bech32", "age1n54wgqpruprfhy3v24acqznua4pqdw0wvs6q9nprg4aa4d0yzwms7gtjhl", id="age-recipient"),
]


@pytest.mark.parametrize(("name", "token"), VALID)
def test_checksum_accepts_provider_token(name: str, token: str) -> None:
    assert checksums.check(name, token)


def _flip(token: str, index: int) -> str:
    ch = token[index]
    return token[:index] + ("1" if ch != "1" else "2") + token[index + 1 :]


@pytest.mark.parametrize(("name", "token"), VALID)
@pytest.mark.parametrize("where", ["body", "checksum"])
def test_checksum_rejects_one_changed_character(name: str, token: str, where: str) -> None:
    index = 20 if where == "body" else len(token) - 3
    assert not checksums.check(name, _flip(token, index))


@pytest.mark.parametrize(
    ("name", "token"),
    [
        pytest.param("grafana-crc32-le", "glsa_8r7fJhaQzeFWUgIICknr6ZHjrKSbajpT", id="grafana-no-suffix"),
        pytest.param("grafana-crc32-le", "glsa_8r7fJhaQzeFWUgIICknr6ZHjrKSbajpT_8c20", id="grafana-short-suffix"),
        pytest.param("crc32-hex-suffix", "8c202aa0", id="hex-suffix-only"),
        pytest.param("bech32", AGE_KEY[:30] + AGE_KEY[31] + AGE_KEY[30] + AGE_KEY[32:], id="bech32-swapped-characters"),
        pytest.param("bech32", "AGE-SECRET-KEY-1" + "Q" * 58, id="bech32-all-zero-placeholder"),
        pytest.param("bech32", "AGE-SECRET-KEY-1" + "B" * 58, id="bech32-outside-alphabet"),
        pytest.param("bech32", "no-separator", id="bech32-no-separator"),
    ],
)
def test_checksum_rejects_malformed_token(name: str, token: str) -> None:
    assert not checksums.check(name, token)


@pytest.mark.parametrize(
    ("text", "rule_id", "confidence"),
    [
        pytest.param("GRAFANA_TOKEN=glsa_8r7fJhaQzeFWUgIICknr6ZHjrKSbajpT_8c202aa0",
                     "grafana-service-account-token", Confidence.HIGH, id="grafana-valid"),
        pytest.param("GRAFANA_TOKEN=glsa_8r7fJhaQzeFWUgIICknr6ZHjrKSbajpT_8c202aa1",
                     "grafana-service-account-token", Confidence.LOW, id="grafana-bad-checksum"),
        pytest.param("PACKAGIST_API_SECRET=packagist_acs_489df8c505134c79633aa8565443325143ef5dbbd71dc49f",
                     "packagist-api-secret", Confidence.HIGH, id="packagist-valid"),
        pytest.param("PACKAGIST_API_SECRET=packagist_acs_489df8c505134c79633aa8565443325143ef5dbbd71dc49e",
                     "packagist-api-secret", Confidence.LOW, id="packagist-bad-checksum"),
        pytest.param(f"SOPS_AGE_KEY={AGE_KEY}", "age-secret-key", Confidence.HIGH, id="age-valid"),
        pytest.param("SOPS_AGE_KEY=AGE-SECRET-KEY-1" + "Q" * 58, "age-secret-key", Confidence.LOW,
                     id="age-bad-checksum"),
    ],
)
def test_rule_confidence_follows_checksum(engine: Engine, text: str, rule_id: str, confidence: Confidence) -> None:
    found = [f for f in engine.scan(Chunk(data=text.encode(), path="x.env")).findings if f.rule_id == rule_id]
    assert [f.confidence for f in found] == [confidence]
