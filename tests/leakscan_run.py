"""Run the real CLI entry point in-process and capture its exit code, stdout and stderr."""
from __future__ import annotations

import os
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@contextmanager
def _cwd(path: Path | None) -> Iterator[None]:
    old = os.getcwd()
    if path is not None:
        os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def leakscan(capsys: pytest.CaptureFixture[str], *argv: str, cwd: Path | None = None) -> Run:
    capsys.readouterr()
    code = 0
    with _cwd(cwd):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
