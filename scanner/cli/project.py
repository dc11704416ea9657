"""What a scan command knows about the scanned project: its config, ignore file and baseline, and the
suppression step every scan runs before verification and reporting."""
from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from .. import ignorefile
from ..config import Config, find_config, find_project_file, load_config, resolve_rules
from ..engine import EngineSpec
from ..errors import ConfigError
from ..markers import marker_set
from ..model import Finding
from ..ruleset import build_spec, default_rules
from ..sources.remote_url import is_remote

if TYPE_CHECKING:  # imported where a baseline is read or written: most scans have none
    from .. import baseline as baseline_mod

_OPTIONS = "leakscan.project_options"
_PROJECT = "leakscan.project"
BASELINE_MODE = "leakscan.baseline_mode"  # ("create" | "update", path), set by `leakscan baseline`


@dataclass(frozen=True)
class ProjectOptions:
    """Command-line choices about configuration and suppression."""

    config_file: str | None = None
    baseline_file: str | None = None
    inline_markers: bool = True
    report_unused_ignores: bool = False
    project_files: bool = True  # False: ignore the scanned tree's .leakscan.yaml and .leakscanignore


@dataclass(frozen=True)
class Project:
    root: str  # the scan root as given on the command line
    config: Config
    options: ProjectOptions
    ignores: ignorefile.IgnoreFile | None = None
    baseline: baseline_mod.Baseline | None = None


@dataclass(frozen=True)
class Suppressed:
    findings: list[Finding]
    ignored: int = 0
    baselined: int = 0
    unused: tuple[ignorefile.IgnoreEntry, ...] = ()


def load_project(root: str, options: ProjectOptions = ProjectOptions()) -> Project:
    builtin = default_rules()
    # A repository URL is no path: its files must not be looked for around the current directory.
    local = options.project_files and not is_remote(root)
    path = options.config_file or (find_config(root) if local else None)
    if options.config_file and not os.path.isfile(options.config_file):
        raise ConfigError(f"{options.config_file}: config file not found")
    config = load_config(path, builtin) if path else Config()
    ignore_path = find_project_file(root, (ignorefile.IGNORE_NAME,)) if local else None
    ignores = ignorefile.load_ignore(ignore_path) if ignore_path else None
    base = None
    if options.baseline_file:
        from .. import baseline as baseline_mod

        base = baseline_mod.load(options.baseline_file)
    return Project(root=root, config=config, options=options, ignores=ignores, baseline=base)


