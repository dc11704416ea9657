"""Shared fixtures: isolated git identity, no network beyond loopback, a compiled default engine."""
from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.ruleset import build_spec, default_rules

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    monkeypatch.setenv("LEAKSCAN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if self.family == socket.AF_UNIX or str(host) in {"127.0.0.1", "::1", "localhost"} or str(host).startswith("127."):
        return _real_connect(self, address)
    raise RuntimeError(f"tests must not touch the network (tried {host})")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def rules():  # type: ignore[no-untyped-def]
    return default_rules()


@pytest.fixture(scope="session")
def engine(rules) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(build_spec(rules))


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the git CLI in a test repository and return its stdout."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(["git", *args], cwd=cwd, env=full_env, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def make_repo(tmp_path: Path) -> Iterator[object]:
    def _make(name: str = "repo") -> Path:
        path = tmp_path / name
        path.mkdir()
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "commit.gpgsign", "false")
        return path

    yield _make
