"""Writing a report or a baseline file: atomically where it is a regular file, in place where it is not."""
from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from typing import TextIO

from .errors import LeakscanError


def write_text(path: str | os.PathLike[str], write: Callable[[TextIO], object]) -> None:
    """Write a UTF-8 text file through ``write``.

    A regular file (or one yet to be made) is written to a temporary file beside it and renamed over it,
    so a reader never sees half a report; an existing file keeps its permissions, and a symlink keeps
    pointing at it. Anything else (``/dev/stdout``, ``/dev/null``, a FIFO) is written in place: renaming
    over it would replace the device with a file for every later user of that name.
    """
    name = os.fspath(path)
    try:
        st: os.stat_result | None = os.stat(name)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise LeakscanError(f"cannot write {name}: {exc.strerror or exc}") from None
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            with open(name, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as fh:
                write(fh)
            return
        _replace(os.path.realpath(name), write, st)  # a symlink, even a dangling one, keeps pointing there
    except OSError as exc:
        raise LeakscanError(f"cannot write {name}: {exc.strerror or exc}") from None


def _replace(target: str, write: Callable[[TextIO], object], st: os.stat_result | None) -> None:
    import tempfile  # only where a file is written

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".leakscan-", suffix=".tmp")
    try:
        with io.open(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as fh:
            write(fh)
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # mkstemp makes it 0600: keep what the file had
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
