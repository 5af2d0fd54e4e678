"""How the ``zongzhi`` command reports a failure: one line on stderr, never a traceback for a mistake.

A user's or operator's mistake (a missing file, bad YAML, a busy port, an unknown code, a database
or store that cannot be reached, a refused restore) is explained in one line and exits with 2.
Anything else is a bug: one line naming the exception and exit 1. ``ZONGZHI_DEBUG=1`` prints the
traceback as well, for a bug report.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import traceback
from types import TracebackType
from typing import TextIO

import yaml
from tortoise.exceptions import DBConnectionError, DoesNotExist

from zongzhi.platform.base.errors import ServiceError, UsageError
from zongzhi.platform.base.settings import Settings

DEBUG_ENV = "ZONGZHI_DEBUG"
USAGE_EXIT = 2
BUG_EXIT = 1
_DATABASE_MODULES = ("asyncpg", "tortoise", "aiosqlite", "sqlite3")
_POSTGRES_REFUSALS = ("28", "3D")  # SQLSTATE classes: authorisation, unknown database


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _frames_from(tb: TracebackType | None, modules: tuple[str, ...]) -> bool:
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "")
        if name.split(".")[0] in modules:
            return True
        tb = tb.tb_next
    return False


def database_label(settings: Settings | None) -> str:
    """Where the database is, without its password."""
    if settings is None:
        return "the database"
    if settings.is_sqlite:
        return f"the database {settings.data_dir / 'zongzhi.sqlite3'}"
    from tortoise.backends.base.config_generator import expand_db_url

    try:
        c = expand_db_url(settings.db_url)["credentials"]
    except Exception:  # an unparsable URL still gets a message
        return "the database"
    return f"the database at {c.get('host')}:{c.get('port')}/{c.get('database')}"


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"bad YAML: {problem}"
    return f"bad YAML in {mark.name}, line {mark.line + 1}, column {mark.column + 1}: {problem}"


def explain(exc: BaseException, settings: Settings | None = None) -> str | None:
    """One line for a mistake the user can fix, or ``None`` for a bug."""
    from zongzhi.storage import StoreUnavailable  # the storage SDKs are slow to import: only on failure

    if isinstance(exc, UsageError):
        return str(exc)
    if isinstance(exc, ServiceError):
        return exc.message + (f" ({exc.field})" if exc.field else "")
    if isinstance(exc, StoreUnavailable):
        return str(exc)
    if isinstance(exc, yaml.YAMLError):
        return _yaml_message(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"bad JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, DoesNotExist):
        return f"not found: {exc}"
    if isinstance(exc, DBConnectionError):
        return f"cannot reach {database_label(settings)}: {exc}"
    if type(exc).__module__.startswith("asyncpg") and getattr(exc, "sqlstate", "")[:2] in _POSTGRES_REFUSALS:
        return f"{database_label(settings)} refused the connection: {exc}"
    if isinstance(exc, ConnectionError | socket.gaierror | TimeoutError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        if _frames_from(exc.__traceback__, _DATABASE_MODULES):
            return f"cannot reach {database_label(settings)}: {reason}"
        return f"cannot connect: {reason}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return None


def report(
    command: str, exc: BaseException, settings: Settings | None = None, stream: TextIO | None = None
) -> int:
    """Print the failure of ``zongzhi <command>`` and return the exit status."""
    stream = stream if stream is not None else sys.stderr
    if os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        traceback.print_exception(exc, file=stream)
    prefix = f"zongzhi {command}".rstrip()
    if isinstance(exc, KeyboardInterrupt):
        print(f"{prefix}: interrupted", file=stream)
        return 130
    message = explain(exc, settings)
    if message is None:
        detail = _one_line(str(exc))
        print(
            f"{prefix}: unexpected error: {type(exc).__name__}{': ' + detail if detail else ''} "
            f"(set {DEBUG_ENV}=1 to see the traceback)",
            file=stream,
        )
        return BUG_EXIT
    print(f"{prefix}: {_one_line(message)}", file=stream)
    return USAGE_EXIT
