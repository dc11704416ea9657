"""The `leakscan` command: a thin click layer. One error handler maps failures to exit codes."""
from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_USAGE, LeakscanError


def _loader(module: str, name: str) -> Callable[[], click.Command]:
    def load() -> click.Command:
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        return command

    return load


# Every command, loaded when it is run: `leakscan scan` on one file should not import the git,
# verification and migration layers (start-up is a target: <= 150 ms end to end).
COMMANDS: dict[str, Callable[[], click.Command]] = {
    "scan": _loader("scan", "scan"),
    "history": _loader("history", "history"),
    "staged": _loader("staged", "staged"),
    "ci": _loader("ci", "ci"),
    "pre-push": _loader("ci", "pre_push"),
    "config": _loader("config_cmd", "config_group"),
    "rules": _loader("config_cmd", "rules_group"),
    "ignore": _loader("suppress_cmd", "ignore_group"),
    "baseline": _loader("suppress_cmd", "baseline_group"),
    "migrate": _loader("migrate_cmd", "migrate_group"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loader = COMMANDS.get(cmd_name)
        return loader() if loader is not None else None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="leakscan")
def cli() -> None:
    """Find leaked secrets in files, staged changes and git history."""


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def console() -> None:
    """The ``leakscan`` command (and ``python -m scanner``): main(), then exit at once.

    The interpreter's teardown frees every object a scan still holds (a history scan of ipython lists
    ~100k) and collects garbage one last time: 0.05 s after the report is out. Nothing is pending by
    then (workers joined, temporary clones removed, report files closed), so only the standard streams
    are flushed.
    """
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message"): printed, status 1, as the interpreter would
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): what could be written was
            code = code or EXIT_RUNTIME
    os._exit(code or 0)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn every expected failure into a one-line message and exit code."""
    # A CI runner cancels a job with SIGTERM: stop like on Ctrl-C, so the workers are stopped too
    # (left alone they would keep scanning, holding the job's output pipes open).
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: list[str] | None) -> Any:
    try:
        return cli.main(args=argv, prog_name="leakscan", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except LeakscanError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except BrokenPipeError:
        sys.exit(EXIT_RUNTIME)
    except Exception as exc:  # an unexpected bug: say where, never what (messages may hold data)
        if os.environ.get("LEAKSCAN_DEBUG"):
            raise
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}" if tb else ""
        click.echo(f"error: internal error ({type(exc).__name__}{where}); set LEAKSCAN_DEBUG=1 for details", err=True)
        sys.exit(EXIT_RUNTIME)
