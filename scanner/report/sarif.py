"""SARIF 2.1.0 for GitHub code scanning: rules with help, stable fingerprints, and never a secret.

What GitHub requires beyond the OASIS schema is documented at
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
(rules with help and security-severity, repo-relative URIs, partialFingerprints, result and size limits).
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import os
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any, TextIO
from urllib.parse import quote

from .. import __version__
from ..model import Confidence, Finding, Kind, Rule, Severity, Verdict
from . import REDACTED, RunInfo, remediation_uri, sorted_findings
from .scrub import Scrubber

_URL_ROOT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# pyproject.toml's [project.urls] Repository, for runs from a source tree that is not installed.
REPOSITORY_URI = "https://github.com/leakscan/leakscan"
_URL_LABELS = ("repository", "source", "homepage")  # preferred first; labels compared as PEP 753 normalizes
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "secretFingerprint/v1"
CWE_TAG = "external/cwe/cwe-798"  # CWE-798: Use of Hard-coded Credentials

# GitHub's hard limits: an upload over either is rejected outright.
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
INDENT_MAX_RESULTS = 2_000
MAX_RULE_TAGS = 10  # 20 is the hard limit; only 10 are displayed

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub buckets security-severity as critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "7.5",
    Severity.MEDIUM: "5.0",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
_PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}


@functools.lru_cache(maxsize=1)
def information_uri() -> str:
    """The project's repository, from the installed distribution's metadata (pyproject [project.urls])."""
    from importlib import metadata

    try:
        entries = metadata.metadata("leakscan").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return REPOSITORY_URI
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        urls["".join(c for c in label.lower() if c.isalnum())] = url.strip()
    return next((urls[k] for k in _URL_LABELS if urls.get(k, "").startswith("https://")), REPOSITORY_URI)


def render(
    findings: Sequence[Finding], info: RunInfo, stream: TextIO, *, redacted: bool = False
) -> tuple[str, ...]:
    """Write one SARIF document. Returns warnings for stderr (truncation), which never hold a secret.

    The document never contains a secret, with or without ``redacted``: no snippet, match or line
    text is written, and every text that could carry one (commit messages, paths) is scrubbed.
    """
    text, warnings = document_text(findings, info)
    stream.write(text)
    return warnings


def document_text(findings: Sequence[Finding], info: RunInfo) -> tuple[str, tuple[str, ...]]:
    """The serialized document, cut down deterministically until it fits GitHub's limits."""
    ordered = _prioritized(findings)
    keep = min(len(ordered), MAX_RESULTS)
    while True:
        kept = ordered[:keep]
        warnings = _truncation_warnings(len(ordered), keep)
        text = _dumps(build(kept, info, warnings=warnings, secrets=_secrets(findings)))
        size = len(gzip.compress(text.encode("utf-8"), mtime=0))
        if size <= MAX_GZIP_BYTES or keep == 0:
            return text, warnings
        keep = keep * MAX_GZIP_BYTES // size * 9 // 10  # shrink in proportion, with a margin


