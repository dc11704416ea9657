"""Precision against vendor-published values, wrong-shaped provider credentials and anonymous-FTP
passwords: each case is paired with a near twin that must still be reported."""
from __future__ import annotations

import pytest

from scanner.engine import Engine
from scanner.model import Chunk
from scanner.published import PUBLISHED_EXAMPLES


def _found(engine: Engine, text: str, path: str = "app/config.txt") -> list[tuple[str, str]]:
    return [(f.rule_id, f.secret) for f in engine.scan(Chunk(data=text.encode(), path=path)).findings]


# (line quoting a value the vendor publishes, the same line with a value nobody published)
_PUBLISHED = [
    pytest.param(
        'FirebaseOptions.Builder().setApiKey("AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM").build()',
        'FirebaseOptions.Builder().setApiKey("AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_b_p4wtM").build()',
        "src/main/kotlin/App.kt", id="firebase-sdk-test-key",
    ),
    pytest.param(
        '      "api_key": [{"current_key": "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A"}],',
        '      "api_key": [{"current_key": "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4B"}],',
        "app/google-services.json", id="firebase-demo-config",
    ),
    pytest.param(
        '      <add key="ClearTextPassword" value="hal+9ooo_da!sY" />',
        '      <add key="ClearTextPassword" value="hal+9ooo_da!sZ" />',
        "NuGet.Config", id="nuget-docs-password",
    ),
    pytest.param(
        'var s={appId:"OFCNCOG2CU",apiKey:"6fe4476ee5a1832882e326b506d14126",indexName:"npm-search"};',
        'var s={appId:"OFCNCOG2CU",apiKey:"6fe4476ee5a1832882e326b506d14127",indexName:"npm-search"};',
        "dist/bundle.js", id="yarn-npm-search-key",
    ),
]


@pytest.mark.parametrize(("published", "twin", "path"), _PUBLISHED)
def test_values_vendors_publish_are_not_reported(engine: Engine, published: str, twin: str, path: str) -> None:
    assert _found(engine, published, path) == []
    assert _found(engine, twin, path) != []


def test_every_published_value_is_recognised_by_any_rule(engine: Engine) -> None:
    text = "".join(f'api_key = "{value}"\nexport TOKEN={value}\n' for value in sorted(PUBLISHED_EXAMPLES))
    assert _found(engine, text) == []


@pytest.mark.parametrize(("text", "reported"), [
    pytest.param("export AWS_SECRET_ACCESS_KEY=9f3b0c4e7a21d8856be0f4a9c3d2e1b07f6a5c4d3e", False, id="aws-42-hex"),
    pytest.param("aws_secret_key: q7Rk2/Lw9XbN4pVt8Zc+Hs3Jd6Fm1Ga5Ye0Ui", False, id="aws-37-chars"),
    pytest.param("SERVICE_SECRET_KEY=9f3b0c4e7a21d8856be0f4a9c3d2e1b07f6a5c4d3e", True, id="same-value-other-key"),
    pytest.param("MERAKI_DASHBOARD_KEY: 7c1e9a3F52b0d84e6a1c9f7b3e5d2a0c8b4f6e19", False, id="meraki-mixed-case"),
    pytest.param("meraki_api_token = 0d9e4b7a2c5f8e1b3a6d9c2f5e8b1a4d7c0f3e6b9a2d5c8f1e4b7a0d3c6f9e2b5a8dX7",
                 False, id="meraki-too-long"),
    pytest.param("meraki_api_token = 0d9e4b7a2c5f8e1b3a6d9c2f5e8b1a4d7c0f3e6b", True, id="meraki-40-hex"),
])
def test_provider_key_names_reject_values_of_another_shape(engine: Engine, text: str, reported: bool) -> None:
    assert bool(_found(engine, text)) is reported


@pytest.mark.parametrize(("text", "path", "reported"), [
    pytest.param('    cfg->password = "curlftp@";', "src/ftp.c", False, id="c-client-identity"),
    pytest.param('FTP_PASSWORD = "mirror-bot@"', "mirror/settings.py", False, id="python-setting"),
    pytest.param('FTP_PASSWORD = "Mirr0r-b0t@"', "mirror/settings.py", True, id="mixed-case-password"),
    pytest.param('FTP_PASSWORD = "mirror-bot@9"', "mirror/settings.py", True, id="text-after-at"),
])
def test_anonymous_ftp_identities_are_not_passwords(engine: Engine, text: str, path: str, reported: bool) -> None:
    assert bool(_found(engine, text, path)) is reported
