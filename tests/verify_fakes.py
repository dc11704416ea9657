"""A local HTTP server on 127.0.0.1 that plays each verifiable provider, as its documentation describes it.

Each ``Play`` is written from the provider's API reference, independently of the rule YAML: where
the provider reads the credential (bearer token, header, basic auth, path), the documented success
answer and the documented answer for a bad credential. A test that passes therefore shows that the
rule's request puts the credential where the provider looks for it, and judges both answers right.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Seen:
    """One request the fake received (for assertions about what was sent)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, Any]  # status, JSON-able body (a str is sent as text/plain)


def bearer(req: Seen, m: re.Match[str]) -> str | None:
    value = req.headers.get("authorization", "")
    return value[7:] if value.startswith("Bearer ") else None


def header(name: str, prefix: str = "") -> Callable[[Seen, re.Match[str]], str | None]:
    def get(req: Seen, m: re.Match[str]) -> str | None:
        value = req.headers.get(name.lower())
        return value[len(prefix):] if value is not None and value.startswith(prefix) else None

    return get


def basic(part: int) -> Callable[[Seen, re.Match[str]], str | None]:
    """Part 0: the user, 1: the password, 2: both as 'user:password'."""

    def get(req: Seen, m: re.Match[str]) -> str | None:
        value = req.headers.get("authorization", "")
        if not value.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return (user, password, f"{user}:{password}")[part]

    return get


def form(seen: Seen) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}


def path_group(req: Seen, m: re.Match[str]) -> str | None:
    return unquote(m.group(1))


@dataclass(frozen=True)
class Play:
    """How one provider's check call behaves."""

    name: str  # provider id, as in LEAKSCAN_VERIFY_BASE_URL_<PROVIDER>
    method: str
    path: str  # regex on the path and query
    credential: Callable[[Seen, re.Match[str]], str | None]
    live: Answer
    dead: Answer
    needs_headers: tuple[str, ...] = ()  # headers the provider requires besides the credential
    needs_body: str = ""  # a substring the request body must contain


