"""Path globs (gitignore-like) for allowlists and ignore entries, translated to regexes."""
from __future__ import annotations

import os
import re


def glob_to_regex(glob: str) -> str:
    """A regex that matches a path whose trailing components match ``glob``.

    ``*`` and ``?`` stay within one path component, ``**`` crosses them, ``[...]`` is a character
    class. A glob matches at any depth and also matches everything below a matching directory, so
    ``tests/**``, ``tests/`` and ``tests`` all cover ``./tests/a/b.py`` and ``/abs/root/tests/x``.
    Scans report paths as given on the command line (``./x``, ``/abs/x``) or relative to a
    repository, so anchoring to one root would miss the other forms.
    """
    pattern = glob.replace("\\", "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.lstrip("/").rstrip("/")
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "(?:^|/)" + "".join(out) + "(?:/.*)?$"


def glob_matches(glob: str, path: str) -> bool:
    return re.search(glob_to_regex(glob), normalize(path)) is not None


def with_archives(path: str) -> list[str]:
    """The path and, for an archive member (``outer.zip!dir/inner.tar!f.env``, sources/archives.py), each
    archive that holds it: what names an archive also covers what is inside it."""
    if "!" not in path:
        return [path]
    return [path, *(path[:i] for i, c in enumerate(path) if c == "!")]


def normalize(path: str) -> str:
    """Forward slashes, no leading './'."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def relative_to(path: str, root: str) -> str:
    """A finding's path relative to the scan root, as written to baselines and ignore files."""
    if os.path.isabs(path):
        base = os.path.abspath(root)
        if os.path.isfile(base):
            base = os.path.dirname(base)
        try:
            rel = os.path.relpath(path, base)
        except ValueError:  # another drive (Windows)
            rel = path
        return normalize(rel)
    norm = normalize(os.path.normpath(path))
    prefix = normalize(os.path.normpath(root))
    if prefix not in ("", ".") and not os.path.isabs(root) and norm.startswith(prefix + "/"):
        return norm[len(prefix) + 1 :]
    return norm