def current_project(root: str) -> Project:
    """The project for this command invocation (loaded once), or a fresh one outside the CLI."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return load_project(root)
    project = ctx.meta.get(_PROJECT)
    if project is None or project.root != root:
        project = load_project(root, ctx.meta.get(_OPTIONS, ProjectOptions()))
        ctx.meta[_PROJECT] = project
    return project


def active_project() -> Project | None:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_PROJECT) if ctx is not None else None


def baseline_mode() -> tuple[str, str] | None:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(BASELINE_MODE) if ctx is not None else None


def spec_for(project: Project, **options: Any) -> EngineSpec:
    config = project.config
    rules = resolve_rules(config, default_rules())
    if config.options.decode_depth is not None:
        options.setdefault("decode_depth", config.options.decode_depth)
    spec = build_spec(rules, config.allowlists, **options)
    markers = None
    if config.inline_markers and project.options.inline_markers:
        markers = marker_set(peers=config.peer_markers)
    return dataclasses.replace(spec, markers=markers)


def project_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --config, --baseline, --no-inline-markers, --no-project-config and --report-unused-ignores;
    loads the project before the command runs and fills scan options the user did not give from its config."""
    options = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="Configuration file (default: .leakscan.yaml in the scanned directory or repository; "
                          "a gitleaks .toml is read too)."),
        click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
                     help="Report only findings that are not in this baseline (see `leakscan baseline`)."),
        click.option("--no-inline-markers", is_flag=True,
                     help="Ignore inline allow comments (leakscan:allow, gitleaks:allow, ...), for audits."),
        click.option("--no-project-config", is_flag=True,
                     help="Ignore the scanned tree's .leakscan.yaml and .leakscanignore, for audits of "
                          "repositories you do not trust (--config still applies)."),
        click.option("--report-unused-ignores", is_flag=True,
                     help="List .leakscanignore entries that matched nothing."),
    ]
    for option in reversed(options):
        f = option(f)

    @functools.wraps(f)
    def wrapper(*args: Any, config_file: str | None, baseline_file: str | None, no_inline_markers: bool,
                no_project_config: bool, report_unused_ignores: bool, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        ctx.meta[_OPTIONS] = ProjectOptions(config_file, baseline_file, not no_inline_markers, report_unused_ignores,
                                            not no_project_config)
        project = current_project(_scan_root(ctx))
        for note in project.config.notes:
            if not note.startswith("info: "):
                click.echo(f"warning: {note}", err=True)
        for name, value in dataclasses.asdict(project.config.options).items():
            if value is not None and name in kwargs and _defaulted(ctx, name):
                kwargs[name] = value
        return f(*args, **kwargs)

    return wrapper


def _defaulted(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is None or source in (click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP)


def _scan_root(ctx: click.Context) -> str:
    """The command's first path argument: the directory or repository it scans."""
    for param in ctx.command.params:
        if isinstance(param, click.Argument):
            value = ctx.params.get(param.name or "")
            if isinstance(value, (tuple, list)):
                value = next((v for v in value if v != "-"), None)
            if isinstance(value, str) and value:
                return value
            break
    return "."


def suppress(findings: Sequence[Finding], project: Project, *, use_baseline: bool = True,
             spec: EngineSpec | None = None, scanned: Sequence[Finding] = ()) -> Suppressed:
    """Drop findings the ignore file or the baseline covers. Runs before verification: ignored
    findings are never sent anywhere. ``scanned``: every finding of the run, with those the output
    options leave out (--no-identifiers, --min-confidence): an entry one of them matches is in use."""
    kept = list(findings) if spec is None else drop_allowlisted_commits(findings, spec)
    ignored = baselined = 0
    unused: tuple[ignorefile.IgnoreEntry, ...] = ()
    if project.ignores is not None:
        kept, dropped, used = ignorefile.split(kept, project.ignores)
        ignored = len(dropped)
        if len(scanned) > len(findings):
            used |= ignorefile.split(scanned, project.ignores)[2]
        unused = tuple(e for i, e in enumerate(project.ignores.entries) if i not in used)
    if project.baseline is not None and use_baseline:
        from .. import baseline as baseline_mod

        kept, known = baseline_mod.split(kept, project.baseline, project.root)
        baselined = len(known)
    return Suppressed(kept, ignored, baselined, unused)


def drop_allowlisted_commits(findings: Sequence[Finding], spec: EngineSpec) -> list[Finding]:
    """Commit allowlists, applied once findings are attributed: history scans each blob once, before
    it knows which commit introduced what. Full or abbreviated (7+ characters) ids."""
    global_commits = tuple(c.lower() for a in spec.allowlists for c in a.commits)
    rule_commits = {r.id: tuple(c.lower() for a in r.allowlists for c in a.commits) for r in spec.rules}
    if not global_commits and not any(rule_commits.values()):
        return list(findings)

    def allowed(f: Finding) -> bool:
        if f.commit is None:
            return False
        sha = f.commit.sha.lower()
        ids = global_commits + rule_commits.get(f.rule_id, ())
        return any(sha == c or (len(c) >= 7 and sha.startswith(c)) for c in ids)

    return [f for f in findings if not allowed(f)]


def report_suppression(result: Suppressed, project: Project, verbose: int) -> None:
    """Notes on stderr: counts, and unused ignore entries when asked. Fingerprints only, never a secret."""
    if verbose and (result.ignored or result.baselined):
        click.echo(f"suppressed: {result.ignored} by {ignorefile.IGNORE_NAME}, {result.baselined} by baseline",
                   err=True)
    if project.options.report_unused_ignores and project.ignores is not None:
        for entry in result.unused:
            where = f" {entry.path}" if entry.path else ""
            click.echo(f"unused ignore: {project.ignores.source}:{entry.line}: {entry.fingerprint}{where}", err=True)


def write_baseline(findings: Sequence[Finding], project: Project, mode: tuple[str, str],
                   scanned: Sequence[Finding] = ()) -> None:
    """`leakscan baseline create|update`: write the baseline instead of a report.

    ``create`` accepts what the report would show; ``update`` keeps every entry that a finding of the
    run (``scanned``, including those the output options leave out: --no-identifiers, --min-confidence)
    still matches, as pruning it would bring the finding back once the option is dropped.
    """
    action, path = mode
    from .. import baseline as baseline_mod

    if action == "create":
        result = baseline_mod.from_findings(findings, project.root, path)
    else:
        result = baseline_mod.prune(baseline_mod.load(path), scanned or findings, project.root)
    baseline_mod.write(result, path)
    click.echo(f"{path}: {len(result.entries)} entries", err=True)