PLAYS: list[Play] = [
    Play("github", "GET", r"/user$", bearer, (200, {"login": "octocat", "id": 1}), (401, {"message": "Bad credentials"})),
    Play("slack", "POST", r"/api/auth\.test$", bearer,
         (200, {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "deploybot"}),
         (200, {"ok": False, "error": "invalid_auth"})),
    Play("slack-webhook", "POST", r"/services/(T\w+/B\w+/\w+)$", path_group, (400, "no_text"), (404, "no_service")),
    Play("stripe", "GET", r"/v1/account$", basic(0), (200, {"id": "acct_1Fake", "object": "account"}),
         (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})),
    Play("openai", "GET", r"/v1/(?:models|organization/projects\?limit=1)$", bearer, (200, {"object": "list", "data": []}),
         (401, {"error": {"code": "invalid_api_key"}})),
    Play("anthropic", "GET", r"/v1/(?:models\?limit=1|organizations/me)$", header("x-api-key"),
         (200, {"id": "org-1", "type": "organization", "name": "Acme Labs", "data": []}),
         (401, {"type": "error", "error": {"type": "authentication_error"}}), needs_headers=("anthropic-version",)),
    Play("huggingface", "GET", r"/api/whoami-v2$", bearer, (200, {"name": "alice", "type": "user"}),
         (401, {"error": "Invalid credentials in Authorization header"})),
    Play("discord", "GET", r"/api/v10/users/@me$", header("authorization", "Bot "),
         (200, {"id": "1", "username": "leakbot", "bot": True}), (401, {"message": "401: Unauthorized", "code": 0})),
    Play("discord", "GET", r"/api/v10/webhooks/([0-9]+/[\w-]+)$", path_group,
         (200, {"type": 1, "id": "1", "name": "deploys", "channel_id": "2"}),
         (401, {"message": "Invalid Webhook Token", "code": 50027})),
    Play("telegram", "GET", r"/bot([^/]+)/getMe$", path_group,
         (200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "leak_bot"}}),
         (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})),
    Play("github", "GET", r"/installation/repositories\?per_page=1$", bearer, (200, {"total_count": 0, "repositories": []}),
         (401, {"message": "Bad credentials"})),
    Play("gitlab", "GET", r"/api/v4/personal_access_tokens/self$", header("private-token"),
         (200, {"id": 7, "name": "ci", "user_id": 42, "scopes": ["api"], "active": True}),
         (401, {"message": "401 Unauthorized"})),
    Play("gitlab", "POST", r"/api/v4/runners/verify$", lambda seen, m: form(seen).get("token"), (200, {"id": 12}),
         (403, {"message": "403 Forbidden"})),
    Play("digitalocean", "GET", r"/v2/account$", bearer, (200, {"account": {"email": "ops@acme.test", "status": "active"}}),
         (401, {"id": "Unauthorized", "message": "Unable to authenticate you"})),
    Play("heroku", "GET", r"/account$", bearer, (200, {"email": "dev@acme.test", "id": "u1"}),
         (401, {"id": "unauthorized", "message": "Invalid credentials provided."}), needs_headers=("accept",)),
    Play("cloudflare", "GET", r"/client/v4/user/tokens/verify$", bearer,
         (200, {"success": True, "result": {"id": "t1", "status": "active"}}),
         (401, {"success": False, "errors": [{"code": 1000, "message": "Invalid API Token"}]})),
    Play("sendgrid", "GET", r"/v3/scopes$", bearer, (200, {"scopes": ["mail.send"]}),
         (401, {"errors": [{"message": "The provided authorization grant is invalid, expired, or revoked"}]})),
    Play("mailgun", "GET", r"/v3/domains\?limit=1$", basic(1), (200, {"total_count": 0, "items": []}), (401, "Forbidden")),
    Play("mailchimp", "GET", r"/3\.0/ping$", basic(1), (200, {"health_status": "Everything's Chimpy!"}),
         (401, {"title": "API Key Invalid", "status": 401})),
    Play("twilio", "GET", r"/2010-04-01/Accounts/AC[0-9a-f]{32}\.json$", basic(2),
         (200, {"sid": "AC1", "friendly_name": "Acme prod", "status": "active"}),
         (401, {"code": 20003, "message": "Authenticate", "status": 401})),
    Play("twilio", "GET", r"/2010-04-01/Accounts\.json\?PageSize=1$", basic(2), (200, {"accounts": []}),
         (401, {"code": 20003, "message": "Authenticate", "status": 401})),
    Play("datadog", "GET", r"/api/v1/validate$", header("dd-api-key"), (200, {"valid": True}), (403, {"errors": ["Forbidden"]})),
    Play("newrelic", "POST", r"/graphql$", header("api-key"), (200, {"data": {"actor": {"user": {"email": "sre@acme.test"}}}}),
         (401, {"errors": [{"message": "Invalid API key"}]}), needs_body="actor"),
    Play("sentry", "GET", r"/api/0/organizations/$", bearer, (200, [{"slug": "acme"}]), (401, {"detail": "Invalid token"})),
    Play("grafana", "GET", r"/api/instances\?pageSize=1$", bearer, (200, {"items": []}),
         (401, {"code": "InvalidCredentials", "message": "Token invalid"})),
    Play("npm", "GET", r"/-/whoami$", bearer, (200, {"username": "acme-bot"}), (401, {"error": "Unauthorized"})),
    Play("terraform-cloud", "GET", r"/api/v2/account/details$", bearer,
         (200, {"data": {"id": "user-1", "type": "users", "attributes": {"username": "infra-bot"}}}),
         (401, {"errors": [{"status": "401", "title": "unauthorized"}]})),
    Play("doppler", "GET", r"/v3/me$", bearer, (200, {"workplace": {"name": "Acme"}, "type": "personal"}),
         (401, {"messages": ["Invalid Auth token"], "success": False})),
    Play("linear", "POST", r"/graphql$", lambda seen, m: seen.headers.get("authorization", "").removeprefix("Bearer ") or None, (200, {"data": {"viewer": {"email": "pm@acme.test"}}}),
         (400, {"errors": [{"message": "Authentication required, not authenticated",
                            "extensions": {"code": "AUTHENTICATION_ERROR"}}]}), needs_body="viewer"),
    Play("notion", "GET", r"/v1/users/me$", bearer, (200, {"object": "user", "id": "u1", "name": "Acme sync"}),
         (401, {"object": "error", "status": 401, "code": "unauthorized"}), needs_headers=("notion-version",)),
    Play("airtable", "GET", r"/v0/meta/whoami$", bearer, (200, {"id": "usrAcme123"}),
         (401, {"error": {"type": "AUTHENTICATION_REQUIRED"}})),
    Play("postman", "GET", r"/me$", header("x-api-key"), (200, {"user": {"id": 1, "username": "acme-api"}}),
         (401, {"error": {"name": "AuthenticationError", "message": "Invalid API Key."}})),
    Play("groq", "GET", r"/openai/v1/models$", bearer, (200, {"object": "list", "data": []}),
         (401, {"error": {"code": "invalid_api_key"}})),
    Play("replicate", "GET", r"/v1/account$", bearer, (200, {"type": "organization", "username": "acme-ml"}),
         (401, {"detail": "Invalid token.", "status": 401})),
    Play("mistral", "GET", r"/v1/models$", bearer, (200, {"object": "list", "data": []}), (401, {"message": "Unauthorized"})),
    Play("deepseek", "GET", r"/models$", bearer, (200, {"object": "list", "data": []}),
         (401, {"error": {"message": "Authentication Fails", "type": "authentication_error"}})),
    Play("together", "GET", r"/v1/models$", bearer, (200, []), (401, {"error": {"code": "invalid_api_key"}})),
    Play("openrouter", "GET", r"/api/v1/key$", bearer, (200, {"data": {"label": "ci key", "usage": 0}}),
         (401, {"error": {"message": "No auth credentials found", "code": 401}})),
    Play("elevenlabs", "GET", r"/v1/user$", header("xi-api-key"), (200, {"subscription": {}, "is_new_user": False}),
         (401, {"detail": {"status": "invalid_api_key"}})),
    Play("cohere", "POST", r"/v1/check-api-key$", bearer, (200, {"valid": True, "organization_id": "o1"}),
         (401, {"message": "invalid api token"})),
    Play("xai", "GET", r"/v1/api-key$", bearer, (200, {"name": "ci", "api_key_blocked": False}),
         (400, {"code": "Client specified an invalid argument", "error": "Incorrect API key provided"})),
    Play("cerebras", "GET", r"/v1/models$", bearer, (200, {"object": "list", "data": []}),
         (401, {"message": "Wrong API Key", "type": "invalid_request_error"})),
    Play("pinecone", "GET", r"/indexes$", header("api-key"), (200, {"indexes": []}),
         (401, {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401})),
    Play("fireworks", "GET", r"/inference/v1/models$", bearer, (200, {"object": "list", "data": []}),
         (401, {"error": {"message": "The API key you provided is invalid."}})),
    Play("assemblyai", "GET", r"/v2/transcript\?limit=1$", header("authorization"), (200, {"transcripts": []}),
         (401, {"error": "Authentication error, API token missing/invalid"})),
    Play("deepgram", "GET", r"/v1/projects$", header("authorization", "Token "), (200, {"projects": []}),
         (401, {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."})),
    Play("stability", "GET", r"/v1/user/account$", bearer, (200, {"id": "u1", "email": "ml@acme.test"}),
         (401, {"name": "unauthorized", "message": "missing authorization header"})),
    Play("square", "GET", r"/v2/locations$", bearer, (200, {"locations": []}),
         (401, {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED"}]})),
    Play("paystack", "GET", r"/balance$", bearer, (200, {"status": True, "message": "Balances retrieved", "data": []}),
         (401, {"status": False, "message": "Invalid key"})),
    Play("mollie", "GET", r"/v2/(?:methods|organizations/me)$", bearer,
         (200, {"resource": "organization", "id": "org_1", "name": "Acme BV"}),
         (401, {"status": 401, "title": "Unauthorized Request", "detail": "Missing authentication"})),
    Play("xendit", "GET", r"/balance$", basic(0), (200, {"balance": 0}),
         (401, {"error_code": "INVALID_API_KEY", "message": "API key is invalid"})),
    Play("flutterwave", "GET", r"/v3/balances$", bearer, (200, {"status": "success", "data": []}),
         (401, {"status": "error", "message": "Invalid authorization key"})),
    Play("pushbullet", "GET", r"/v2/users/me$", header("access-token"), (200, {"iden": "u1", "name": "Alice"}),
         (401, {"error": {"code": "invalid_access_token", "type": "invalid_request"}})),
    Play("webex", "GET", r"/v1/people/me$", bearer, (200, {"id": "p1", "displayName": "Alice Doe"}),
         (401, {"message": "The request requires a valid access token set in the Authorization request header."})),
    Play("line", "GET", r"/v2/bot/info$", bearer, (200, {"userId": "U1", "displayName": "Acme Bot"}),
         (401, {"message": "Authentication failed due to the following reason: invalid token."})),
]


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.server.record(seen)
        status, payload, extra = self.server.answer(seen)
        if status == 0:  # behaviour "hang": never answer in time
            time.sleep(self.server.hang_seconds)
            status, payload, extra = 200, {"late": True}, {}
        data = payload if isinstance(payload, bytes) else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_HEAD = _handle


class FakeServer(ThreadingHTTPServer):
    """The providers' fake. ``live`` holds the credentials it accepts; ``override`` answers every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.live: set[str] = set()
        self.seen: list[Seen] = []
        self.override: Callable[[Seen], tuple[int, Any, dict[str, str]]] | None = None
        self.custom: list[tuple[str, str, Callable[[Seen, re.Match[str]], tuple[int, Any, dict[str, str]]]]] = []
        self.hang_seconds = 2.0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def answer(self, seen: Seen) -> tuple[int, Any, dict[str, str]]:
        if self.override is not None:
            return self.override(seen)
        for method, pattern, fn in self.custom:
            m = re.match(pattern, seen.path)
            if m and seen.method == method:
                return fn(seen, m)
        # Providers share this one server, and some share paths (/balance): the play is the one whose
        # credential is where the request put it.
        matched = None
        for play in PLAYS:
            m = re.match(play.path, seen.path)
            if not m or seen.method != play.method:
                continue
            matched = matched or play
            cred = play.credential(seen, m)
            if cred is None:
                continue
            if any(h not in seen.headers for h in play.needs_headers):
                return 400, {"error": "missing required header"}, {}
            if play.needs_body and play.needs_body.encode() not in seen.body:
                return 400, {"error": "bad request body"}, {}
            status, body = play.live if cred in self.live else play.dead
            return status, body, {}
        if matched is not None:
            return matched.dead[0], matched.dead[1], {}
        return 404, {"error": "no such fake endpoint"}, {}


def serve() -> Iterator[FakeServer]:
    server = FakeServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def query(seen: Seen) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(seen.path).query).items()}
