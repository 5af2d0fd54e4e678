"""The ``zongzhi`` command: serve, demo, database, users and tokens."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from zongzhi.platform import db, security
from zongzhi.platform.errors import ServiceError
from zongzhi.platform.settings import Settings

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int] | int]
_commands: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        _commands[name] = fn
        return fn

    return register


def _serve(settings: Settings, host: str, port: int, workers: int, reload: bool = False) -> None:
    import uvicorn

    uvicorn.run(
        "zongzhi.platform.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
    )


@command("serve")
def serve(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(db.migrate(settings))
    _serve(settings, args.host, args.port, args.workers)
    return 0


@command("demo")
def demo(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import demo as demo_data

    async def prepare() -> list[tuple[str, str, str]]:
        from zongzhi.platform import runtime

        # The demo is seeded through the same pipeline as real use: rules run on every event.
        await runtime.startup(settings)
        try:
            if args.reset or not await demo_data.is_seeded():
                print(f"Seeding the demo county ({args.cases} cases)...", flush=True)
                await demo_data.seed(n_cases=args.cases)
            return [
                (u.username, ",".join(u.roles), security.issue_jwt(u.id, u.username, ttl=timedelta(days=30)))
                for u in await demo_data.demo_users()
            ]
        finally:
            await runtime.shutdown()

    if args.reset and settings.is_sqlite:
        db_file = settings.data_dir / "zongzhi.sqlite3"
        db_file.unlink(missing_ok=True)
    tokens = asyncio.run(prepare())
    url = f"http://{args.host}:{args.port}/graphql"
    print(f"\nzongzhi demo: GraphiQL at {url}\n")
    print("Bearer tokens (valid 30 days); paste one into GraphiQL's headers as")
    print('  {"Authorization": "Bearer <token>"}\n')
    for username, roles, token in tokens:
        print(f"  {username:20} {roles:12} {token}")
    print(flush=True)
    if args.no_serve:
        return 0
    _serve(settings, args.host, args.port, 1)
    return 0


@command("db migrate")
async def db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    await db.migrate(settings)
    print("database is up to date")
    return 0


@command("users create")
async def users_create(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.models import Center, Department, Grid
    from zongzhi.platform.services.accounts import create_user

    await db.init(settings)
    try:
        center = await Center.get_or_none(code=args.center) if args.center else None
        if args.center and center is None:
            print(f"no center with code {args.center}", file=sys.stderr)
            return 2
        department = await Department.get_or_none(code=args.department) if args.department else None
        if args.department and department is None:
            print(f"no department with code {args.department}", file=sys.stderr)
            return 2
        grids = [await Grid.get(code=c) for c in args.grids.split(",")] if args.grids else []
        user = await create_user(
            args.username,
            args.name or args.username,
            args.roles.split(","),
            center=center,
            department=department,
            grids=grids,
            specialties=args.specialties.split(",") if args.specialties else [],
            plugin=args.plugin,
        )
        print(f"created user {user.username} (id {user.id})")
        return 0
    finally:
        await db.close()


@command("tokens create")
async def tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import create_api_token

    await db.init(settings)
    try:
        user = await User.get_or_none(username=args.username)
        if user is None:
            print(f"no user {args.username}", file=sys.stderr)
            return 2
        ttl = timedelta(days=args.days) if args.days else None
        if args.jwt:
            print(security.issue_jwt(user.id, user.username, ttl=ttl))
        else:
            print(await create_api_token(user, name=args.name, ttl=ttl))
        return 0
    finally:
        await db.close()


@command("schema export")
def schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import plugins
    from zongzhi.platform.app import build_app_schema

    sdl = build_app_schema(settings, plugins.load(settings, builtin_only=True)).as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(sdl)
        print(f"wrote {args.output}")
    return 0


@command("worker")
def worker(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.worker import run_worker

    asyncio.run(db.migrate(settings))
    run_worker(args.concurrency, settings.log_level.lower())
    return 0


@command("beat")
def beat(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.worker import run_beat

    run_beat(settings.log_level.lower(), args.schedule or str(settings.data_dir / "celerybeat-schedule"))
    return 0


@command("rules lint")
def rules_lint(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import plugins
    from zongzhi.platform.services.rulesets import RulesetRejected, compile_source

    plugins.load(settings)  # their event types and actions are part of the language
    failed = 0
    for path in args.files:
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


@command("rules simulate")
def rules_simulate(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from zongzhi.platform import plugins
    from zongzhi.platform.services.rulesets import RulesetRejected, simulate_on_facts

    plugins.load(settings)
    lines = Path(args.events).read_text(encoding="utf-8").splitlines()
    facts = [json.loads(line) for line in lines if line.strip()]
    try:
        results = simulate_on_facts(Path(args.file).read_text(encoding="utf-8"), facts)
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


def _when(text: str):
    from datetime import UTC, datetime

    from zongzhi.platform.workdays import CHINA

    at = datetime.fromisoformat(text)
    return (at if at.tzinfo else at.replace(tzinfo=CHINA)).astimezone(UTC)


@command("rules impact")
async def rules_impact(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from zongzhi.platform import plugins
    from zongzhi.platform.services import rule_impact
    from zongzhi.platform.services.rulesets import RulesetRejected, get_version

    plugins.load(settings)
    await db.init(settings)
    try:
        active = await _active_source(args.name)
        if args.file:
            source = Path(args.file).read_text(encoding="utf-8")
        else:
            source = (await get_version(args.name, args.version)).source
        until = _when(args.until) if args.until else datetime.now(UTC)
        try:
            since = _when(args.since)
            actor = await _admin_actor()
            result = await rule_impact.impact(
                actor, args.name, source, since, until, candidate_version=args.version, limit=args.limit
            )
            diff = rule_impact.diff_sources(active, source) if active else None
        except RulesetRejected as rejected:
            print(rejected.message, file=sys.stderr)
            return 1
        print(rule_impact.format_impact(result, diff), end="")
    finally:
        await db.close()
    return 0


async def _active_source(name: str) -> str | None:
    from zongzhi.platform.models import RulesetVersion

    row = await RulesetVersion.get_or_none(ruleset__name=name, status="active")
    return row.source if row else None


@command("rules diff")
async def rules_diff(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import plugins
    from zongzhi.platform.services import rule_impact
    from zongzhi.platform.services.rulesets import get_version

    plugins.load(settings)
    await db.init(settings)
    try:
        old = (await get_version(args.name, args.old)).source
        new = (await get_version(args.name, args.new)).source
    finally:
        await db.close()
    diff = rule_impact.diff_sources(old, new)
    print(f"added: {', '.join(diff.added) or '-'}")
    print(f"removed: {', '.join(diff.removed) or '-'}")
    print("changed: " + (", ".join(f"{c.rule_id} ({', '.join(c.fields)})" for c in diff.changed) or "-"))
    print(f"examples changed: {'yes' if diff.examples_changed else 'no'}")
    return 0


@command("rules fact-schema")
def rules_fact_schema(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from zongzhi.platform import plugins
    from zongzhi.platform.facts import fact_schema, fact_table

    plugins.load(settings)
    print(fact_table() if args.markdown else json.dumps(fact_schema(), ensure_ascii=False, indent=2), end="")
    if not args.markdown:
        print()
    return 0


@command("calendar load")
async def calendar_load(args: argparse.Namespace, settings: Settings) -> int:
    import yaml

    from zongzhi.platform.errors import ValidationFailed
    from zongzhi.platform.fact_time import FESTIVALS
    from zongzhi.platform.workdays import festival_first_days, load_official_days, official_year

    data = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    try:
        days = official_year(
            int(data["year"]), list(data.get("holidays", [])), list(data.get("workdays", []))
        )
        festivals = festival_first_days(
            int(data["year"]), list(data.get("holidays", [])), dict(data.get("festivals") or {}), FESTIVALS
        )
    except (KeyError, TypeError, ValueError, ValidationFailed) as exc:
        print(f"{args.file}: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    await db.init(settings)
    try:
        print(f"stored {await load_official_days(days, festivals)} days for {data['year']}")
    finally:
        await db.close()
    return 0


@command("plugins list")
def plugins_list(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import plugins

    for info in plugins.load(settings).describe():
        print(f"{info.name} {info.version}  ({info.source})")
        print(f"    hooks: {', '.join(info.hooks)}")
    if settings.disabled_plugins:
        print(f"disabled: {', '.join(settings.disabled_plugins)}")
    return 0


async def _admin_actor():
    from zongzhi.platform.actor import Actor

    return Actor.system_actor("命令行管理员")


@command("partners create")
async def partners_create(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import partners, plugins

    plugins.load(settings)
    await db.init(settings)
    try:
        credential, secret = await partners.create_credential(
            await _admin_actor(), args.plugin, args.name, args.callback or "", args.center
        )
    finally:
        await db.close()
    print(f"key id: {credential.key_id}")
    print(f"secret: {secret}")
    print("(the secret is shown only now)")
    return 0


@command("partners rotate")
async def partners_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import partners

    await db.init(settings)
    try:
        print(f"secret: {await partners.rotate_secret(await _admin_actor(), args.key_id)}")
    finally:
        await db.close()
    return 0


@command("partners revoke")
async def partners_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import partners

    await db.init(settings)
    try:
        await partners.revoke(await _admin_actor(), args.key_id)
    finally:
        await db.close()
    print(f"revoked {args.key_id}")
    return 0


@command("partners list")
async def partners_list(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.models import PartnerCredential

    await db.init(settings)
    try:
        for c in await PartnerCredential.all().order_by("plugin", "id"):
            state = "active" if c.active else "revoked"
            print(f"{c.key_id:28} {c.plugin:18} {state:8} {c.name}  {c.callback_url}")
    finally:
        await db.close()
    return 0


@command("report")
async def report(args: argparse.Namespace, settings: Settings) -> int:
    """分析研判报告 for a center's subtree and a period, as md, csv or pdf (to a file or stdout)."""
    from zongzhi.platform.models import Center
    from zongzhi.platform.reports import build_report, render
    from zongzhi.platform.stats import parse_period, scope_of_center

    try:
        period = parse_period(args.period)
    except ServiceError as exc:
        print(f"--period: {exc.message}", file=sys.stderr)
        return 2
    await db.init(settings)
    try:
        center = await Center.get_or_none(code=args.center)
        if center is None:
            print(f"no center with code {args.center}", file=sys.stderr)
            return 2
        data = render(await build_report(await scope_of_center(center), period), args.format)
    finally:
        await db.close()
    output = args.output or f"report-{args.center}-{period.label}.{args.format}"
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(output).write_bytes(data)
        print(f"wrote {output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zongzhi", description="zongzhi governance-center platform")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the API (GraphQL at /graphql)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)

    p = sub.add_parser("demo", help="seed the demo county into the embedded database and serve it")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--cases", type=int, default=300, help="how many demo cases to create")
    p.add_argument("--reset", action="store_true", help="start from an empty database (SQLite only)")
    p.add_argument("--no-serve", action="store_true", help="seed and print tokens, then exit")

    p = sub.add_parser("db", help="database commands")
    dbsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    dbsub.add_parser("migrate", help="apply pending migrations")

    p = sub.add_parser("users", help="user accounts")
    usub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    u = usub.add_parser("create", help="create a user")
    u.add_argument("username")
    u.add_argument("--name", help="display name")
    u.add_argument("--roles", required=True, help="comma-separated: staff,mediator,grid_worker,leader,...")
    u.add_argument("--center", help="12-digit code of the user's center (their jurisdiction)")
    u.add_argument("--department", help="department code, for department users")
    u.add_argument("--grids", help="comma-separated grid codes, for grid workers")
    u.add_argument("--specialties", help="comma-separated category codes, for mediators")
    u.add_argument("--plugin", help="for partner accounts: the plugin they may reach")

    p = sub.add_parser("tokens", help="bearer tokens")
    tsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    t = tsub.add_parser("create", help="create a token for a user and print it once")
    t.add_argument("username")
    t.add_argument("--name", default="", help="a label for an API token")
    t.add_argument("--days", type=int, help="lifetime in days (API tokens: default never expires)")
    t.add_argument("--jwt", action="store_true", help="issue a signed JWT instead of an opaque API token")

    p = sub.add_parser("report", help="write the analysis report of a center and its subtree for a period")
    p.add_argument("--center", required=True, help="12-digit code of the center")
    p.add_argument("--period", required=True, help="2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05")
    p.add_argument("--format", choices=["md", "csv", "pdf"], default="md")
    p.add_argument("--output", "-o", help="file ('-': stdout); default report-CODE-PERIOD.FMT")

    p = sub.add_parser("worker", help="run a Celery worker (rule evaluation, deliveries)")
    p.add_argument("--concurrency", type=int, default=2)

    p = sub.add_parser("beat", help="run Celery beat (republish, deadline tick, clean-up)")
    p.add_argument("--schedule", help="beat schedule file (default: <data dir>/celerybeat-schedule)")

    p = sub.add_parser("rules", help="rule authoring tools")
    rsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    r = rsub.add_parser("lint", help="validate ruleset files; errors name rule, field and line")
    r.add_argument("files", nargs="+")
    r = rsub.add_parser("simulate", help="show what a ruleset would fire on facts (one JSON per line)")
    r.add_argument("file")
    r.add_argument("--events", required=True, help="a .jsonl file of facts")
    r = rsub.add_parser(
        "impact", help="what a version or file would do differently from the active one on past events"
    )
    r.add_argument("name", help="the ruleset")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("--file", help="a YAML source to compare (not saved)")
    which.add_argument("--version", type=int, help="a stored version to compare")
    r.add_argument("--since", required=True, help="window start, a date (China time) or ISO time")
    r.add_argument("--until", help="window end (default: now)")
    r.add_argument("--limit", type=int, default=5000, help="at most this many events (default 5000)")
    r = rsub.add_parser("diff", help="rules added, removed and changed between two stored versions")
    r.add_argument("name")
    r.add_argument("old", type=int)
    r.add_argument("new", type=int)
    r = rsub.add_parser("fact-schema", help="the JSON Schema of the fact rules read")
    r.add_argument("--markdown", action="store_true", help="the guide's reference table instead")

    p = sub.add_parser("calendar", help="the working-day calendar")
    csub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    c = csub.add_parser("load", help="load a year's official holidays and make-up workdays from YAML")
    c.add_argument(
        "file",
        help="YAML: year: 2027, holidays: [2027-01-01, ...], workdays: [2027-02-07, ...], "
        "festivals: {spring_festival: 2027-02-05, ...} (the first day of each festival's holiday)",
    )

    p = sub.add_parser("plugins", help="docking and other plugins")
    psub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    psub.add_parser("list", help="loaded plugins: name, version, source and hooks")

    p = sub.add_parser("partners", help="partner agencies' credentials")
    ptsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    pc = ptsub.add_parser("create", help="create a credential and print its secret once")
    pc.add_argument("plugin", help="e.g. court_docking")
    pc.add_argument("name", help="the partner, e.g. 示范县人民法院")
    pc.add_argument("--callback", help="the partner's callback URL for outbound results")
    pc.add_argument("--center", help="12-digit code of the center its cases go to by default")
    pr = ptsub.add_parser("rotate", help="issue a new secret (the old one stops working)")
    pr.add_argument("key_id")
    pv = ptsub.add_parser("revoke", help="revoke a credential")
    pv.add_argument("key_id")
    ptsub.add_parser("list", help="list credentials")

    p = sub.add_parser("schema", help="the GraphQL schema")
    ssub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    e = ssub.add_parser("export", help="write the SDL (default: schema.graphql)")
    e.add_argument("--output", "-o", default="schema.graphql", help="file to write, or - for stdout")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    security.configure(settings)
    name = args.command + (f" {args.subcommand}" if getattr(args, "subcommand", None) else "")
    try:
        result = _commands[name](args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except ServiceError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"zongzhi {name}: {exc.message}{where}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
