"""``zongzhi rules ...``: lint, simulate, impact, diff and the fact schema, for rule authors.

Every rules command loads the plugins first: their event types and actions are part of the language.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.wiring.cli.command import command, group
from zongzhi.platform.wiring.cli.context import Run


@command("lint", help="validate ruleset files; errors name rule, field and line", plugins=True)
@click.argument("files", nargs=-1, required=True, help="ruleset YAML files")
def lint(run: Run, files: tuple[str, ...]) -> int:
    from zongzhi.platform.rules.versions import RulesetRejected, compile_source

    failed = 0
    for path in files:
        try:
            name, compiled = compile_source(Path(path).read_text(encoding="utf-8"))
        except RulesetRejected as rejected:
            failed += 1
            for error in rejected.details["errors"]:
                line = f":{error['line']}" if error["line"] else ""
                rule = f" rule {error['rule']!r}" if error["rule"] else ""
                field = f" field {error['field']!r}" if error["field"] else ""
                print(f"{path}{line}:{rule}{field}: {error['message']}")
            continue
        print(f"{path}: ruleset {name!r} is valid ({len(compiled.get('rules', compiled))} rules)")
    return 1 if failed else 0


@command("simulate", help="show what a ruleset would fire on facts (one JSON per line)", plugins=True)
@click.argument("file", help="the ruleset YAML file")
@click.option("--events", required=True, help="a .jsonl file of facts")
def simulate(run: Run, file: str, events: str) -> int:
    from zongzhi.platform.rules.versions import RulesetRejected, simulate_on_facts

    lines = Path(events).read_text(encoding="utf-8").splitlines()
    facts = [json.loads(line) for line in lines if line.strip()]
    try:
        results = simulate_on_facts(Path(file).read_text(encoding="utf-8"), facts)
    except RulesetRejected as rejected:
        print(rejected.message, file=sys.stderr)
        return 1
    for i, (fact, firings) in enumerate(zip(facts, results, strict=True), start=1):
        print(
            json.dumps(
                {
                    "event": i,
                    "type": fact.get("type"),
                    "fired": [
                        {"rule": f.rule_id, "priority": f.priority, "actions": [{n: p} for n, p in f.actions]}
                        for f in firings
                    ],
                },
                ensure_ascii=False,
            )
        )
    return 0


def _when(text: str) -> datetime:
    from datetime import UTC

    from zongzhi.platform.domain.workdays import CHINA

    at = datetime.fromisoformat(text)
    return (at if at.tzinfo else at.replace(tzinfo=CHINA)).astimezone(UTC)


def _one_candidate(params: dict[str, Any]) -> None:
    """``--file`` or ``--version``: exactly one of them says what to compare."""
    if params["file"] is None and params["version"] is None:
        raise UsageError("one of the options --file and --version is required")
    if params["file"] is not None and params["version"] is not None:
        raise UsageError("--file and --version exclude each other: give one")


@command(
    "impact",
    help="what a version or file would do differently from the active one on past events",
    plugins=True,
    database=True,
    check=_one_candidate,
)
@click.argument("name", help="the ruleset")
@click.option("--file", help="a YAML source to compare (not saved); or --version")
@click.option("--version", type=int, help="a stored version to compare; or --file")
@click.option("--since", required=True, help="window start, a date (China time) or ISO time")
@click.option("--until", help="window end (default: now)")
@click.option("--limit", type=int, default=5000, help="at most this many events")
async def impact(
    run: Run, name: str, file: str | None, version: int | None, since: str, until: str | None, limit: int
) -> int:
    from datetime import UTC

    from zongzhi.platform.models import RulesetVersion
    from zongzhi.platform.rules import impact as rule_impact
    from zongzhi.platform.rules.versions import RulesetRejected, get_version

    active_row = await RulesetVersion.get_or_none(ruleset__name=name, status="active")
    active = active_row.source if active_row else None
    source = Path(file).read_text(encoding="utf-8") if file else (await get_version(name, version)).source
    window_end = _when(until) if until else datetime.now(UTC)
    try:
        result = await rule_impact.impact(
            run.admin(), name, source, _when(since), window_end, candidate_version=version, limit=limit
        )
        diff = rule_impact.diff_sources(active, source) if active else None
    except RulesetRejected as rejected:
        print(rejected.message, file=sys.stderr)
        return 1
    print(rule_impact.format_impact(result, diff), end="")
    return 0


@command(
    "diff", help="rules added, removed and changed between two stored versions", plugins=True, database=True
)
@click.argument("name", help="the ruleset, e.g. core")
@click.argument("old", type=int, help="the version to compare from")
@click.argument("new", type=int, help="the version to compare to")
async def diff(run: Run, name: str, old: int, new: int) -> int:
    from zongzhi.platform.rules import impact as rule_impact
    from zongzhi.platform.rules.versions import get_version

    old_source = (await get_version(name, old)).source
    new_source = (await get_version(name, new)).source
    changes = rule_impact.diff_sources(old_source, new_source)
    print(f"added: {', '.join(changes.added) or '-'}")
    print(f"removed: {', '.join(changes.removed) or '-'}")
    print("changed: " + (", ".join(f"{c.rule_id} ({', '.join(c.fields)})" for c in changes.changed) or "-"))
    print(f"examples changed: {'yes' if changes.examples_changed else 'no'}")
    return 0


@command("fact-schema", help="the JSON Schema of the fact rules read", plugins=True)
@click.option("--markdown", is_flag=True, help="the guide's reference table instead")
def fact_schema_command(run: Run, markdown: bool) -> int:
    from zongzhi.platform.rules.facts import fact_schema, fact_table

    print(fact_table() if markdown else json.dumps(fact_schema(), ensure_ascii=False, indent=2), end="")
    if not markdown:
        print()
    return 0


def rules_group() -> click.Group:
    return group("rules", "rule authoring tools", [lint, simulate, impact, diff, fact_schema_command])
