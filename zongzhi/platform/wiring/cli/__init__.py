"""The ``zongzhi`` command: serve, demo, database, users and tokens, backups.

A click group built by :func:`build_cli`, one module per area (``serve``, ``demo``, ``database``,
``accounts``, ``imports``, ``rules``, ``partners``, ``schema``, ``report``, ``backup``, ``audit``).
Each command declares what it needs started (:mod:`.command`); the start-up itself lives in one
place, :mod:`.context`.

Mistakes (a missing file, bad YAML, a busy port, an unknown code, an unreachable database) end in
one line on stderr and a non-zero exit, never a traceback (:mod:`zongzhi.platform.wiring.cli_errors`).
Long work shows a progress bar on a terminal and stays quiet otherwise
(:mod:`zongzhi.platform.base.progress`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

PROG = "zongzhi"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("zongzhi")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_cli() -> click.Group:
    """The whole command tree, new on every call (nothing is registered at import)."""
    from zongzhi.platform.wiring.cli import (
        accounts,
        audit,
        backup,
        database,
        demo,
        imports,
        partners,
        report,
        rules,
    )
    from zongzhi.platform.wiring.cli import schema as schema_commands
    from zongzhi.platform.wiring.cli import serve as serving
    from zongzhi.platform.wiring.cli.command import CONTEXT_SETTINGS, Group

    root = Group(
        PROG,
        help="zongzhi governance-center platform",
        context_settings=CONTEXT_SETTINGS,
        commands=[
            serving.serve,
            demo.demo,
            database.db_group(),
            accounts.users_group(),
            imports.import_group(),
            accounts.tokens_group(),
            audit.audit_group(),
            report.report,
            serving.worker,
            serving.beat,
            rules.rules_group(),
            database.calendar_group(),
            partners.plugins_group(),
            partners.partners_group(),
            schema_commands.schema_group(),
            backup.backup,
            backup.restore,
        ],
    )
    click.version_option(
        _version(),
        "--version",
        prog_name=PROG,
        message="%(prog)s %(version)s",
        help="print the version and exit",
    )(root)
    return root


def parse(argv: Sequence[str]) -> click.Context:
    """Parse a command line as ``zongzhi`` would, without running it: the context of its command.

    Raises ``click.UsageError`` for a line the command refuses (deploy checks and tests use this).
    """
    ctx = build_cli().make_context(PROG, list(argv))
    while isinstance(ctx.command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]
        name, command, rest = ctx.command.resolve_command(ctx, rest)
        assert name is not None and command is not None
        ctx = command.make_context(name, rest, parent=ctx)
    return ctx


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``zongzhi`` (the console script): the exit status of the command, or 2 for a refused line."""
    try:
        return int(build_cli().main(argv, prog_name=PROG, standalone_mode=False) or 0)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
