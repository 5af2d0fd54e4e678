"""How a ``zongzhi`` command is declared: a click command whose body gets a :class:`.Run`.

``@command("create", help=..., database=True)`` over a function ``(run, **params)`` makes a click
command that reads the settings, starts what the command needs (:class:`.Needs`), runs the body
and stops it again; a failure ends in one line on stderr and the exit status of
:mod:`zongzhi.platform.wiring.cli_errors`. The body returns the exit status (``None`` is 0).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import click

from zongzhi.platform.wiring import cli_errors
from zongzhi.platform.wiring.cli.context import Needs, Run

Body = Callable[..., Any]

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "show_default": True,  # an option's default follows its help, unless there is none (None, a flag)
    "max_content_width": 110,
}


class Group(click.Group):
    """A group that lists its commands in the order they were given (the README's), not sorted."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def group(name: str, help: str, commands: Sequence[click.Command]) -> Group:
    return Group(name, help=help, commands=list(commands))


def command_name(ctx: click.Context) -> str:
    """``users create`` for ``zongzhi users create``: the words after the program's name."""
    words = []
    while ctx.parent is not None:
        words.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(words))


def command(
    name: str,
    *,
    help: str,
    database: bool = False,
    migrate: bool = True,
    plugins: bool = False,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> Callable[[Body], click.Command]:
    """A command whose body runs with what it needs started (``database``, ``plugins``).

    ``check`` sees the parsed parameters before anything starts and raises ``UsageError`` for a
    combination click cannot express (one of two options required).
    """
    needs = Needs(database=database, migrate=migrate, plugins=plugins)

    def decorate(body: Body) -> click.Command:
        @functools.wraps(body)
        def callback(**params: Any) -> int:
            name = command_name(click.get_current_context())
            run: Run | None = None
            try:
                if check is not None:
                    check(params)
                run = Run.begin(name)
                result = run.call(body, params, needs)
            except (Exception, KeyboardInterrupt) as exc:
                return cli_errors.report(name, exc, run.settings if run else None)
            return int(result or 0)

        return click.command(name, help=help)(callback)

    return decorate
