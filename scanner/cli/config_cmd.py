"""`leakscan config show` and `leakscan rules list|show`: the resolved configuration and rule set."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
import yaml

from ..errors import UsageError
from ..markers import marker_set
from ..model import Allowlist, Rule
from ..ruleset import default_rules
from ..config import resolve_rules
from .project import Project, ProjectOptions, load_project

_config_option = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                              help="Configuration file (default: .leakscan.yaml found from PATH).")


def _project(path: str, config_file: str | None) -> Project:
    return load_project(path, ProjectOptions(config_file=config_file))


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show")
@click.argument("path", default=".", type=click.Path())
@_config_option
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def config_show(path: str, config_file: str | None, fmt: str) -> None:
    """Print the configuration a scan of PATH would use, with every default filled in."""
    project = _project(path, config_file)
    doc = resolved(project)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), nl=False)


def resolved(project: Project) -> dict[str, Any]:
    config = project.config
    builtin = default_rules()
    rules = resolve_rules(config, builtin)
    builtin_ids = {r.id for r in builtin}
    opts = config.options
    markers_on = config.inline_markers and project.options.inline_markers
    markers = marker_set(peers=config.peer_markers)
    return {
        "source": config.source or None,
        "use_default_rules": config.use_default_rules,
        "rules": {
            "active": len(rules),
            "custom": [r.id for r in config.rules],
            "disabled": list(config.disabled_rules),
            "builtin_inactive": sorted(builtin_ids - {r.id for r in rules}),
        },
        "rule_overrides": {
            o.rule_id: _drop_none({
                "entropy": o.entropy,
                "severity": o.severity.value if o.severity else None,
                "confidence": o.confidence.value if o.confidence else None,
                "allowlists": [_allowlist(a) for a in o.allowlists] or None,
                "replace_allowlists": o.replace_allowlists or None,
            })
            for o in config.overrides
        },
        "allowlists": [_allowlist(a) for a in config.allowlists],
        "options": {
            "max_file_size": opts.max_file_size,
            "scan_binaries": opts.scan_binaries,
            "decode_depth": opts.decode_depth,
            "jobs": opts.jobs,
            "identifiers": opts.identifiers,
            "max_archive_depth": opts.max_archive_depth,
        },
        "inline_markers": {
            "enabled": markers_on,
            "same_line": list(markers.same_line) if markers_on else [],
            "next_line": list(markers.next_line) if markers_on else [],
        },
        "ignore_file": {
            "path": project.ignores.source if project.ignores else None,
            "entries": len(project.ignores.entries) if project.ignores else 0,
        },
        "notes": list(config.notes),
    }


def _allowlist(a: Allowlist) -> dict[str, Any]:
    return _drop_none({
        "description": a.description or None,
        "path_regexes": list(a.paths) or None,
        "regexes": list(a.regexes) or None,
        "regex_target": a.regex_target.value if a.regexes else None,
        "stopwords": list(a.stopwords) or None,
        "commits": list(a.commits) or None,
    })


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@click.group("rules")
def rules_group() -> None:
    """List and describe the rules."""


@rules_group.command("list")
@click.argument("path", default=".", type=click.Path())
@_config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_list(path: str, config_file: str | None, fmt: str) -> None:
    """List the rules a scan of PATH would run."""
    project = _project(path, config_file)
    rules = resolve_rules(project.config, default_rules())
    custom = {r.id for r in project.config.rules}
    rows = [(r.id, r.severity.value, r.confidence.value, "config" if r.id in custom else "builtin", r.description)
            for r in sorted(rules, key=lambda r: r.id)]
    if fmt == "json":
        keys = ("id", "severity", "confidence", "origin", "description")
        click.echo(json.dumps([dict(zip(keys, row)) for row in rows], indent=2))
        return
    width = max((len(r[0]) for r in rows), default=2)
    click.echo(f"{'ID':{width}}  {'SEVERITY':8}  {'CONFIDENCE':10}  {'ORIGIN':7}  DESCRIPTION")
    for rule_id, severity, confidence, origin, description in rows:
        click.echo(f"{rule_id:{width}}  {severity:8}  {confidence:10}  {origin:7}  {description}")
    click.echo(f"{len(rows)} rules", err=True)


@rules_group.command("show")
@click.argument("rule_id")
@click.argument("path", default=".", type=click.Path())
@_config_option
def rules_show(rule_id: str, path: str, config_file: str | None) -> None:
    """Describe one rule, as a scan of PATH would run it (config overrides applied)."""
    project = _project(path, config_file)
    rules = {r.id: r for r in resolve_rules(project.config, default_rules())}
    rule = rules.get(rule_id)
    if rule is None:
        raise UsageError(f"no rule {rule_id!r} (see `leakscan rules list`)")
    click.echo(yaml.safe_dump(describe(rule, {r.id for r in project.config.rules}), sort_keys=False,
                              allow_unicode=True), nl=False)


def describe(rule: Rule, custom: Sequence[str] | set[str]) -> dict[str, Any]:
    return _drop_none({
        "id": rule.id,
        "description": rule.description,
        "origin": "config" if rule.id in custom else "builtin",
        "source": rule.source or None,
        "severity": rule.severity.value,
        "confidence": rule.confidence.value,
        "regex": rule.regex,
        "secret_group": rule.secret_group,
        "keywords": list(rule.keywords),
        "entropy": rule.entropy,
        "multiline": rule.multiline,
        "path": rule.path or None,
        "checksum": rule.checksum or None,
        "tags": list(rule.tags),
        "remediation": rule.remediation or None,
        "allowlists": [_allowlist(a) for a in rule.allowlists] or None,
        "verifiable": rule.verify is not None,
    })
