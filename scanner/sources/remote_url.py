"""Repository URLs given where a path is expected: recognizing them, checking them, and naming them without credentials."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import UsageError

# Transports git runs itself. Anything else (ext::, fd::, s3://...) would start a remote helper: a program.
SCHEMES = ("https", "http", "ssh", "git", "file", "git+ssh", "ssh+git")
_CREDENTIAL_SCHEMES = ("https", "http")  # where the user name is often the token itself (x-access-token, oauth2)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)::")  # git's <transport>::<address>: a remote helper program
# git's scp-like syntax ([user@]host:path): a colon before any slash. One letter is a drive on Windows.
_SCP = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]/]+\]|[^@/:\[\]]{2,}):(?P<path>.+)$")
# The user information of any URL in a text (git's messages): up to the last '@' before the path.
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/\s'\"]*)@")
_MIN_PIECE = 4  # shorter pieces are replaced only inside URLs: replacing 'x' everywhere would garble the text


def is_remote(text: str) -> bool:
    """True when ``text`` reads as a repository URL and names no existing path (a local path wins, as in git)."""
    if not text or os.path.exists(text):
        return False
    return bool(_SCHEME.match(text) or _HELPER.match(text) or _SCP.match(text))


@dataclass(frozen=True)
class RemoteUrl:
    """A repository URL. ``url`` may hold credentials: it is only ever passed to git, never shown."""

    url: str = field(repr=False)
    display: str  # as given, credentials removed: for messages
    uri: str  # ``display`` as an absolute URI (scp-like -> ssh://): the report's root
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # http(s) user name and password (None: not given), handed to git apart from the URL it is given
    login: tuple[str, str | None] | None = field(default=None, repr=False)
    fetch_url: str = field(default="", repr=False)  # the URL git is given: ``url`` without ``login``

    def scrub(self, text: str) -> str:
        """``text`` (git's output) with every credential of this URL, and of any URL in it, removed."""
        text = scrub_urls(text.replace(self.url, self.display))
        for piece in sorted(self.secrets, key=len, reverse=True):
            if len(piece) >= _MIN_PIECE:
                text = text.replace(piece, "***")
        return text


def scrub_urls(text: str) -> str:
    """``text`` with the passwords of any URL in it removed, and the user names of http(s) URLs (often tokens)."""
    return _USERINFO.sub(_without_credentials, text)


def _without_credentials(m: re.Match[str]) -> str:
    scheme, userinfo = m.group(1), m.group(2)
    if ":" in userinfo or scheme.lower() in _CREDENTIAL_SCHEMES:
        return f"{scheme}://"
    return m.group(0)


def parse_remote(text: str) -> RemoteUrl:
    """Check a URL ``is_remote`` accepted. Exit code 2 for one git must not be given."""
    if text.startswith("-"):
        raise UsageError(f"{scrub_urls(text)!r}: not a repository URL (it starts with '-')")
    scheme = _SCHEME.match(text) or _HELPER.match(text)
    if scheme is None:
        return _parse_scp(text)
    name = scheme.group(1).lower()
    if name not in SCHEMES or scheme.group(0).endswith("::"):
        raise UsageError(f"{scrub_urls(text)}: unsupported URL scheme {name!r} (use {', '.join(SCHEMES[:5])})")
    parts = urlsplit(text)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if hostport.startswith("-") or user.startswith("-"):  # ssh would read it as an option
        raise UsageError(f"{scrub_urls(text)}: not a repository URL (its user or host starts with '-')")
    if not hostport and name != "file":
        raise UsageError(f"{scrub_urls(text)}: not a repository URL (no host)")
    secrets = [password, unquote(password), parts.query, *(value for _, value in parse_qsl(parts.query))]
    login, fetch_url = None, text
    if name in _CREDENTIAL_SCHEMES:
        secrets += [user, unquote(user)]
        if at:
            login = (unquote(user), unquote(password) if colon else None)
            if any("\n" in part or "\0" in part for part in login if part):  # git's credential protocol is lines
                raise UsageError(f"{scrub_urls(text)}: the credentials in the URL hold a line break")
            fetch_url = parts._replace(netloc=hostport).geturl()
        user = ""
    shown_user = f"{user}@" if user else ""
    display = f"{name}://{shown_user}{hostport}{parts.path}"  # query and fragment may carry a token: left out
    return RemoteUrl(url=text, display=display, uri=display, secrets=tuple(s for s in secrets if s), login=login,
                     fetch_url=fetch_url)


def _parse_scp(text: str) -> RemoteUrl:
    m = _SCP.match(text)
    if m is None:
        raise UsageError(f"{scrub_urls(text)}: not a repository URL")
    user, host, path = m.group("user"), m.group("host"), m.group("path")
    if host.startswith("-"):
        raise UsageError(f"{text}: not a repository URL (its host starts with '-')")
    login = f"{user}@" if user else ""
    # The ssh:// form names the repository in reports; git is always given the text as typed.
    return RemoteUrl(url=text, display=text, uri=f"ssh://{login}{host}/{path.lstrip('/')}", fetch_url=text)
