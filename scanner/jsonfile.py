"""Reading a JSON file a user supplies (baselines, detect-secrets baselines): one-line errors, exit 2."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import ConfigError


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """The parsed document; every failure is a ConfigError naming the file (and line for bad JSON)."""
    source = str(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read {what}: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: {what} is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{source}: {what} is nested too deeply") from None
