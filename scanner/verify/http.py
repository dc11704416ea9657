"""The one door verification has to the network, and the safety rules it enforces.

- HTTPS only, to the host written in the rule; plain ``http://`` only to loopback (tests).
- Endpoint overrides come only from ``LEAKSCAN_VERIFY_BASE_URL_<PROVIDER>`` in the environment of
  the user running leakscan, and replace scheme and host; nothing in a scanned repository is read.
- No proxies, ``.netrc`` or CA bundles from the environment (``trust_env = False``): a repository's
  ``.envrc`` or a CI variable cannot route secrets through someone else's proxy.
- Redirects are never followed to another origin; same-origin ones at most twice.
- Bounded: a timeout on connect and on every read, a deadline on the body, at most 64 KiB read.
- Responses are parsed, judged and dropped; error reasons are fixed words, never a URL (which can
  hold a secret: Telegram and Slack webhooks put it in the path). urllib3's log records are
  scrubbed of every credential while a client is open.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..errors import UsageError

ENV_PREFIX = "LEAKSCAN_VERIFY_BASE_URL_"
MAX_BODY = 64 * 1024
MAX_SAME_ORIGIN_REDIRECTS = 2
USER_AGENT = "leakscan-verify"
REDACTED = "REDACTED"


class TransportError(Exception):
    """The request did not produce a usable answer. ``reason`` is a fixed phrase, never data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OverrideError(UsageError):
    """A ``LEAKSCAN_VERIFY_BASE_URL_*`` variable is malformed or unsafe."""


@dataclass(frozen=True)
class Reply:
    """What verification keeps of a response: judged at once, never stored or reported."""

    status: int
    body: bytes = field(repr=False)  # a provider may echo the credential back
    redirect_refused: bool = False

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8", "replace"))
        except ValueError:
            return None

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def env_name(provider: str) -> str:
    return ENV_PREFIX + provider.upper().replace("-", "_")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_override(provider: str) -> str | None:
    """The origin from ``LEAKSCAN_VERIFY_BASE_URL_<PROVIDER>``, checked, or None when unset."""
    name = env_name(provider)
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise OverrideError(f"{name} must be an https:// origin (scheme and host)")
    if parts.scheme == "http" and not is_loopback(host):
        raise OverrideError(f"{name}: plain http:// is allowed only for loopback addresses")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise OverrideError(f"{name} must be scheme and host only, no user, path or query")
    try:
        parts.port
    except ValueError:
        raise OverrideError(f"{name}: bad port") from None
    return f"{parts.scheme}://{parts.netloc}"


def check_url(url: str) -> None:
    """The last gate before a request: https anywhere, http only to loopback, no credentials in the URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        pass
    elif parts.scheme == "http" and is_loopback(host):
        pass
    else:
        raise TransportError("refused: only https (or http to loopback) is allowed")
    if parts.username or parts.password:
        raise TransportError("refused: credentials in the URL")


def quote_value(value: str) -> str:
    """A value placed in a URL path or query: every character that could change its structure is escaped."""
    return quote(value, safe="-._~:@")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


class _Scrubber(logging.Filter):
    """Replaces every registered credential in log records of the HTTP libraries."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            for v in values:
                if v:
                    self._secrets.update({v, quote_value(v), quote(v, safe="")})

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: drop it rather than risk printing its args
            return False
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for s in secrets:
            message = message.replace(s, REDACTED)
        record.msg, record.args = message, None
        return True


_LOGGERS = ("urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response", "urllib3.util.retry",
            "requests", "charset_normalizer")


class Client:
    """A requests session that can only do what the module docstring allows. Thread-safe."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.scrubber = _Scrubber()
        self._loggers = [logging.getLogger(n) for n in _LOGGERS]
        for logger in self._loggers:
            logger.addFilter(self.scrubber)

    def close(self) -> None:
        for logger in self._loggers:
            logger.removeFilter(self.scrubber)
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no HTTP(S)_PROXY, no .netrc, no REQUESTS_CA_BUNDLE
            session.proxies = {}
            adapter = HTTPAdapter(max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        json_body: Any = None,
        auth: tuple[str, str] | None = None,
    ) -> Reply:
        """One request (following same-origin redirects only); raises TransportError, never requests' errors."""
        check_url(url)
        for _ in range(MAX_SAME_ORIGIN_REDIRECTS + 1):
            try:
                resp = self._session().request(
                    method, url, headers=dict(headers or {}), data=data, json=json_body, auth=auth,
                    allow_redirects=False, stream=True, timeout=(self.timeout, self.timeout),
                )
            except requests.Timeout:
                raise TransportError("timed out") from None
            except requests.exceptions.SSLError:
                raise TransportError("TLS handshake failed") from None
            except requests.ConnectionError:
                raise TransportError("connection failed") from None
            except (requests.RequestException, ValueError, UnicodeError):
                raise TransportError("request failed") from None
            try:
                if resp.is_redirect:
                    target = urljoin(url, resp.headers.get("location", ""))
                    if _origin(target) != _origin(url):
                        return Reply(status=resp.status_code, body=b"", redirect_refused=True)
                    check_url(target)
                    url = target
                    if resp.status_code == 303:
                        method, data, json_body = "GET", None, None
                    continue
                return Reply(status=resp.status_code, body=self._read(resp))
            finally:
                resp.close()
        raise TransportError("too many redirects")

    def _read(self, resp: requests.Response) -> bytes:
        deadline = time.monotonic() + self.timeout
        body = bytearray()
        try:
            for chunk in resp.iter_content(8192):
                body += chunk
                if len(body) >= MAX_BODY:
                    break
                if time.monotonic() > deadline:
                    raise TransportError("timed out reading the response")
        except requests.RequestException:
            raise TransportError("connection failed while reading the response") from None
        return bytes(body[:MAX_BODY])


class RateLimiter:
    """At most ``rate`` request starts per second for each provider, shared by all worker threads."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, provider: str, rate: float) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(provider, now))
            self._next[provider] = slot + 1.0 / rate
        if slot > now:
            time.sleep(slot - now)
