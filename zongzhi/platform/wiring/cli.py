"""The ``zongzhi`` command: serve, demo, database, users and tokens, backups.

Mistakes (a missing file, bad YAML, a busy port, an unknown code, an unreachable database) end in
one line on stderr and a non-zero exit, never a traceback (:mod:`zongzhi.platform.wiring.cli_errors`).
Long work shows a progress bar on a terminal and stays quiet otherwise (:mod:`.progress`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from zongzhi.platform.base import security
from zongzhi.platform.base.errors import ServiceError, UsageError
from zongzhi.platform.base.observability import logs
from zongzhi.platform.base.progress import Progress
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import db
from zongzhi.platform.wiring import cli_errors

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int] | int]
_commands: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        _commands[name] = fn
        return fn

    return register


def _serve(settings: Settings, host: str, port: int, workers: int, reload: bool = False) -> None:
    import uvicorn

    from zongzhi.platform.base.observability import multiproc

    multiproc.prepare_multiprocess_dir()
    # Our request log line replaces uvicorn's access log; in JSON mode uvicorn's own lines go to
    # the root logger too (log_config=None), so every line on stderr is JSON.
    logging_options: dict[str, Any] = {"access_log": False}
    if settings.log_format == "json":
        logging_options["log_config"] = None
    uvicorn.run(
        "zongzhi.platform.wiring.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        **logging_options,
    )


def ensure_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on, before any start-up work (as uvicorn binds it)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from exc
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise UsageError(
                    f"port {port} on {host} is in use ({exc.strerror}): stop what listens there or use --port"
                ) from exc


@command("serve")
def serve(args: argparse.Namespace, settings: Settings) -> int:
    ensure_port_free(args.host, args.port)
    asyncio.run(db.migrate(settings))
    _serve(settings, args.host, args.port, args.workers)
    return 0


def _public_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``host:port`` at (evidence links are built on it)."""
    if host in {"0.0.0.0", "", "::"}:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@command("demo")
