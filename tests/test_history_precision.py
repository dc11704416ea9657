"""Precision on full histories: vendored editors, test runners, UI bundles and lexers that real repositories
carried at some commit (ipython, jupyter/notebook, flask, requests) raise no false alarm; real-looking
passwords and tokens next to those shapes are still reported."""
from __future__ import annotations

import pytest

from scanner.engine import Engine
from tests.test_precision import _found


@pytest.mark.parametrize(("text", "path"), [
    pytest.param('        {token:"markup.heading.1",regex:"^=+(?=\\\\s*$)"},', "static/ace/mode-markdown.js",
                 id="lexer-token-name-with-level"),
    pytest.param("      token = 'variable-2';", "static/codemirror/mode/rst/rst.js", id="lexer-token-name-numbered"),
    pytest.param("    var s = {'mt-pass' : 'mt-fail'};", "static/codemirror/test/mode_test.js",
                 id="test-outcome-class-names"),
    pytest.param('\t\tclassName: { "pass" : "fail" }[result],', "static/qunit/qunit.js", id="test-outcome-map"),
    pytest.param("    Token.String: '#ansiyellow',", "IPython/terminal/interactiveshell.py", id="colour-name-with-hash"),
    pytest.param("            elif token == 'linestatement_begin':", "jinja2/lexer.py", id="lexer-token-type-comparison"),
    pytest.param("            elif token == '#bygroup':", "jinja2/lexer.py", id="lexer-marker-comparison"),
    pytest.param('        if pass_arg == "environment":', "jinja2/compiler.py", id="pass-the-verb"),
    pytest.param('    "Password":"Contraseña",', "flasgger/ui2/static/lang/es.js", id="translated-label-latin"),
    pytest.param('    "Password":"Пароль",', "flasgger/ui2/static/lang/ru.js", id="translated-label-cyrillic"),
    pytest.param('    "Password":"პაროლი",', "flasgger/ui2/static/lang/geo.js", id="translated-label-georgian"),
    pytest.param("    - auth: 默认认证信息（None/元组/认证对象）", "src/requests/sessions.py", id="comment-in-chinese"),
    pytest.param("    'change .oauth-password': 'setPassword',", "static/swagger-ui.js",
                 id="handler-named-for-the-second-key-word"),
    pytest.param("var input_type = content.password ? 'password' : 'text';", "static/notebook/js/main.js",
                 id="conditional-expression-branches"),
    pytest.param("this.credentials_=newCredentials?newCredentials:null;return this};", "static/main.min.js",
                 id="minified-conditional-value"),
    pytest.param("        self, private_key: ed25519.Ed25519PrivateKey, f_priv: _FragList", "crypto/ssh.py",
                 id="dotted-type-annotation"),
    pytest.param("tests/test_utils.py::TestGetNetrcAuth::test_works PASSED                 [ 67%]", "pytestoutput.txt",
                 id="scope-operator-in-test-id"),
    pytest.param('        _password = self.password.decode("utf-8") if isinstance(self.password, bytes) else x',
                 "src/requests/auth.py", id="npmrc-key-name-in-source-code"),
    pytest.param(' "url": "http://%7BENCODED_USER%7D:%7BENCODED_PASSWORD%7D@request.com/url.html#test",',
                 "audit/results.json", id="percent-encoded-placeholder"),
    pytest.param("        redis://[:password]@localhost:6379/0", "redis/client.py", id="optional-password-notation"),
    pytest.param('PAYMENT_API_KEY = "pk_test_DEMO_KEY_DO_NOT_USE_xyz789"', "src/payment_service.py",
                 id="do-not-use-marker"),
    pytest.param('<form action="/search" data-hotkey="s" method="post"><input type="hidden" name="authenticity_token" '
                 'value="Qm7TzW2xLp9vKc4RnY8bHd3FjS6gAe1UtXo5wZiV0yNqBk" /></form>',
                 "docs/_static/icon.svg", id="rails-csrf-authenticity-token"),
    pytest.param("    Token: 'contextvars.Token',  # Token.__module__ == '_contextvars'", "sphinx/util/typing.py",
                 id="private-module-name"),
    pytest.param("    can_change_password = 'frozenpassword' not in privileges", "sphinx/web/admin.py",
                 id="membership-test"),
    pytest.param("SOCIAL_AUTH_FACEBOOK_APPSECRET_PROOF = True|False", "(commit message)", id="boolean-choices"),
    pytest.param(".. _python-social-auth: https:https://github.com/https://github.com/python-social-auth",
                 "docs/thanks.rst", id="mangled-link"),
    pytest.param("        ('secrets', '0002_userkey_add_session_key'),", "app/secrets/migrations/0003_x.py",
                 id="migration-name"),
    pytest.param('  "onepassword": F880,', "static/vendor/mdi/scss/_variables.scss", id="icon-font-code-point"),
    pytest.param("\tsed -i -e \"s/SECRET_KEY = .*/SECRET_KEY = '$(shell openssl rand -hex 32)'/g\" app/conf.py",
                 "Makefile", id="sed-regular-expression"),
    pytest.param('    "Password":"Senha",', "flasgger/ui2/static/lang/pt.js", id="translated-label-ascii"),
    pytest.param("NotebookApp.password : Unicode", "docs/source/config.rst", id="documented-type-name"),
])
def test_vendored_and_generated_code_in_history_stays_quiet(engine: Engine, text: str, path: str) -> None:
    assert _found(engine, text, path=path) == []


