"""The one error type that crosses layers; the CLI maps it to an exit code and a one-line message."""
from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3
EXIT_INTERRUPTED = 130


class LeakscanError(Exception):
    """An expected failure. Its message is shown to the user as is: it must never hold a secret."""

    exit_code = EXIT_RUNTIME


class UsageError(LeakscanError):
    """Bad usage, configuration or rules."""

    exit_code = EXIT_USAGE


class RuleError(UsageError):
    """A rule file or a rule in it is malformed."""


class ConfigError(UsageError):
    """A configuration file is malformed."""


class SourceError(LeakscanError):
    """A source (file system, git) failed at run time."""
