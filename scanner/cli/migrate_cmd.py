"""`leakscan migrate gitleaks|detect-secrets`: carry configuration and suppressions over, and say what
could not be."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import click
import yaml

from .. import ignorefile
from ..config import load_config
from ..engine import Engine
from ..errors import UsageError
from ..ignorefile import IgnoreEntry
from ..migrate import MigrationReport
from ..migrate.gitleaks import config_from_toml
from ..migrate.suppressions import from_detect_secrets, from_gitleaksignore, read_content
from ..ruleset import default_rules
from .project import ProjectOptions, load_project, spec_for


@click.group("migrate")
def migrate_group() -> None:
    """Switch from gitleaks or detect-secrets without losing configuration or suppressions."""


def migration_engine(root: Path, config_file: str | None) -> Engine:
    from .common import DEFAULT_DECODE_DEPTH

    project = load_project(str(root), ProjectOptions(config_file=config_file))
    depth = project.config.options.decode_depth
    spec = spec_for(project, use_hyperscan=False, decode_depth=DEFAULT_DECODE_DEPTH if depth is None else depth)
    # Markers off: map every suppression to a fingerprint, even where a marker also covers it.
    return Engine(dataclasses.replace(spec, markers=None))


def _print_report(title: str, report: MigrationReport, written: Sequence[str]) -> None:
    click.echo(f"{title}: carried over {len(report.carried)}, not carried over {len(report.not_carried)}")
    for line in report.carried:
        click.echo(f"  carried: {line}")
    for line in report.not_carried:
        click.echo(f"  NOT carried: {line}")
    for path in written:
        click.echo(f"wrote {path}")


def _append_ignores(root: Path, entries: list[IgnoreEntry], dry_run: bool) -> list[str]:
    if not entries or dry_run:
        return []
    target = root / ignorefile.IGNORE_NAME
    existing = ignorefile.load_ignore(target)
    have = {(e.fingerprint, e.path) for e in existing.entries} if existing else set()
    fresh = [e for e in entries if (e.fingerprint, e.path) not in have]
    ignorefile.append_entries(target, fresh)
    return [f"{target} (+{len(fresh)} entries)"]


@migrate_group.command("gitleaks")
@click.argument("root", default=".", type=click.Path(file_okay=False, exists=True))
@click.option("--config", "gitleaks_config", type=click.Path(dir_okay=False),
              help="gitleaks config (default: ROOT/.gitleaks.toml if present).")
@click.option("--ignore", "gitleaks_ignore", type=click.Path(dir_okay=False),
              help="gitleaks ignore file (default: ROOT/.gitleaksignore if present).")
@click.option("--force", is_flag=True, help="Overwrite an existing .leakscan.yaml.")
@click.option("--dry-run", is_flag=True, help="Report only; write nothing.")
def migrate_gitleaks(root: str, gitleaks_config: str | None, gitleaks_ignore: str | None, force: bool,
                     dry_run: bool) -> None:
    """Convert .gitleaks.toml into .leakscan.yaml and .gitleaksignore into .leakscanignore entries."""
    base = Path(root)
    cfg = Path(gitleaks_config) if gitleaks_config else base / ".gitleaks.toml"
    ign = Path(gitleaks_ignore) if gitleaks_ignore else base / ".gitleaksignore"
    if gitleaks_config and not cfg.is_file():
        raise UsageError(f"{cfg}: not found")
    if gitleaks_ignore and not ign.is_file():
        raise UsageError(f"{ign}: not found")
    if not cfg.is_file() and not ign.is_file():
        raise UsageError(f"{base}: no .gitleaks.toml or .gitleaksignore to migrate")
    written: list[str] = []
    config_report = MigrationReport()
    target = base / ".leakscan.yaml"
    if cfg.is_file():
        text = cfg.read_text(encoding="utf-8")
        doc, notes = config_from_toml(text, cfg.name, default_rules())
        load_config(cfg, default_rules())  # validates the converted document exactly as a scan would
        config_report.carried.extend(n.removeprefix("info: ") for n in notes if n.startswith("info: "))
        config_report.not_carried.extend(n for n in notes if not n.startswith("info: "))
        config_report.carried.append(f"{cfg.name}: {len(doc.get('rules', []))} rules, "
                                     f"{len(doc.get('allowlists', []))} global allowlists, "
                                     f"{len(doc.get('rule_overrides', {}))} rule-targeted allowlists, "
                                     f"use_default_rules={doc['use_default_rules']}")
        if target.exists() and not force and not dry_run:
            raise UsageError(f"{target} exists (use --force to overwrite, or --dry-run)")
        if not dry_run:
            header = f"# Migrated from {cfg.name} by `leakscan migrate gitleaks`.\nversion: 1\n"
            target.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000),
                              encoding="utf-8")
            written.append(str(target))
    _print_report("gitleaks config", config_report, written)
    if ign.is_file():
        config_file = str(target) if target.exists() else (str(cfg) if cfg.is_file() else None)
        entries, report = from_gitleaksignore(ign, migration_engine(base, config_file), read_content(base))
        _print_report(".gitleaksignore", report, _append_ignores(base, entries, dry_run))


@migrate_group.command("detect-secrets")
@click.argument("root", default=".", type=click.Path(file_okay=False, exists=True))
@click.option("--baseline", "ds_baseline", type=click.Path(dir_okay=False),
              help="detect-secrets baseline (default: ROOT/.secrets.baseline).")
@click.option("--dry-run", is_flag=True, help="Report only; write nothing.")
def migrate_detect_secrets(root: str, ds_baseline: str | None, dry_run: bool) -> None:
    """Turn a detect-secrets baseline into .leakscanignore entries (matched by the secret's hash)."""
    base = Path(root)
    path = Path(ds_baseline) if ds_baseline else base / ".secrets.baseline"
    if not path.is_file():
        raise UsageError(f"{path}: not found")
    entries, report = from_detect_secrets(path, migration_engine(base, None), read_content(base))
    _print_report("detect-secrets baseline", report, _append_ignores(base, entries, dry_run))
