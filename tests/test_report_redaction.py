"""End to end: no planted secret in any SARIF document, nor in any format with --redact."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.cli.common import FORMATS

PEM_BODY = ("MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a",
            "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d")
SECRETS = {
    "github": "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",
    "github-2": "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",
    "aws-id": "AKIAOD22BF5Z32M3NBP6",
    "aws-secret": "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",
    "slack": "xoxb-2634872396-4218734862385-Tr8uQ3nW1zXk5JpL9mVb2sYd",
    "stripe": "sk_live_51Hx3k2LqM8nV7bR4tY6wZ9pQ0sD",
    "pem-1": PEM_BODY[0],
    "pem-2": PEM_BODY[1],
}
FILES = {
    "app/settings.py": f"GITHUB = '{SECRETS['github']}'\nBACKUP = '{SECRETS['github-2']}'  # {SECRETS['github']}\n",
    "deploy/credentials.csv": (
        "User name,Password,Access key ID,Secret access key\n"
        f"ci,,{SECRETS['aws-id']},{SECRETS['aws-secret']}\n"
    ),
    "chat.yaml": f"slack:\n  token: {SECRETS['slack']}\n  stripe: {SECRETS['stripe']}\n",
    "keys/id_rsa": "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n",
}


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["scan", str(root), *args])
    assert result.exit_code == 1, result.output
    return result.stdout


def test_the_fixture_really_plants_every_secret(planted: Path) -> None:
    rows = json.loads(_run(planted, "-f", "json"))
    reported = {r["secret"] for r in rows} | {rel["secret"] for r in rows for rel in r["related"]}
    found_text = json.dumps(rows)
    for name, secret in SECRETS.items():
        assert secret in reported or secret in found_text, f"{name} was not found, so the test proves nothing"


@pytest.mark.parametrize("redact", [False, True], ids=["plain", "redact"])
def test_no_planted_secret_in_sarif(planted: Path, redact: bool) -> None:
    text = _run(planted, "-f", "sarif", *(["--redact"] if redact else []))
    assert json.loads(text)["runs"][0]["results"]
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} leaked into SARIF"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_planted_secret_in_any_format_with_redact(planted: Path, fmt: str) -> None:
    text = _run(planted, "-f", fmt, "--redact", "--show-secrets")
    assert "REDACTED" in text or fmt == "sarif"
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} leaked into {fmt} despite --redact"
