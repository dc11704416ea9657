"""Checksum validators recompute what the provider embeds, and a changed character fails them."""
from __future__ import annotations

import pytest

from scanner import checksums
from scanner.engine import Engine
from scanner.model import Chunk, Confidence

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
    ],
)
def test_rule_confidence_follows_checksum(engine: Engine, text: str, rule_id: str, confidence: Confidence) -> None:
    found = [f for f in engine.scan(Chunk(data=text.encode(), path="x.env")).findings if f.rule_id == rule_id]
    assert [f.confidence for f in found] == [confidence]
