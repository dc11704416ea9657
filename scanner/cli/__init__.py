"""The `leakscan` command: a thin click layer. One error handler maps failures to exit codes."""
from __future__ import annotations

import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_USAGE, LeakscanError
from .config_cmd import config_group, rules_group
from .history import history
from .migrate_cmd import migrate_group
from .ci import ci, pre_push
from .scan import scan
from .staged import staged
from .suppress_cmd import baseline_group, ignore_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="leakscan")
def cli() -> None:
    """Find leaked secrets in files, staged changes and git history."""


cli.add_command(scan)
cli.add_command(history)
cli.add_command(staged)
cli.add_command(ci)
cli.add_command(pre_push)
for _group in (config_group, rules_group, ignore_group, baseline_group, migrate_group):
    cli.add_command(_group)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn every expected failure into a one-line message and exit code."""
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
