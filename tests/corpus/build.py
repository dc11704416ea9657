"""Builds leakscan's own accuracy corpus: realistic project files with planted secrets and hard negatives.

    python tests/corpus/build.py OUT_DIR      # writes the tree and prints the planted secrets

Every secret is generated here from a seeded random source (nothing is copied from another scanner's
corpus). ``build(root)`` returns the plants: (path, line, rule id, secret). Files under ``clean/``
hold only hard negatives (placeholders, references, hashes, integrity strings, public material) and
must produce no finding at all.
"""
from __future__ import annotations

import base64
import json
import random
import string
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


@dataclass(frozen=True)
class Plant:
    path: str
    line: int
    rule_id: str
    secret: str


class _Secrets:
    """Random but realistic credential values, the same for the same seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def word(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def password(self) -> str:
        return self.word(6) + self.rng.choice("!#%&*+-") + self.word(5)

    def github_pat(self) -> str:
        body = self.word(30)
        crc = zlib.crc32(body.encode())
        check = ""
        while crc:
            crc, rem = divmod(crc, 62)
            check = BASE62[rem] + check
        return "ghp_" + body + check.rjust(6, "0")

    def aws_key_id(self) -> str:
        return "AKIA" + self.word(16, string.ascii_uppercase + "234567")

    def pem_body(self, lines: int) -> str:
        return "\n".join(base64.b64encode(self.rng.randbytes(48)).decode() for _ in range(lines))

    def jwt(self) -> str:
        def seg(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

        sig = base64.urlsafe_b64encode(self.rng.randbytes(32)).decode().rstrip("=")
        return f"{seg({'alg': 'HS256', 'typ': 'JWT'})}.{seg({'sub': self.word(8), 'iat': 1700000000})}.{sig}"


def _files(s: _Secrets) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """(path -> text, [(path, rule id, secret)]); the line of each secret is found in the text."""
    pw = {k: s.password() for k in ("env", "yaml", "tf", "java", "rb", "k8s", "env2", "cli", "netrc", "pgpass",
                                    "docker", "curl", "wp", "xml", "conn", "k8senv", "ini")}
    tok = {k: s.word(32) for k in ("py", "go", "nb", "log", "npm", "yaml", "ts")}
    gh, aws, jwt, db = s.github_pat(), s.aws_key_id(), s.jwt(), s.word(14)
    pem = f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU{s.pem_body(5)}\n-----END OPENSSH PRIVATE KEY-----"
    docker_auth = base64.b64encode(f"deploy:{pw['docker']}".encode()).decode()
    k8s_value = base64.b64encode(pw["k8s"].encode()).decode()
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                   "source": ["import openai\n", f'service_token = "{tok["nb"]}"\n', "client = make(service_token)\n"]}],
        "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5,
    }
    files = {
        "app/.env": f"APP_ENV=production\nDB_HOST=db.internal\nDB_PASSWORD={pw['env']}\nGITHUB_TOKEN={gh}\n",
        "app/config/settings.yaml": (f"server:\n  port: 8080\ndatabase:\n  user: app\n  password: \"{pw['yaml']}\"\n"
                                     f"integrations:\n  webhook_token: {tok['yaml']}\n"),
        "infra/main.tf": (f'resource "aws_db_instance" "main" {{\n  engine   = "postgres"\n  username = "app"\n'
                          f'  password = "{pw["tf"]}"\n}}\n'),
        "deploy/secret.yaml": (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n"
                               f"  db_password: {k8s_value}\n"),
        "deploy/deployment.yaml": (f"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
                                   f"      containers:\n        - name: api\n          env:\n"
                                   f"            - name: DB_PASSWORD\n              value: \"{pw['k8senv']}\"\n"),
        "src/app.py": (f'import os\n\nAPI_TOKEN = "{tok["py"]}"\nAWS_KEY = "{aws}"\n'
                       f'DATABASE_URL = "postgres://app:{db}@db.internal:5432/app"\n'),
        "src/main.go": f'package main\n\nfunc main() {{\n\tauthToken := "{tok["go"]}"\n\tuse(authToken)\n}}\n',
        "src/Main.java": f'class Main {{\n    private static final String DB_PASSWORD = "{pw["java"]}";\n}}\n',
        "src/app.rb": f"DB = {{\n  :user => 'app',\n  :password => '{pw['rb']}',\n}}\n",
        "src/client.ts": f'export const sessionToken = "{jwt}";\n',
        "notebooks/analysis.ipynb": json.dumps(notebook, indent=1) + "\n",
        "logs/app.log": (f"2026-01-02T10:00:00Z INFO start\n2026-01-02T10:00:01Z DEBUG request headers: "
                         f"Authorization: Bearer {tok['log']}\n2026-01-02T10:00:02Z INFO done\n"),
        "keys/deploy_key": pem + "\n",
        "home/.netrc": f"machine git.internal.net\n  login deploy\n  password {pw['netrc']}\n",
        "home/.pgpass": f"db.internal:5432:app:app:{pw['pgpass']}\n",
        "home/.npmrc": f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={tok['npm']}\n",
        "home/.docker/config.json": json.dumps({"auths": {"registry.internal.net": {"auth": docker_auth}}}, indent=2),
        "scripts/deploy.sh": (f"#!/bin/sh\nset -e\ncurl -sf -u deploy:{pw['curl']} https://ci.internal.net/hook\n"
                              f"mysqldump --user=backup --password={pw['cli']} app > dump.sql\n"),
        "web/wp-config.php": f"<?php\ndefine( 'DB_NAME', 'wp' );\ndefine( 'DB_PASSWORD', '{pw['wp']}' );\n",
        "web/Web.config": (f'<configuration>\n  <appSettings>\n    <add key="SmtpPassword" value="{pw["xml"]}" />\n'
                           f'  </appSettings>\n  <connectionStrings>\n    <add name="Main" connectionString="Server=sql01;'
                           f'Database=app;User Id=web;Password={pw["conn"]};" />\n  </connectionStrings>\n</configuration>\n'),
        "legacy/app.ini": f"[database]\nhost = db.internal\nuser = app\npassword = {pw['ini']}\n",
    }
    plants = [
        ("app/.env", "generic-password-unquoted", pw["env"]),
        ("app/.env", "github-pat", gh),
        ("app/config/settings.yaml", "generic-password", pw["yaml"]),
        ("app/config/settings.yaml", "generic-secret-unquoted", tok["yaml"]),
        ("infra/main.tf", "generic-password", pw["tf"]),
        ("deploy/secret.yaml", "generic-password", pw["k8s"]),
        ("deploy/deployment.yaml", "kubernetes-env-secret", pw["k8senv"]),
        ("src/app.py", "generic-secret", tok["py"]),
        ("src/app.py", "aws-access-key-id", aws),
        ("src/app.py", "uri-credentials", db),
        ("src/main.go", "generic-secret", tok["go"]),
        ("src/Main.java", "generic-password", pw["java"]),
        ("src/app.rb", "generic-password", pw["rb"]),
        ("src/client.ts", "jwt", jwt),
        ("notebooks/analysis.ipynb", "generic-secret", tok["nb"]),
        ("logs/app.log", "http-authorization-header", tok["log"]),
        ("keys/deploy_key", "private-key", pem),
        ("home/.netrc", "netrc-password", pw["netrc"]),
        ("home/.pgpass", "pgpass-password", pw["pgpass"]),
        ("home/.npmrc", "npmrc-auth", tok["npm"]),
        ("home/.docker/config.json", "docker-config-auth", docker_auth),
        ("scripts/deploy.sh", "curl-basic-auth", pw["curl"]),
        ("scripts/deploy.sh", "generic-cli-password", pw["cli"]),
        ("web/wp-config.php", "wordpress-config-key", pw["wp"]),
        ("web/Web.config", "generic-xml-key-value", pw["xml"]),
        ("web/Web.config", "connection-string-password", pw["conn"]),
        ("legacy/app.ini", "generic-password-unquoted", pw["ini"]),
    ]
    return files, plants


def _clean_files(s: _Secrets) -> dict[str, str]:
    """Hard negatives: each looks like a secret to a naive scanner and is not one."""
    sha = s.word(40, "0123456789abcdef")
    sri = "sha512-" + base64.b64encode(s.rng.randbytes(64)).decode()
    lock = {"name": "web", "lockfileVersion": 3, "packages": {"node_modules/left-pad": {
        "version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz", "integrity": sri}}}
    h1 = base64.b64encode(s.rng.randbytes(32)).decode()
    cert = "\n".join(base64.b64encode(s.rng.randbytes(48)).decode() for _ in range(4))
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + s.rng.randbytes(60)).decode()
    return {
        "clean/package-lock.json": json.dumps(lock, indent=2) + "\n",
        "clean/go.sum": f"github.com/pkg/errors v0.9.1 h1:{h1}\ngithub.com/pkg/errors v0.9.1/go.mod h1:{h1}\n",
        "clean/yarn.lock": f'left-pad@^1.3.0:\n  version "1.3.0"\n  resolved "https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#{sha}"\n  integrity {sri}\n',
        "clean/README.md": (
            "# Setup\n\nexport API_KEY=YOUR_API_KEY\nexport DB_PASSWORD=<your-password>\n\n```yaml\npassword: changeme\n"
            "api_token: xxxxxxxxxxxxxxxxxxxx\nsecret_key: \"********\"\n```\n\nAWS keys look like AKIAIOSFODNN7EXAMPLE and "
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.\n"
            "curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.net\n"
            "mysql -u root -p\npostgres://user:password@localhost:5432/app\n"),
        "clean/settings.py": (
            "import os\n\nDB_PASSWORD = os.environ[\"DB_PASSWORD\"]\nAPI_TOKEN = os.getenv(\"API_TOKEN\")\n"
            "SECRET_KEY = os.environ.get(\"SECRET_KEY\", \"\")\npassword_hash = \"" + s.word(32, "0123456789abcdef") + "\"\n"
            "token_url = \"https://auth.internal.net/oauth/token\"\nkey_file = \"/etc/app/server.key\"\n"),
        "clean/config.js": ("const apiKey = process.env.API_KEY;\nconst secret = config.get('auth.secret');\n"
                            "module.exports = { password: process.env.DB_PASSWORD, publicKey: 'pk_live_ignored' };\n"),
        "clean/deployment.yaml": (
            "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password\n"
            "  - name: API_TOKEN\n    value: \"{{ .Values.apiToken }}\"\nimage: nginx@sha256:" + s.word(64, "0123456789abcdef") + "\n"),
        "clean/secrets.enc.yaml": ("password: ENC[AES256_GCM,data:" + base64.b64encode(s.rng.randbytes(12)).decode()
                                   + ",iv:" + base64.b64encode(s.rng.randbytes(12)).decode() + ",type:str]\n"),
        "clean/variables.tf": ('variable "db_password" {\n  type      = string\n  sensitive = true\n}\n'
                               'password = var.db_password\ntoken    = data.vault_generic_secret.app.data["token"]\n'),
        "clean/CHANGELOG.md": f"## 1.2.0\n- commit {sha}: rotate tokens\n- request_id: 3f2b9c1e-8a4d-4e6f-9b1a-2c3d4e5f6a7b\n",
        "clean/server.crt": f"-----BEGIN CERTIFICATE-----\n{cert}\n-----END CERTIFICATE-----\n",
        "clean/id_ed25519.pub": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + s.word(43) + " deploy@ci\n",
        "clean/style.css": f".logo {{ background: url(data:image/png;base64,{png}); }}\n",
        "clean/jwt_docs.md": ("Example token from jwt.io: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6"
                              "IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n"),
        "clean/.env.example": "DB_PASSWORD=\nAPI_TOKEN=your_api_token_here\nSTRIPE_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc\n",
    }


def build(root: Path, seed: int = 20261128) -> list[Plant]:
    """Write the corpus under ``root``; return the planted secrets with the line each one is on."""
    s = _Secrets(seed)
    files, plants = _files(s)
    files.update(_clean_files(s))
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    out = []
    for rel, rule_id, secret in plants:
        text = files[rel]
        at = text.find(secret)
        if at < 0:  # encoded in the file (k8s Secret data, docker auth): the plant's line holds the encoding
            at = text.find(base64.b64encode(secret.encode()).decode())
        out.append(Plant(rel, text.count("\n", 0, at) + 1, rule_id, secret))
    return out


if __name__ == "__main__":
    for plant in build(Path(sys.argv[1])):
        print(f"{plant.path}:{plant.line}: {plant.rule_id}")
