"""Domain types shared by every layer: rules, chunks of text, findings and verdicts (stdlib only)."""
from __future__ import annotations

import enum
import functools
import importlib
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Confidence(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}[self]


class Kind(str, enum.Enum):
    """What a rule finds: a credential, or an identifier (an ARN, a bucket, a client id) that maps
    the owner's infrastructure but grants nothing. Identifiers are reported, never fail a scan."""

    SECRET = "secret"
    IDENTIFIER = "identifier"


class RegexTarget(str, enum.Enum):
    """What an allowlist regex is matched against."""

    SECRET = "secret"
    MATCH = "match"
    LINE = "line"


class Verdict(str, enum.Enum):
    """Outcome of asking a provider whether a secret is live."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"
    ERROR = "error"


@dataclass(frozen=True)
class Allowlist:
    """Conditions under which a match is not a finding. Any one condition suffices."""

    description: str = ""
    paths: tuple[str, ...] = ()  # regexes on the path (gitleaks semantics)
    regexes: tuple[str, ...] = ()
    regex_target: RegexTarget = RegexTarget.SECRET
    stopwords: tuple[str, ...] = ()  # case-insensitive substrings of the secret
    commits: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.paths or self.regexes or self.stopwords or self.commits)


@dataclass(frozen=True)
class Companion:
    """Another rule whose findings complete this rule's credential when found within a few lines.

    ``required``: this rule reports only when such a companion is found (a bare value that means
    nothing alone, e.g. a 40-character string next to an AWS access key id).
    """

    rule: str
    within_lines: int
    required: bool = False


@dataclass(frozen=True)
class Rule:
    """One detection rule, as loaded and validated from YAML (see rules/)."""

    id: str
    description: str
    regex: str
    severity: Severity = Severity.HIGH
    confidence: Confidence = Confidence.MEDIUM
    # A tuple: the first of these groups that took part in the match (one value, alternative quotings).
    secret_group: int | str | tuple[int | str, ...] = 0
    keywords: tuple[str, ...] = ()
    entropy: float = 0.0
    multiline: bool = False
    tags: tuple[str, ...] = ()
    remediation: str = ""
    allowlists: tuple[Allowlist, ...] = ()
    path: str = ""  # regex the file path must match for the rule to apply
    checksum: str = ""  # name of a checksum validator (scanner.checksums)
    companions: tuple[Companion, ...] = ()
    verify: dict[str, object] | None = field(default=None, hash=False, compare=False)
    examples: tuple[str, ...] = field(default=(), repr=False)
    counter_examples: tuple[str, ...] = field(default=(), repr=False)
    source: str = ""  # file the rule was loaded from, for error messages
    kind: Kind = Kind.SECRET


@dataclass(frozen=True)
class CommitInfo:
    """Where a chunk of history came from."""

    sha: str
    author: str = ""
    email: str = ""
    date: str = ""  # ISO 8601
    message: str = field(default="", repr=False)  # summary line: a commit message can hold a secret


@dataclass(frozen=True)
class Chunk:
    """A piece of text to scan, with enough context to locate what is found in it.

    ``data`` is UTF-8 bytes. ``line_numbers``, when set, maps the chunk's line index (0-based) to
    the line number in the real file; it is used for diffs, where a chunk holds only added lines.
    """

    data: bytes = field(repr=False)
    path: str
    line_offset: int = 0  # added to every line number (used when a file is split into pieces)
    column_offset: int = 0  # characters of the first line that precede the chunk (a mid-line cut)
    # Byte range [start, end) of ``data`` whose matches this chunk reports; the rest overlaps the
    # neighbouring chunks of the same file (see sources/chunking.py). None: all of it.
    owned: tuple[int, int] | None = None
    line_numbers: tuple[int, ...] | None = field(default=None, repr=False)
    commit: CommitInfo | None = None
    kind: str = "file"  # file | diff | commit-message | tag-message | binary-strings


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    reason: str = ""
    identity: str = ""


@dataclass(frozen=True)
class Finding:
    """A secret found in a chunk. The secret itself never appears in repr()."""

    rule_id: str
    description: str
    severity: Severity
    confidence: Confidence
    path: str
    line: int
    column: int  # 1-based, in characters
    end_line: int
    end_column: int  # 1-based, the column after the last character
    secret: str = field(repr=False)
    match: str = field(repr=False)
    line_text: str = field(repr=False, default="")  # the first matched line, for display
    entropy: float = 0.0
    tags: tuple[str, ...] = ()
    commit: CommitInfo | None = None
    verification: Verification | None = None
    remediation: str = ""
    decoded: str = ""  # encoding chain the secret was found through, e.g. "base64"
    # (rule id, secret) of companion findings nearby: the other parts of a multi-part credential
    related: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    kind: Kind = Kind.SECRET

    @property
    def fingerprint(self) -> str:
        """Value fingerprint: the same secret under the same rule anywhere has the same one."""
        return value_fingerprint(self.rule_id, self.secret)

    @property
    def location_key(self) -> tuple[str, str, int, int]:
        return (self.path, self.rule_id, self.line, self.column)


def value_fingerprint(rule_id: str, secret: str) -> str:
    digest = _sha256()(f"{rule_id}\x00{secret}".encode("utf-8", "surrogatepass"))
    return str(digest.hexdigest()[:32])


@functools.cache  # a failed import is a search of sys.path: from 3.12 "_sha256" fails on every call
def _sha256() -> Any:
    """SHA-256 from the interpreter's built-in module, as the standard library's ``random`` takes its
    sha512: importing hashlib loads OpenSSL, 2 ms of a start. The same digest either way."""
    for name in ("_sha256", "_sha2"):  # CPython up to 3.11, from 3.12
        try:
            return importlib.import_module(name).sha256
        except ImportError:
            continue
    import hashlib  # pragma: no cover - an interpreter built without them

    return hashlib.sha256
