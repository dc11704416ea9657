"""The console report's summary lines as plain text, and the whole report when nothing needs styling."""
from __future__ import annotations

import os
from typing import TextIO

from . import RunInfo


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def verdict_line(leaks: int, info: RunInfo, *, identifiers: int = 0) -> str:
    if info.command == "history":
        scanned = f"{plural(info.commits_scanned, 'commit')} ({human_bytes(info.bytes_scanned)})"
    else:
        scanned = f"{plural(info.files_scanned, 'file')} ({human_bytes(info.bytes_scanned)})"
    verdict = f"{plural(leaks, 'leak')} found" if leaks else "no leaks found"
    if identifiers:
        verdict += f" ({plural(identifiers, 'identifier')} listed apart)"
    return f"{verdict}; scanned {scanned} in {info.duration:.2f}s"


def skipped_line(info: RunInfo) -> str:
    return f"{plural(len(info.skipped), 'input')} skipped (use -v to list them)" if info.skipped else ""


def clean_report(info: RunInfo) -> str:
    """The console report of a scan without findings, exactly as rich prints it to a non-terminal."""
    return "".join(f"{line}\n" for line in (verdict_line(0, info), skipped_line(info)) if line)


def unstyled(stream: TextIO, *, is_file: bool) -> bool:
    """Whether rich would print to ``stream`` without styles: then a clean report needs no rich, whose
    import is a sixth of a one-file scan. Any variable rich reads to force a terminal keeps rich."""
    if is_file:
        return True  # the reporter forces a non-terminal console for --output
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return isatty is not None and not isatty()
    except ValueError:  # a closed stream: rich treats it as no terminal, but let rich say so
        return False