def demo(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.wiring import demo as demo_data

    if not args.no_serve:
        ensure_port_free(args.host, args.port)
    if not os.environ.get("ZONGZHI_PUBLIC_URL"):
        # Evidence links point at the port the demo serves on; the app uvicorn builds reads the env.
        os.environ["ZONGZHI_PUBLIC_URL"] = _public_url(args.host, args.port)
        settings = replace(settings, public_url=os.environ["ZONGZHI_PUBLIC_URL"])

    async def prepare() -> demo_data.Directory:
        from zongzhi.platform.wiring import runtime

        # The demo is seeded through the same pipeline as real use: rules run on every event.
        await runtime.startup(settings)
        try:
            if args.reset or not await demo_data.is_seeded():
                print(f"Seeding the demo county ({args.cases} cases)...", flush=True)
                with Progress.start("seeding cases", args.cases) as bar:
                    await demo_data.seed(
                        n_cases=args.cases, settings=settings, on_case=bar.advance, bulk_after=args.bulk_after
                    )
            return await demo_data.directory(ttl=timedelta(days=30))
        finally:
            await runtime.shutdown()

    if args.reset and settings.is_sqlite:
        # The WAL beside a killed server's file would be replayed into the new one: remove it too.
        for name in ("zongzhi.sqlite3", "zongzhi.sqlite3-wal", "zongzhi.sqlite3-shm"):
            (settings.data_dir / name).unlink(missing_ok=True)
        if settings.storage == "local":
            shutil.rmtree(settings.evidence_dir, ignore_errors=True)
    directory = asyncio.run(prepare())
    url = f"{settings.public_url}/graphql"
    print(f"\nzongzhi demo: GraphiQL at {url}\n")
    print(directory.render())
    print("Bearer tokens are valid 30 days; paste one into GraphiQL's headers tab as")
    print('  {"Authorization": "Bearer <token>"}')
    print("A township's users see its own cases and not the other townships' (jurisdiction).\n", flush=True)
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
            raise UsageError(f"no center with code {args.center}")
        department = await Department.get_or_none(code=args.department) if args.department else None
        if args.department and department is None:
            raise UsageError(f"no department with code {args.department}")
        grids = []
        for code in args.grids.split(",") if args.grids else []:
            grid = await Grid.get_or_none(code=code.strip())
            if grid is None:
                raise UsageError(f"no grid with code {code.strip()}")
            grids.append(grid)
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


@command("users list")
async def users_list(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.models import User

    await db.init(settings, run_migrations=False)
    try:
        query = User.all().select_related("center", "department").order_by("username")
        if args.center:
            query = query.filter(center__code=args.center)
        rows = [
            (
                u.username,
                ",".join(u.roles),
                f"{u.center.code} {u.center.name}" if u.center else "-",
                u.department.name if u.department else "-",
                "yes" if u.active else "no",
            )
            for u in await query
        ]
    finally:
        await db.close()
    header = ("USERNAME", "ROLES", "CENTER", "DEPARTMENT", "ACTIVE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


@command("backup")
async def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.wiring.backup import backup

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists: choose another name, or pass --overwrite")
    manifest = await backup(settings, out)
    rows = sum(manifest.counts.values())
    print(
        f"wrote {out}: {manifest.database_kind} database at migration {manifest.migration_level} "
        f"({len(manifest.counts)} tables, {rows} rows), {len(manifest.evidence)} evidence objects"
    )
    if manifest.missing_evidence:
        print(
            f"warning: {len(manifest.missing_evidence)} evidence row(s) name objects missing from the store, "
            f"e.g. {manifest.missing_evidence[0]}",
            file=sys.stderr,
        )
    print("Keep ZONGZHI_SECRET_KEY and ZONGZHI_PII_KEY (or <data dir>/secret.key) apart from this file.")
    return 0


@command("restore")
async def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.wiring.backup import restore

    done = await restore(settings, Path(args.input), force=args.force, allow_other_key=args.allow_other_key)
    m = done.manifest
    print(
        f"restored {args.input} (made {m.created_at} by zongzhi {m.zongzhi_version}): "
        f"{len(m.counts)} tables, {done.rows} rows and {done.objects} evidence objects, all checked"
    )
    if done.migrated:
        print(f"applied {len(done.migrated)} newer migration(s): {', '.join(done.migrated)}")
    return 0


@command("tokens create")
async def tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import create_api_token

    await db.init(settings)
    try:
        user = await User.get_or_none(username=args.username)
        if user is None:
            raise UsageError(f"no user {args.username}")
        ttl = timedelta(days=args.days) if args.days else None
        if args.jwt:
            print(security.issue_jwt(user.id, user.username, ttl=ttl))
        else:
            print(await create_api_token(user, name=args.name, ttl=ttl))
        return 0
    finally:
        await db.close()


def _cli_actor():
    """The command line acts as an admin with no account; audit rows name it and the OS user."""
    import getpass

    from zongzhi.platform.domain.actor import Actor

    return Actor.system_actor(f"命令行 cli:{getpass.getuser()}")


@command("users disable")
async def users_disable(args: argparse.Namespace, settings: Settings) -> int:
    return await _set_user_active(args.username, False, settings)


@command("users enable")
async def users_enable(args: argparse.Namespace, settings: Settings) -> int:
    return await _set_user_active(args.username, True, settings)


async def _set_user_active(username: str, active: bool, settings: Settings) -> int:
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import set_user_active

    await db.init(settings)
    try:
        user = await User.get_or_none(username=username)
        if user is None:
            print(f"no user {username}", file=sys.stderr)
            return 2
        await set_user_active(_cli_actor(), user.id, active)
    finally:
        await db.close()
    print(f"{'enabled' if active else 'disabled'} {username}")
    return 0


def _import(kind: str) -> Command:
    async def run(args: argparse.Namespace, settings: Settings) -> int:
        from zongzhi.platform.imports import command as imports

        return await imports.run(kind, args.file, settings, getattr(args, "datum", None))

    return run


for _kind in ("centers", "departments", "grids", "users", "residents", "units"):
    command(f"import {_kind}")(_import(_kind))


@command("tokens list")
async def tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.models import User
    from zongzhi.platform.services.accounts import list_api_tokens

    await db.init(settings)
    try:
        user = await User.get_or_none(username=args.username)
        if user is None:
            print(f"no user {args.username}", file=sys.stderr)
            return 2
        rows = await list_api_tokens(_cli_actor(), user.id)
    finally:
        await db.close()

    def when(value) -> str:
        return value.strftime("%Y-%m-%dT%H:%MZ") if value else "-"

    print(f"{'id':>6}  {'prefix':12} {'created':18} {'expires':18} {'last used':18} {'revoked':18} name")
    for t in rows:
        print(
            f"{t.id:>6}  {t.prefix:12} {when(t.created_at):18} {when(t.expires_at):18} "
            f"{when(t.last_used_at):18} {when(t.revoked_at):18} {t.name}"
        )
    return 0


@command("tokens revoke")
async def tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.services.accounts import revoke_api_token

    await db.init(settings)
    try:
        await revoke_api_token(_cli_actor(), args.id)
    finally:
        await db.close()
    print(f"revoked token {args.id}")
    return 0


@command("audit verify")
async def audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.domain.audit import verify

    await db.init(settings)
    try:
        result = await verify()
    finally:
        await db.close()
    if result.unchained:
        print(f"{result.unchained} row(s) from before the chain began are not covered")
    if not result.ok:
        where = f"row id {result.broken_id}" if result.broken_id is not None else "the chain head"
        seq = f" (seq {result.broken_seq})" if result.broken_seq is not None else ""
        print(
            f"audit chain BROKEN at {where}{seq}: {result.problem}; "
            f"{result.checked} row(s) before it verified",
            file=sys.stderr,
        )
        return 1
    print(f"audit chain intact: {result.checked} row(s), last seq {result.last_seq}, hash {result.last_hash}")
    return 0


@command("schema export")
def schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.wiring.app import build_app_schema

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
    from zongzhi.platform.base.observability import multiproc

    multiproc.prepare_multiprocess_dir()  # before anything defines a metric
    from zongzhi.platform.wiring.worker import run_worker

    asyncio.run(db.migrate(settings))
    run_worker(args.concurrency, settings.log_level.lower())
    return 0


@command("beat")
def beat(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.wiring.worker import run_beat

    run_beat(settings.log_level.lower(), args.schedule or str(settings.data_dir / "celerybeat-schedule"))
    return 0


@command("rules lint")
def rules_lint(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.rules.versions import RulesetRejected, compile_source

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

    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.rules.versions import RulesetRejected, simulate_on_facts

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

    from zongzhi.platform.domain.workdays import CHINA

    at = datetime.fromisoformat(text)
    return (at if at.tzinfo else at.replace(tzinfo=CHINA)).astimezone(UTC)


@command("rules impact")
async def rules_impact(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.rules import impact as rule_impact
    from zongzhi.platform.rules.versions import RulesetRejected, get_version

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
    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.rules import impact as rule_impact
    from zongzhi.platform.rules.versions import get_version

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

    from zongzhi.platform.pipeline import plugin_host as plugins
    from zongzhi.platform.rules.facts import fact_schema, fact_table

    plugins.load(settings)
    print(fact_table() if args.markdown else json.dumps(fact_schema(), ensure_ascii=False, indent=2), end="")
    if not args.markdown:
        print()
    return 0


@command("calendar load")
async def calendar_load(args: argparse.Namespace, settings: Settings) -> int:
    import yaml

    from zongzhi.platform.base.errors import ValidationFailed
    from zongzhi.platform.domain.workdays import festival_first_days, load_official_days, official_year
    from zongzhi.platform.rules.fact_time import FESTIVALS

    data = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    try:
        days = official_year(
            int(data["year"]), list(data.get("holidays", [])), list(data.get("workdays", []))
        )
        festivals = festival_first_days(
            int(data["year"]), list(data.get("holidays", [])), dict(data.get("festivals") or {}), FESTIVALS
        )
    except (KeyError, TypeError, ValueError, ValidationFailed) as exc:
        raise UsageError(f"{args.file}: {getattr(exc, 'message', exc)}") from exc
    await db.init(settings)
    try:
        print(f"stored {await load_official_days(days, festivals)} days for {data['year']}")
    finally:
        await db.close()
    return 0


@command("plugins list")
def plugins_list(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform.pipeline import plugin_host as plugins

    for info in plugins.load(settings).describe():
        print(f"{info.name} {info.version}  ({info.source})")
        print(f"    hooks: {', '.join(info.hooks)}")
    if settings.disabled_plugins:
        print(f"disabled: {', '.join(settings.disabled_plugins)}")
    return 0


async def _admin_actor():
    from zongzhi.platform.domain.actor import Actor

    return Actor.system_actor("命令行管理员")


@command("partners create")
async def partners_create(args: argparse.Namespace, settings: Settings) -> int:
    from zongzhi.platform import partners
    from zongzhi.platform.pipeline import plugin_host as plugins

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
        raise UsageError(f"--period: {exc.message}") from exc
    await db.init(settings)
    try:
        center = await Center.get_or_none(code=args.center)
        if center is None:
            raise UsageError(f"no center with code {args.center}")
        with Progress.start(f"report {period.label}", 2) as bar:
            built = await build_report(await scope_of_center(center), period, people=args.people)
            bar.advance()
            if args.people == "full" and built.parties:
                from zongzhi.platform.domain.audit import record_reveal

                actor = _cli_actor()
                await record_reveal(
                    None,
                    [p.person_id for p in built.parties],
                    "cli",
                    command="report",
                    center=args.center,
                    period=period.label,
                    by=actor.display,
                )
            data = render(built, args.format)
            bar.advance()
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


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default after its help, unless there is nothing to show (None, a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or isinstance(action, argparse._StoreTrueAction):
            return action.help
        return super()._get_help_string(action)


def _every_parser(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _every_parser(child)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("zongzhi")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zongzhi", description="zongzhi governance-center platform")
    parser.add_argument("--version", action="version", version=f"zongzhi {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the API (GraphQL at /graphql)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")

    p = sub.add_parser("demo", help="seed the demo county into the embedded database and serve it")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="TCP port to serve on (evidence links point at it)")
    p.add_argument("--cases", type=int, default=300, help="how many demo cases to create")
    p.add_argument(
        "--bulk-after",
        type=int,
        default=300,
        metavar="N",
        help="cases past the first N (except every 20th, which gets a photo) are written in bulk: the same "
        "draws, timelines and rule decisions (computed by the rules engine), without a service call per step",
    )
    p.add_argument("--reset", action="store_true", help="start from an empty database (SQLite only)")
    p.add_argument("--no-serve", action="store_true", help="seed and print tokens, then exit")

    p = sub.add_parser("db", help="database commands")
    dbsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    dbsub.add_parser("migrate", help="apply pending migrations")

    p = sub.add_parser("users", help="user accounts")
    usub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    u = usub.add_parser("create", help="create a user")
    u.add_argument("username", help="login name, unique")
    u.add_argument("--name", help="display name")
    u.add_argument(
        "--roles",
        required=True,
        help="comma-separated: staff,mediator,grid_worker,leader,rule_author,admin,partner,department; "
        "or auditor alone (reads the audit log, nothing else)",
    )
    u.add_argument("--center", help="12-digit code of the user's center (their jurisdiction)")
    u.add_argument("--department", help="department code, for department users")
    u.add_argument("--grids", help="comma-separated grid codes, for grid workers")
    u.add_argument("--specialties", help="comma-separated category codes, for mediators")
    u.add_argument("--plugin", help="for partner accounts: the plugin they may reach")
    u = usub.add_parser("list", help="list users: username, roles, center, department, active")
    u.add_argument("--center", help="only the users of the center with this 12-digit code")
    u = usub.add_parser("disable", help="disable an account: its tokens and JWTs get 401 at once (audited)")
    u.add_argument("username", help="the account to disable")
    u = usub.add_parser("enable", help="enable a disabled account again (audited)")
    u.add_argument("username", help="the account to enable")

    p = sub.add_parser("import", help="load a county's master data and registry (all-or-nothing, idempotent)")
    isub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    from zongzhi.platform.imports.command import HELP as IMPORT_HELP

    for kind, text in IMPORT_HELP.items():
        i = isub.add_parser(kind, help=text)
        i.add_argument("file", help="the file to import (CSV in UTF-8, or GeoJSON for grids)")
        if kind == "grids":
            i.add_argument(
                "--datum", choices=["wgs84", "gcj02", "cgcs2000"], help="datum, if the file does not say"
            )

    p = sub.add_parser("tokens", help="bearer tokens")
    tsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    t = tsub.add_parser("create", help="create a token for a user and print it once")
    t.add_argument("username", help="the user the token signs in as")
    t.add_argument("--name", default="", help="a label for an API token")
    t.add_argument("--days", type=int, help="lifetime in days (API tokens: default never expires)")
    t.add_argument("--jwt", action="store_true", help="issue a signed JWT instead of an opaque API token")
    t = tsub.add_parser("list", help="a user's API tokens without their secrets: id, dates, revoked")
    t.add_argument("username", help="whose tokens")
    t = tsub.add_parser("revoke", help="revoke an API token by id (see tokens list); audited")
    t.add_argument("id", type=int, help="the token's id")

    p = sub.add_parser("audit", help="the audit log")
    asub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    asub.add_parser(
        "verify", help="check the audit log's hash chain; exit 1 and name the first broken row if it fails"
    )

    p = sub.add_parser("report", help="write the analysis report of a center and its subtree for a period")
    p.add_argument("--center", required=True, help="12-digit code of the center")
    p.add_argument("--period", required=True, help="2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05")
    p.add_argument("--format", choices=["md", "csv", "pdf"], default="md", help="output format")
    p.add_argument("--output", "-o", help="file ('-': stdout); default report-CODE-PERIOD.FMT")
    p.add_argument(
        "--people",
        choices=["none", "masked", "full"],
        default="none",
        help="also list parties to repeated cases, ID and phone numbers masked or in full (full is audited)",
    )

    p = sub.add_parser("worker", help="run a Celery worker (rule evaluation, deliveries)")
    p.add_argument("--concurrency", type=int, default=2, help="worker processes")

    p = sub.add_parser("beat", help="run Celery beat (republish, deadline tick, clean-up)")
    p.add_argument("--schedule", help="beat schedule file (default: <data dir>/celerybeat-schedule)")

    p = sub.add_parser("rules", help="rule authoring tools")
    rsub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    r = rsub.add_parser("lint", help="validate ruleset files; errors name rule, field and line")
    r.add_argument("files", nargs="+", help="ruleset YAML files")
    r = rsub.add_parser("simulate", help="show what a ruleset would fire on facts (one JSON per line)")
    r.add_argument("file", help="the ruleset YAML file")
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
    r.add_argument("name", help="the ruleset, e.g. core")
    r.add_argument("old", type=int, help="the version to compare from")
    r.add_argument("new", type=int, help="the version to compare to")
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
    pr.add_argument("key_id", help="the credential's key id (partners list)")
    pv = ptsub.add_parser("revoke", help="revoke a credential")
    pv.add_argument("key_id", help="the credential's key id (partners list)")
    ptsub.add_parser("list", help="list credentials")

    p = sub.add_parser("schema", help="the GraphQL schema")
    ssub = p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    e = ssub.add_parser("export", help="write the SDL (default: schema.graphql)")
    e.add_argument("--output", "-o", default="schema.graphql", help="file to write, or - for stdout")

    p = sub.add_parser("backup", help="write the database and the evidence store into one tar file")
    p.add_argument("output", help="archive to write (OUT.tar, or OUT.tar.gz to compress)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p = sub.add_parser("restore", help="load a backup into an empty database and evidence store")
    p.add_argument("input", help="archive written by zongzhi backup")
    p.add_argument(
        "--force", action="store_true", help="restore even though the database or store holds data"
    )
    p.add_argument(
        "--allow-other-key",
        action="store_true",
        help="restore although the PII key differs from the backup's (ID numbers stay unreadable)",
    )

    for each in _every_parser(parser):
        each.formatter_class = HelpFormatter
    return parser


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise UsageError(f"configuration: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = args.command + (f" {args.subcommand}" if getattr(args, "subcommand", None) else "")
    settings: Settings | None = None
    try:
        settings = _settings()
        logs.configure(settings.log_format, settings.log_level)
        security.configure(settings)
        result = _commands[name](args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except (Exception, KeyboardInterrupt) as exc:
        return cli_errors.report(name, exc, settings)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