@pytest.mark.parametrize(("text", "path", "expected"), [
    pytest.param('pass = "letmein7"', "app/settings.py", ("generic-password", "letmein7"), id="word-and-digit-password"),
    pytest.param("password: hunter2", "app/config.yml", ("generic-password-unquoted", "hunter2"),
                 id="unquoted-password"),
    pytest.param('    {"pass": "sesame"}', "app/users.json", ("generic-password", "sesame"),
                 id="word-under-pass-key-that-is-no-outcome"),
    pytest.param('db_password = "correct-horse-battery-7"', "app/settings.py",
                 ("generic-password", "correct-horse-battery-7"), id="numbered-slug-under-password-key"),
    pytest.param("    ssh_key_passphrase: secret_passphrase", "tasks/main.yml",
                 ("generic-password-unquoted", "secret_passphrase"), id="value-naming-the-second-key-word"),
    pytest.param('$pass_db = "lighthouse";', "app/config.php", ("generic-password", "lighthouse"),
                 id="word-under-pass-key-naming-its-use"),
    pytest.param('password = "schlüssel"', "app/settings.py", ("generic-password", "schlüssel"),
                 id="lowercase-word-with-umlaut"),
    pytest.param("if (creds.token == 'open_sesame') { grant(); }", "app/auth.js",
                 ("generic-secret-comparison", "open_sesame"), id="field-compared-with-snake-literal"),
    pytest.param("    token = 'x7Kq-9vRt-2mLp';", "app/client.js", ("generic-secret", "x7Kq-9vRt-2mLp"),
                 id="mixed-case-token"),
    pytest.param('auth_token: "#Kx9vRt2mLpQ7"', "app/config.yml", ("generic-secret", "#Kx9vRt2mLpQ7"),
                 id="hash-prefixed-token-with-digits"),
    pytest.param("//registry.npmjs.org/:_authToken=npm_kT8qW2zR5xV7nB3mL9pJ4hF6dS1aG0cY2eU8", ".npmrc",
                 ("npmrc-auth", "npm_kT8qW2zR5xV7nB3mL9pJ4hF6dS1aG0cY2eU8"), id="npmrc-token"),
    pytest.param("    _secret = '_Kx9vRt2mLpQ7wZ'", "app/client.py", ("generic-secret", "_Kx9vRt2mLpQ7wZ"),
                 id="underscore-prefixed-token"),
    pytest.param("    password = 'frozen-lake-42' if prod else ''", "app/settings.py",
                 ("generic-password", "frozen-lake-42"), id="password-in-a-conditional"),
    pytest.param('  "admin_password": "F880AB12",', "app/config.json", ("generic-password", "F880AB12"),
                 id="hex-password-outside-stylesheets"),
    pytest.param("SECRET_KEY = '0001_kq9VxT2mLpR7wZ'", "app/settings.py", ("generic-secret", "0001_kq9VxT2mLpR7wZ"),
                 id="mixed-case-after-digits"),
    pytest.param('    "Password": "Senha2024",', "app/appsettings.json", ("generic-password", "Senha2024"),
                 id="capitalised-password-with-digits"),
    pytest.param('    "password": "Parola",', "app/config.json", ("generic-password", "Parola"),
                 id="capitalised-word-under-a-config-key"),
])
def test_real_looking_values_next_to_those_shapes_are_reported(engine: Engine, text: str, path: str,
                                                               expected: tuple[str, str]) -> None:
    assert expected in _found(engine, text, path=path)