def build(
    findings: Sequence[Finding],
    info: RunInfo,
    *,
    warnings: Sequence[str] = (),
    secrets: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The SARIF log as a dict, results sorted by location.

    Every text taken from the scanned content (paths, commit metadata, verification details) is
    scrubbed of ``secrets`` (default: those of ``findings``) before it is used; everything else in
    the document is built from rules and numbers.
    """
    scrub = Scrubber(secrets if secrets is not None else _secrets(findings), lambda _: REDACTED)
    ordered = sorted_findings(_scrubbed(f, scrub) for f in findings)
    rules = [_scrubbed_rule(rule, scrub) for rule in _rules_for(ordered, info.rules)]
    index = {rule.id: i for i, rule in enumerate(rules)}
    root = info.root or "."  # a remote repository's root is its URL (credentials removed), not a path
    root = root if _URL_ROOT.match(root) else os.path.abspath(root)
    occurrences: Counter[tuple[str, str, str]] = Counter()
    results = []
    for f in ordered:
        path = _relative_path(f, root)
        key = (path, f.rule_id, f.fingerprint)
        occurrences[key] += 1
        results.append(_result(f, index[f.rule_id], path, occurrences[key]))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "leakscan",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": information_uri(),
                "rules": [_descriptor(rule) for rule in rules],
            }
        },
        "invocations": [_invocation(warnings)],
        "originalUriBaseIds": {
            SRCROOT: {
                "uri": _dir_uri(scrub(root)),
                "description": {"text": "The root of the scanned repository or directory."},
            }
        },
        "columnKind": "unicodeCodePoints",  # Finding columns count characters, not UTF-16 units
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _scrubbed(f: Finding, scrub: Scrubber) -> Finding:
    """The finding with every text SARIF shows scrubbed; its fingerprint still comes from the secret."""
    if not scrub:
        return f
    commit, verification = f.commit, f.verification
    if commit is not None:  # a secret found in a commit message is in the message
        commit = dataclasses.replace(commit, author=scrub(commit.author), email=scrub(commit.email),
                                     message=scrub(commit.message))
    if verification is not None:
        verification = dataclasses.replace(verification, reason=scrub(verification.reason),
                                           identity=scrub(verification.identity))
    return dataclasses.replace(f, path=scrub(f.path), description=scrub(f.description), commit=commit,
                               verification=verification, decoded=scrub(f.decoded))


def _scrubbed_rule(rule: Rule, scrub: Scrubber) -> Rule:
    if not scrub:
        return rule
    return dataclasses.replace(rule, description=scrub(rule.description), remediation=scrub(rule.remediation),
                               tags=tuple(scrub(t) for t in rule.tags))


def _dumps(doc: dict[str, Any]) -> str:
    # Indented for people and diffs, except for big runs: indentation needs json's pure-Python
    # encoder, several times slower than the C one on tens of thousands of results.
    indent = 2 if len(doc["runs"][0]["results"]) <= INDENT_MAX_RESULTS else None
    return json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"


def _secrets(findings: Iterable[Finding]) -> list[str]:
    """Every secret of the run, including the companion parts of multi-part credentials."""
    return [s for f in findings for s in (f.secret, *(secret for _, secret in f.related))]


def _prioritized(findings: Sequence[Finding]) -> list[Finding]:
    """Most important first, so truncation drops the least important: live, then severe, then location."""

    def key(f: Finding) -> tuple[Any, ...]:
        live = f.verification is not None and f.verification.verdict is Verdict.VALID
        return (not live, -f.severity.rank, -f.confidence.rank, *_location_key(f))

    return sorted(findings, key=key)


def _location_key(f: Finding) -> tuple[Any, ...]:
    return (f.path, f.line, f.column, f.rule_id, f.commit.sha if f.commit else "")


def _truncation_warnings(total: int, kept: int) -> tuple[str, ...]:
    if kept >= total:
        return ()
    return (
        f"SARIF output truncated to {kept} of {total} results to stay within GitHub code scanning limits "
        f"({MAX_RESULTS} results per run, {MAX_GZIP_BYTES // (1024 * 1024)} MB gzip); the most severe were "
        "kept. Use --format json for the full list.",
    )


def _rules_for(findings: Sequence[Finding], known: Sequence[Any]) -> list[Rule]:
    """One rule per rule that fired, in id order; findings whose rule is unknown describe it themselves."""
    by_id = {rule.id: rule for rule in known if isinstance(rule, Rule)}
    fired: dict[str, Rule] = {}
    for f in findings:
        if f.rule_id not in fired:
            fired[f.rule_id] = by_id.get(f.rule_id) or Rule(
                id=f.rule_id,
                description=f.description,
                regex="",
                severity=f.severity,
                confidence=f.confidence,
                tags=f.tags,
                remediation=f.remediation,
            )
    return [fired[rule_id] for rule_id in sorted(fired)]


def _descriptor(rule: Rule) -> dict[str, Any]:
    tags = ["security", "secret", CWE_TAG] if rule.kind is Kind.SECRET else ["security", "identifier"]
    tags += [t for t in rule.tags if t not in tags]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace("_", "-").split("-") if part),
        "shortDescription": {"text": _sentence(rule.description)},
        "fullDescription": {"text": _full_description(rule)},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)} if rule.kind is Kind.SECRET
        else {"text": _identifier_help(rule), "markdown": _identifier_help(rule)},
        "helpUri": remediation_uri(rule.remediation) or information_uri(),
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": tags[:MAX_RULE_TAGS],
            "precision": _PRECISION[rule.confidence],
            # GitHub shows a rule with a security-severity as a security alert (1.0: "Low") in place of its
            # level: an identifier stays a note.
            **({"security-severity": _SECURITY_SEVERITY[rule.severity]} if rule.kind is Kind.SECRET else {}),
            "severity": rule.severity.value,
        },
    }


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _full_description(rule: Rule) -> str:
    if rule.kind is Kind.IDENTIFIER:
        return f"{_sentence(rule.description)} An identifier, not a secret (rule {rule.id}): reported as a note."
    return (
        f"A hard-coded {rule.description} (rule {rule.id}). Anyone who can read the code, a clone of it or "
        "its history can use the credential."
    )


def _identifier_help(rule: Rule) -> str:
    return (
        f"{_sentence(rule.description)} It names one of the owner's resources but grants no access by itself: "
        "nothing to revoke. Keep it out of public code if the resource's name should not be known; "
        "leave identifiers out of reports with --no-identifiers."
    )


def _rotate(rule: Rule, link: str = "{}") -> str:
    """The first step of the fix: where to revoke (``link`` formats the provider's page), then the rule's
    own advice when it gives advice in words rather than a page."""
    uri = remediation_uri(rule.remediation)
    where = "at " + link.format(uri) if uri else "with the provider that issued it"
    advice = f" {_sentence(rule.remediation)}" if rule.remediation.strip() and uri is None else ""
    return f"Revoke or rotate the credential {where}, and treat it as compromised even if the repository is private.{advice}"


def _help_text(rule: Rule) -> str:
    return "\n".join(
        [
            f"{_sentence(rule.description)} leakscan rule {rule.id} found one in the code or in its git history.",
            "",
            "How to fix it:",
            f"1. {_rotate(rule)}",
            "2. Replace it in the code with a reference to a secret store or an environment variable.",
            "3. Deleting it from the latest commit is not enough: it stays in git history, so only revoking it "
            "closes the leak.",
            "4. Check the provider's audit log for use of the credential since it was committed.",
        ]
    )


def _help_markdown(rule: Rule) -> str:
    return "\n".join(
        [
            f"**{_sentence(rule.description)}** leakscan rule `{rule.id}` found one in the code or in its git "
            "history.",
            "",
            "**How to fix it**",
            "",
            f"1. {_rotate(rule, '<{}>')}",
            "2. Replace it in the code with a reference to a secret store or an environment variable.",
            "3. Deleting it from the latest commit is not enough: it stays in git history, so only revoking it "
            "closes the leak.",
            "4. Check the provider's audit log for use of the credential since it was committed.",
        ]
    )


def _result(f: Finding, rule_index: int, path: str, occurrence: int) -> dict[str, Any]:
    live = f.verification is not None and f.verification.verdict is Verdict.VALID
    fingerprint = f.fingerprint if occurrence == 1 else f"{f.fingerprint}:{occurrence}"
    properties: dict[str, Any] = {
        "severity": f.severity.value,
        "kind": f.kind.value,
        "confidence": f.confidence.value,
        "entropy": f.entropy,
    }
    if f.decoded:
        properties["decoded"] = f.decoded
    if f.commit is not None:
        c = f.commit
        properties.update(
            {"commitSha": c.sha, "author": c.author, "authorEmail": c.email, "commitDate": c.date,
             "commitMessage": c.message}
        )
    if f.related:  # the other parts of a multi-part credential: which rules, never their values
        properties["relatedRules"] = sorted({rule_id for rule_id, _ in f.related})
    if f.verification is not None:
        v = f.verification
        properties["verification"] = {"verdict": v.verdict.value, "reason": v.reason, "identity": v.identity}
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": "error" if live else _LEVEL[f.severity],
        "message": {"text": _message(f, path, live)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT},
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": f.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    }


def _message(f: Finding, path: str, live: bool) -> str:
    what = f.description[:1].upper() + f.description[1:] if f.description else f.rule_id
    how = f" ({f.decoded}-encoded)" if f.decoded else ""
    if f.commit is not None:
        c = f.commit
        by = f" by {c.author}" if c.author else ""
        on = f" on {c.date[:10]}" if c.date else ""
        if path.startswith("(") and path.endswith(")"):  # "(commit message)", "(tag v1 message)"
            first = f"{what}{how} was found in the {path[1:-1]} of commit {c.sha[:12]}{by}{on}."
        else:
            first = f"{what}{how} was committed to {path} in commit {c.sha[:12]}{by}{on}."
        rest = " It remains in the repository's history even if later commits removed it."
    else:
        first = f"{what}{how} is hard-coded in {path} at line {f.line}."
        rest = ""
    if f.kind is Kind.IDENTIFIER:  # it grants nothing: there is nothing to revoke
        return first + rest + " An identifier, not a secret."
    if live:
        rest += " Verification found the credential live."
    rest += " Revoke or rotate it."
    return first + rest


def _relative_path(f: Finding, root: str) -> str:
    """The repo-relative path with '/' separators. History paths are already relative to the repository."""
    path = f.path
    if f.commit is None and path != "-":
        absolute = os.path.abspath(path)
        if absolute == root:
            path = posixpath.basename(absolute.replace(os.sep, "/"))
        elif absolute.startswith(root if root.endswith(os.sep) else root + os.sep):
            path = absolute[len(root):]
    if os.sep != "/":
        path = path.replace(os.sep, "/")
    return posixpath.normpath(path).lstrip("/")


def _dir_uri(root: str) -> str:
    uri = root if _URL_ROOT.match(root) else PurePath(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _invocation(warnings: Sequence[str]) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if warnings:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": warning}} for warning in warnings
        ]
    return invocation
