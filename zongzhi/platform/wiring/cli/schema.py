"""``zongzhi schema export``: the GraphQL SDL of the built-in plugins' schema (what schema.graphql holds)."""

from __future__ import annotations

import sys

import click

from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run


@command("export", help="write the SDL (default: schema.graphql)")
@click.option("--output", "-o", default="schema.graphql", help="file to write, or - for stdout")
def export(run: Run, output: str) -> int:
    from zongzhi.platform.wiring.app import build_app_schema

    sdl = build_app_schema(run.settings, run.load_plugins(builtin_only=True)).as_str() + "\n"
    if output == "-":
        sys.stdout.write(sdl)
    else:
        with open(output, "w", encoding="utf-8") as f:
            f.write(sdl)
        print(f"wrote {output}")
    return 0


def schema_group() -> click.Group:
    return group("schema", "the GraphQL schema", [export])
