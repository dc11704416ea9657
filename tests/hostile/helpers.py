"""Running leakscan as a real process under a time limit, measuring it, and reading its JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AKIA = "AKIAZ5GMHYJKLOPQRS7T"  # aws-access-key-id, 20 characters
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z0hJ2Wb7fPr3bTnG8sK1uL4a\n"
    "q0a8W2Yx3Jt6mV9nR5bK2cL7dF4gH1jS8eP0oU3iA6zQ9wX2vB5nM7kL4jH1gF3d\n"
    "-----END RSA PRIVATE KEY-----\n"
)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    max_rss_kb: int  # peak resident set of the process, from measured(); 0 from leakscan()

    def rows(self) -> list[dict[str, Any]]:
        return json.loads(self.stdout)  # type: ignore[no-any-return]

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def leakscan(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120,
             stdin: bytes | None = None) -> Run:
    """Run ``python -m scanner ARGS``; fail the test on a hang or a traceback."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", *args], cwd=cwd, env={**os.environ, **(env or {})},
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"leakscan {' '.join(args)} did not finish within {timeout}s") from None
    seconds = time.monotonic() - started
    assert b"Traceback" not in err, err.decode("utf-8", "replace")
    return Run(proc.returncode, out, err, seconds, 0)


def measured(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    """Like leakscan(), but with the exact peak memory of this one run (os.wait4)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "scanner", *args], env={**os.environ, **(env or {})},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = _drain(proc)
    proc.stdout.close()
    proc.stderr.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    assert b"Traceback" not in err, err.decode("utf-8", "replace")
    return Run(proc.returncode, out, err, seconds, usage.ru_maxrss)


def _drain(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    import threading

    chunks: dict[str, bytes] = {}

    def read(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    threads = [threading.Thread(target=read, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return chunks["out"], chunks["err"]


def position(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column in characters) of a substring, counting CRLF, CR and LF as line breaks."""
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    before = text[:idx].replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1
