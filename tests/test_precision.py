"""Precision: placeholders, references and non-secrets are dropped; confidence is graded; generic
rules stay out of binaries; a specific rule's finding wins over a generic one on the same secret."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner import filters
from scanner.engine import Engine
from scanner.model import Chunk, Confidence, Kind


def _found(engine: Engine, text: str, path: str = "app/config.txt", kind: str = "file") -> list[tuple[str, str]]:
    """Secrets found; identifiers (a bucket in a URL) are reported apart and are no false alarm."""
    chunk = Chunk(data=text.encode(), path=path, kind=kind)
    return [(f.rule_id, f.secret) for f in engine.scan(chunk).findings if f.kind is Kind.SECRET]


@pytest.mark.parametrize("text", [
    pytest.param('api_key = "YOUR_API_KEY_HERE"', id="your-api-key"),
    pytest.param('password = "<password>"', id="angle-brackets"),
    pytest.param('token = "xxxxxxxxxxxxxxxxxxxx"', id="xxxx"),
    pytest.param('password: "********"', id="stars"),
    pytest.param('DB_PASSWORD=changeme', id="changeme"),
    pytest.param('secret_key = "example-secret-key-value"', id="example"),
    pytest.param('api_token = "dummy_token_for_tests_0001"', id="dummy"),
    pytest.param('api_key = "1234567890abcdef1234567890abcdef"', id="sequential"),
    pytest.param('client_secret = "abcabcabcabcabcabcabc"', id="repeated"),
    pytest.param('aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', id="aws-published-example"),
    pytest.param('jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"', id="jwt-io-sample"),
    pytest.param('stripe.api_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"', id="stripe-documented-key"),
])
def test_placeholders_and_published_examples_are_not_reported(engine: Engine, text: str) -> None:
    assert _found(engine, text) == []


@pytest.mark.parametrize("text", [
    pytest.param('password = os.environ["DB_PASSWORD"]', id="python-environ"),
    pytest.param('password = os.getenv("DB_PASSWORD")', id="python-getenv"),
    pytest.param("const token = process.env.API_TOKEN;", id="node-process-env"),
    pytest.param("api_key = ENV['API_KEY']", id="ruby-env"),
    pytest.param('String pw = System.getenv("DB_PASSWORD");', id="java-getenv"),
    pytest.param("DB_PASSWORD=$DB_PASSWORD_FROM_VAULT", id="shell-var"),
    pytest.param('password: "${DB_PASSWORD}"', id="dollar-brace"),
    pytest.param('api_key: "{{ .Values.apiKey }}"', id="template"),
    pytest.param("client_secret: vault:secret/data/app#client_secret", id="vault-ref"),
    pytest.param("db_password: ssm:/prod/db/password", id="ssm-ref"),
    pytest.param('secret_token: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"', id="secretsmanager-arn"),
    pytest.param("password: ENC[AES256_GCM,data:W3PiZ6lD6bpfAdI=,iv:2qF98ZkchgfWF4tZ,tag:x==,type:str]", id="sops"),
    pytest.param('password = "%(db_password)s"', id="python-format"),
])
def test_references_are_not_values(engine: Engine, text: str) -> None:
    assert _found(engine, text) == []


@pytest.mark.parametrize("text", [
    pytest.param('integrity_token = "sha512-9f2c7e1a0b4d8e6f3a5c7d9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"', id="sri"),
    pytest.param('image_token: "sha256:4f9c0b2e7d1a4c3b9e8f5a6b7c8d9e0f4f9c0b2e7d1a4c3b9e8f5a6b7c8d9e0f"', id="image-digest"),
    pytest.param('kms_key_id = "555ea4a3-d53a-4412-9c66-3a7cb667b0d6"', id="uuid-identifier"),
    pytest.param('secret_name = "prod/payments/stripe-api-key"', id="secret-name"),
    pytest.param('token_url = "https://auth.example.net/oauth/token"', id="url"),
    pytest.param('private_key_path = "/etc/ssl/private/server.key"', id="path"),
    pytest.param('api_key_file = "credentials.json"', id="file-name"),
    pytest.param('publicToken = "9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit"', id="public"),
    pytest.param("secret_length = X25519.secret_length", id="code"),
    pytest.param('password_hash = "5f4dcc3b5aa765d61d8327deb882cf99"', id="hash-key"),
    pytest.param('icon_token = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"', id="data-uri"),
    pytest.param('password_label = "Enter your password below"', id="prose"),
    pytest.param('USER_PASSWD = "%s:%s" % (USER, PASSWD)', id="format-string"),
    pytest.param("authorization = authorization[1].encode('ascii')", id="code-expression"),
])
def test_values_that_are_not_secrets_are_not_reported(engine: Engine, text: str) -> None:
    assert _found(engine, text) == []


@pytest.mark.parametrize(("text", "rule_id", "secret"), [
    pytest.param('db_password = "Tr0ub4dor&3x"', "generic-password", "Tr0ub4dor&3x", id="password"),
    pytest.param("SECRET_KEY=q8Vt2LmX9wKz4RbN7pYc", "generic-secret-unquoted", "q8Vt2LmX9wKz4RbN7pYc", id="env"),
    pytest.param('"client_secret": "6da89121079f83b2eb6acccf8219ea98"', "generic-secret", "6da89121079f83b2eb6acccf8219ea98",
                 id="json-hex-secret"),
    pytest.param('billing_api_key = "0c5a3f2e-7b1d-4e9a-8c6f-2d4b1a9e7f30"', "generic-secret",
                 "0c5a3f2e-7b1d-4e9a-8c6f-2d4b1a9e7f30", id="uuid-shaped-key"),
])
def test_real_looking_generic_secrets_are_reported(engine: Engine, text: str, rule_id: str, secret: str) -> None:
    assert _found(engine, text) == [(rule_id, secret)]


@pytest.mark.parametrize("text", [
    pytest.param("self.username, self.password = credentials", id="python-assignment"),
    pytest.param("smtp.password = sim_auth", id="attribute"),
    pytest.param("PseudoToken = Whitespace + group(PseudoExtras, Number)", id="expression"),
])
def test_unquoted_names_in_source_code_are_variables(engine: Engine, text: str) -> None:
    assert _found(engine, text, path="lib/client.py") == []
    assert _found(engine, text.replace(" + group(PseudoExtras, Number)", ""), path="conf/app.ini") != []


def test_generic_rules_do_not_run_on_strings_from_binaries(engine: Engine) -> None:
    text = 'db_password = "Tr0ub4dor&3x"\ngh = 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\n'
    as_text = {rule for rule, _ in _found(engine, text)}
    as_binary = {rule for rule, _ in _found(engine, text, kind="binary-strings")}
    assert as_text == {"generic-password", "github-pat"}
    assert as_binary == {"github-pat"}


def test_specific_rule_wins_over_generic_on_the_same_secret(engine: Engine) -> None:
    assert _found(engine, "GITHUB_TOKEN=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") == [
        ("github-pat", "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")]


@pytest.mark.parametrize(("text", "path", "confidence"), [
    pytest.param('client_secret = "q8Vt2#LmX9wKz4RbN7pYc!e5"', "app/settings.py", Confidence.MEDIUM, id="random-value"),
    pytest.param('password = "kitten1"', "app/settings.py", Confidence.LOW, id="short-low-entropy"),
    pytest.param('client_secret = "q8Vt2#LmX9wKz4RbN7pYc!e5"', "tests/test_settings.py", Confidence.LOW, id="test-path"),
    pytest.param("k = 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", "app/settings.py", Confidence.HIGH, id="valid-checksum"),
    pytest.param("k = ghp_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH814Un4J", "app/settings.py", Confidence.LOW, id="bad-checksum"),
])
def test_confidence_is_graded(engine: Engine, text: str, path: str, confidence: Confidence) -> None:
    (finding,) = engine.scan(Chunk(data=text.encode(), path=path)).findings
    assert finding.confidence is confidence


def test_encrypted_private_key_is_reported_with_lower_severity(engine: Engine) -> None:
    text = ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQIq3Bv7zXe2LkCAggA\n"
            "-----END ENCRYPTED PRIVATE KEY-----\n")
    (finding,) = engine.scan(Chunk(data=text.encode(), path="k.pem")).findings
    assert finding.rule_id == "private-key-encrypted"
    assert finding.severity.rank < engine.rules[[r.id for r in engine.rules].index("private-key")].severity.rank


def _scan_json(root: Path, *args: str) -> list[dict[str, object]]:
    out = root / "out.json"
    done = subprocess.run([sys.executable, "-m", "scanner", "scan", str(root / "src"), "--format", "json", "--output",
                           str(out), "-q", *args], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_decode_depth_option_controls_decoding(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    encoded = base64.b64encode(b"Hunter2S3cret!").decode()
    (src / "secret.yaml").write_text(f"apiVersion: v1\nkind: Secret\ndata:\n  db_password: {encoded}\n")
    default = _scan_json(tmp_path)
    off = _scan_json(tmp_path, "--decode-depth", "0")
    assert [(r["rule_id"], r["decoded"], r["line"]) for r in default] == [("generic-password", "base64", 4)]
    assert all(r["decoded"] is None for r in off)


@pytest.mark.parametrize(("text", "path"), [
    pytest.param('    Token.LinenoEm: "ansibrightgreen",', "pkg/colors.py", id="colour-name-after-token-key"),
    pytest.param('    "pwd": "IPython.core.magics.osm:OSMagics",', "pkg/table.py", id="entry-point-path"),
    pytest.param('    "pass_through": pass_through,', "pkg/filters.py", id="value-named-like-its-key"),
    pytest.param("        if tok.token == tokenize.OP:", "pkg/tokens.py", id="comparison-with-attribute"),
    pytest.param('    "password": "%60%7B%7D",', "tests/urls.json", id="percent-escaped-punctuation"),
], )
def test_real_repository_false_positives_stay_quiet(engine: Engine, text: str, path: str) -> None:
    """Lines that produced false alarms on real repositories (ipython, httpx): code, names and escapes."""
    assert _found(engine, text, path=path) == []


def test_a_random_lowercase_password_is_still_reported(engine: Engine) -> None:
    # App passwords are random lower-case letters: the word filter only applies after token/secret keys.
    assert _found(engine, 'smtp_password = "vzihlaquknriqlht"') == [("generic-password", "vzihlaquknriqlht")]


@pytest.mark.parametrize(("text", "path"), [
    pytest.param("    parser.add_argument('--token', '--auth-token', dest='auth_token')", "tool/cli.py",
                 id="argparse-option-names"),
    pytest.param("        self.passwords = passwords", "tool/runner.py", id="attribute-named-like-its-value"),
    pytest.param("$credential = New-Object -TypeName System.Net.NetworkCredential -ArgumentList $User, $Pass",
                 "modules/Web.psm1", id="powershell-cmdlet"),
    pytest.param('    lazy_import("ProxyPasswordManager", "compat3", "compat.auth"),', "vendor/compat.py",
                 id="class-name-key"),
    pytest.param("    update_password: always", "roles/users/tasks/main.yml", id="password-policy-setting"),
    pytest.param("        if self.update_password == 'on_create' and self.password is not None:", "modules/user.py",
                 id="password-policy-comparison"),
    pytest.param("    value = lookup('community.general.password', 'credentials/' + name)", "plugins/lookup_demo.py",
                 id="lookup-directory-argument"),
    pytest.param("smtp_password = @SMTP_PASSWORD@", "conf/app.ini.in", id="autoconf-substitution"),
    pytest.param("api_token: @API_TOKEN", "config/cloud.ini.template", id="template-substitution"),
    pytest.param("$WIN_FLAG_NO_EXPIRE_PASSWORD = 65536", "scripts/limits.ps1", id="flag-constant"),
    pytest.param("    public class SessionToken : IDisposable", "scripts/Native.ps1", id="class-declaration"),
    pytest.param("    assert headers == {'Authorization': 'Basic dXNlcjo='}", "tests/test_auth.py",
                 id="basic-auth-without-password"),
    pytest.param('    b"Authorization: Digest username=\\"bob\\", realm=\\"api\\", nonce=\\"x\\""', "tests/test_digest.py",
                 id="digest-parameter-name"),
    pytest.param('    "NextToken": "eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiA0fQ=="',
                 "docs/examples/list-things.rst", id="pagination-token"),
    pytest.param("aws dynamodb list-tables --starting-token eyJFeGNsdXNpdmVTdGFydFRhYmxlTmFtZSI6IG51bGx9",
                 "docs/paging.rst", id="starting-token-option"),
    pytest.param('    "LockToken": "6a3c1f0e-2b4d-4e8f-9a7c-5d1e0b2f4c68",', "docs/examples/get-acl.rst",
                 id="optimistic-lock-token"),
    pytest.param('    "ClientToken": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",', "docs/examples/run.rst",
                 id="uuid-idempotency-token"),
    pytest.param('    "refreshTokenIssued": "2024-06-01T12:30:45+00:00",', "docs/examples/token.rst", id="timestamp"),
    pytest.param("The new --client-token field makes retries safe.", "CHANGELOG.rst", id="prose-flag-noun"),
    pytest.param("credential_source = Ec2InstanceMetadata", "docs/config.rst", id="credential-source-setting"),
    pytest.param("        f.write(f'machine {host} login ci password {token}\\n')", "tool/login.py",
                 id="netrc-template-in-code"),
    pytest.param('    "href": "ftp://%7B%7D:%5E%60@host/dir",', "tests/url_vectors.json", id="percent-escaped-userinfo"),
    pytest.param("      - Token: 'reference/models/token.md'", "mkdocs.yml", id="docs-page-path"),
    pytest.param("-H 'Authorization: token PERSONAL-ACCESS-TOKEN' https://api.example.com/user", "docs/api.rst",
                 id="hyphenated-name-for-the-token"),
    pytest.param('    headers = {"Authorization": "thisisnotatoken"}', "tests/test_logging.py", id="not-a-token"),
    pytest.param('Location: https://dl.example.com/a?X-Amz-Credential="releasebucket/20250130/us-east-1/s3/aws4_request"',
                 "tests/replay/download.txt", id="sigv4-credential-scope"),
    pytest.param("        'secret_scanning=\"FeatureStatus(status=\"enabled\")\", '", "tests/test_repr.py",
                 id="repr-of-a-call"),
    pytest.param("    if oauth_token and oauth_token == stored_token:", "auth/utils.py", id="comparison-of-two-names"),
    pytest.param('SESSION_TOKEN_KEY = "_auth_session_token_state"', "auth/backends/oidc.py", id="private-key-name-value"),
    pytest.param('    --authentication-mode Passwords="enterapasswordhere",Type=password \\', "docs/examples/create-user.rst",
                 id="enter-a-password-here"),
    pytest.param("aws codebuild import-source-credentials --token my-GitLab-token --server-type GITLAB",
                 "docs/examples/import.rst", id="my-something-token"),
    pytest.param('    "Url": "https://s3.amazonaws.com/calc?key=cloudformation/0f3e1a52-xmpl-4b8e-a2c1-77d0a1f3c9e2"',
                 "docs/examples/estimate.rst", id="aws-docs-xmpl-marker"),
    pytest.param("xhr.send({target:t,withCredentials:opts.credentials||cfg.credentials||app.config.withCredentials,"
                 "timeout:opts.timeout||9e3})", "static/dist/app.js",
                 id="minified-or-expression"),
])
def test_more_real_repository_false_positives_stay_quiet(engine: Engine, text: str, path: str) -> None:
    """Lines shaped like false alarms on ansible and aws-cli: option names, policy settings, template markers,
    size constants, declarations, API bookkeeping tokens, headers without a credential."""
    assert _found(engine, text, path=path) == []


@pytest.mark.parametrize(("text", "path", "rule_id"), [
    pytest.param('    "client_token": "s.4Kx9Vb2QmZ7LpT1wYcRnDe",', "deploy/vault-login.json", "generic-secret",
                 id="vault-client-token-is-not-an-idempotency-key"),
    pytest.param("    headers = {'Authorization': 'Basic YWRtaW46UzNjcjN0LVBhc3M='}", "app/client.py",
                 "http-authorization-header", id="basic-auth-with-password"),
    pytest.param("    headers = {'Authorization': 'Basic cms0X2xpdmVfOXFGMnhMN3ZUM25QOGtXNTo='}", "app/billing.py",
                 "http-authorization-header", id="basic-auth-api-key-as-user"),
    pytest.param("    update_password: Kr4ken-Always-9", "roles/users/vars.yml", "generic-password-unquoted",
                 id="password-value-that-is-not-a-setting"),
    pytest.param("        f.write(f'machine {host} login ci password Zq8vN2rT5wXk\\n')", "tool/login.py", "netrc-password",
                 id="netrc-password-in-code"),
])
def test_real_credentials_near_those_shapes_are_still_reported(engine: Engine, text: str, path: str,
                                                               rule_id: str) -> None:
    assert [rule for rule, _ in _found(engine, text, path=path)] == [rule_id]


def test_a_sigv4_scope_decoded_from_a_presigned_url_is_not_a_secret(rules) -> None:  # type: ignore[no-untyped-def]
    # What percent-decoding a presigned URL's query leaves after Credential=: the scope runs on into the next
    # parameter, so the value does not end at aws4_request.
    scope = "releasebucket/20250130/us-east-1/s3/aws4_request&X-Amz-Date=20250130T112334Z&X-Amz-Expires=300"
    (rule,) = [r for r in rules if r.id == "generic-secret"]
    assert filters.rejection(scope, rule, match=f'Credential="{scope}"', path="tests/replay/download.txt")
