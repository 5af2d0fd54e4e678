"""Case-list benchmark: the 50-case list page (center, grid, parties, last event) on 1,000,000 cases,
through HTTP against ``zongzhi serve``, with the SQL it sends and the plans of the slowest statements.

    .venv/bin/python bench/case_list.py --url postgres://zongzhi@127.0.0.1:55432/postgres [--keep]
        [--cases 1000000] [--counties 10] [--people 300000] [--rounds 200] [--workers 1]
        [--concurrency 8]

Uses bench/stats.py's database ``zz_bench_stats`` (one city, ``--counties`` counties of 10 townships
× 10 villages × 2 grids, the cases and their events generated inside PostgreSQL). Without ``--keep``
it is dropped and generated again; with ``--keep`` an existing one is reused. Then adds what the
list page reads and the statistics do not (each step skipped when already done): ``--people``
residents with valid, encrypted ID numbers and phones (hashed for lookup, written with COPY), one
applicant and for half the cases a respondent per case, each case's ``last_event_id``, department
assignments on a quarter of the dispatched cases, and the accounts the page is read as: a county
dispatcher (staff at county 1), a township staff member (staff at county 1's first township) and
a city staff member (every case), each with a few assignments and filed cases elsewhere so every
branch of their jurisdiction filter matches rows. API tokens are created on every run.

Starts ``zongzhi serve --workers N`` on that database (events in ``celery`` mode so the embedded
deadline sweep does not run against the million cases) and POSTs the page query ``--rounds`` times
per scenario, one request at a time: the county dispatcher's first page; filtered by status
(common and rare ones); by category; a deep page (the 21st, reached by following ``endCursor``); the
township staff's first page, and filtered by a rare risk; and, beyond DESIGN.md's scenarios, the
city staff's first page (a total of 1,000,000).
Prints p50/p95/mean and the load average around each scenario.

Then the comparison issue 17 asks for: the same page (``BASELINE_PAGE``: number, status, center
and grid names, parties' role and name, last event type and time, cursors, ``hasNextPage``) from
``zongzhi serve`` with compiled reads on, with them off (``ZONGZHI_COMPILED_READS=false``), and from
``bench/single_statement.py`` (a bare Starlette endpoint running one hand-written SQL statement
that builds the page's JSON, asyncpg, on the same database), each with ``--concurrency`` clients
at once, in ``--compare-rounds`` interleaved rounds, for the county dispatcher and the township
staff: pages/s, p50 and p95 for each, and each zongzhi's ratio to the baseline.

``--demo N`` runs all of it on the demo county instead (``zongzhi demo --no-serve --cases N`` into
the database ``zz_bench_demo``; its ``county_dispatcher`` and ``township1_staff``), and skips the
statement counts and plans. Then ``--concurrency`` clients at
once take the county and township scenarios in turn (many dispatchers on one server: a request
holds a pooled connection per part of its jurisdiction and one for its count), and it prints
pages/s and the latencies under that load. Then runs each scenario once
in-process (the app on an ASGI transport, as the tests do) to count the SQL statements, and prints
EXPLAIN (ANALYZE, BUFFERS) of the slowest statements. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import random
import statistics as pystats
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
from tortoise import Tortoise

from bench.serving import start_server
from bench.stats import DB_NAME, generate, prepare_database
from tests.sql_log import sql_sent
from zongzhi.platform.base import current, pii, security
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Center, User, db
from zongzhi.platform.services.accounts import create_api_token, create_user
from zongzhi.platform.wiring.platform import Platform

SECRET_KEY = "b" * 40  # bench/stats.py's; the PII cipher derives from it, so the server must use it too
CITY = "330100000000"
COUNTY = "330101000000"
TOWNSHIP = "330101001000"
CITY_STAFF = "bench_city_staff"
DISPATCHER = "bench_county_dispatcher"
TOWNSHIP_STAFF = "bench_township_staff"

PAGE = """query($first: Int!, $after: String, $filter: CaseFilter, $orderBy: CaseOrder) {
  cases(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount edges { node { number status
    center { name } grid { name } parties { role person { name idNumber } } lastEvent { type at } } }
    pageInfo { hasNextPage endCursor } } }"""

#: The page of issue 17's comparison: what the single-statement baseline builds too.
BASELINE_PAGE = """query($first: Int!) { cases(first: $first) { edges { cursor node { number status
    center { name } grid { name } parties { role person { name } } lastEvent { type at } } }
    pageInfo { hasNextPage endCursor } } }"""
DEMO_DB = "zz_bench_demo"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌"


def _person_rows(n: int, grid_ids: list[int]) -> list[tuple]:
    """``n`` residents with distinct valid ID numbers; half of them with a mobile number."""
    c = security.cipher()
    rng = random.Random(7)
    now = datetime.now(UTC)
    regions = ["330101", "330102", "330103", "330104", "330105", "330106", "330108", "330109"]
    rows = []
    for i in range(n):
        born = date(1950, 1, 1) + timedelta(days=73 * (i // 1000) % 21000)
        first17 = f"{regions[i % len(regions)]}{born:%Y%m%d}{i % 1000:03d}"
        id_number = first17 + pii.id_check_char(first17)
        phone = f"13{(i * 7919 + 12345) % 10**9:09d}" if i % 2 == 0 else None
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        rows.append(
            (
                name,
                c.encrypt(id_number),
                c.lookup_hash(id_number),
                c.encrypt(phone) if phone else None,
                c.lookup_hash(phone) if phone else None,
                "",
                rng.choice(grid_ids),
                "[]",
                now,
            )
        )
    return rows


async def add_list_data(url: str, n_people: int) -> None:
    """What the list page reads beyond bench/stats.py's data; every step is skipped when done."""
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        changed = False
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM person)"):
            t0 = time.perf_counter()
            grid_ids = [r["id"] for r in await conn.fetch("SELECT id FROM grid")]
            rows = _person_rows(n_people, grid_ids)
            await conn.copy_records_to_table(
                "person",
                records=rows,
                columns=[
                    "name",
                    "id_number_enc",
                    "id_number_hash",
                    "phone_enc",
                    "phone_hash",
                    "address",
                    "grid_id",
                    "tags",
                    "created_at",
                ],
            )
            print(f"people: {n_people:,} ({time.perf_counter() - t0:.1f} s)")
            changed = True
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM case_party)"):
            t0 = time.perf_counter()
            lo, hi = await conn.fetchrow("SELECT min(id), max(id) FROM person")
            await conn.execute(
                """INSERT INTO case_party (case_id, person_id, role, blind)
                   SELECT id, $1::int + floor(random() * ($2::int - $1::int + 1))::int, 'applicant', false
                   FROM "case" """,
                lo,
                hi,
            )
            await conn.execute(
                """INSERT INTO case_party (case_id, person_id, role, blind)
                   SELECT id, $1::int + floor(random() * ($2::int - $1::int + 1))::int, 'respondent', false
                   FROM "case" WHERE random() < 0.5""",
                lo,
                hi,
            )
            n = await conn.fetchval("SELECT count(*) FROM case_party")
            print(f"parties: {n:,} ({time.perf_counter() - t0:.1f} s)")
            changed = True
        if not await conn.fetchval('SELECT EXISTS (SELECT 1 FROM "case" WHERE last_event_id IS NOT NULL)'):
            t0 = time.perf_counter()
            await conn.execute(
                """UPDATE "case" c SET last_event_id = e.id
                   FROM (SELECT DISTINCT ON (case_id) case_id, id FROM case_event
                         ORDER BY case_id, at DESC, id DESC) e
                   WHERE e.case_id = c.id"""
            )
            # The update wrote a second version of every case: rewrite the table to its size, or
            # every scan (and bench/stats.py's figures) would read twice the pages.
            await conn.execute('VACUUM (FULL) "case"')
            print(f"last events set, table rewritten ({time.perf_counter() - t0:.1f} s)")
            changed = True
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM assignment)"):
            t0 = time.perf_counter()
            await conn.execute(
                """INSERT INTO assignment (case_id, unit_kind, department_id, mode, lead, created_at,
                       accepted_at, return_reason)
                   SELECT id, 'department', (SELECT min(id) FROM department) + id % 9, 'transfer', true,
                          created_at + interval '1 day', accepted_at, ''
                   FROM "case"
                   WHERE status IN ('dispatched','handling','resolved','failed','closed','followed_up')
                     AND id % 4 = 0"""
            )
            n = await conn.fetchval("SELECT count(*) FROM assignment")
            print(f"assignments: {n:,} ({time.perf_counter() - t0:.1f} s)")
            changed = True
        if changed:
            t0 = time.perf_counter()
            await conn.execute("VACUUM (ANALYZE)")
            print(f"vacuum analyze ({time.perf_counter() - t0:.1f} s)")
    finally:
        await conn.close()


async def accounts() -> dict[str, str]:
    """The two accounts (created once) and a fresh API token for each."""
    conn = Tortoise.get_connection("default")
    tokens = {}
    for username, center_code in ((DISPATCHER, COUNTY), (TOWNSHIP_STAFF, TOWNSHIP), (CITY_STAFF, CITY)):
        user = await User.get_or_none(username=username)
        if user is None:
            center = await Center.get(code=center_code)
            user = await create_user(username, username, ["staff"], center=center)
            # Cases outside the user's subtree that reach it through the other branches of the
            # jurisdiction filter: assigned to the user, or filed by it.
            await conn.execute_query(
                """INSERT INTO assignment (case_id, unit_kind, user_id, mode, lead, created_at, return_reason)
                   SELECT id, 'user', $1, 'joint', false, created_at + interval '1 day', ''
                   FROM "case" WHERE id % 9973 = $2""",
                [user.id, user.id % 9973],
            )
            await conn.execute_query(
                """UPDATE "case" SET created_by_id = $1 WHERE id % 19997 = $2""", [user.id, user.id % 19997]
            )
        tokens[username] = await create_api_token(user, name="bench")
    await conn.execute_script("ANALYZE assignment")
    return tokens


def scenarios(dispatcher: str, township: str, city: str) -> list[tuple[str, str, dict]]:
    return [
        ("county dispatcher, first page", dispatcher, {}),
        ("county dispatcher, status handling", dispatcher, {"filter": {"status": ["HANDLING"]}}),
        (
            "county dispatcher, status received+assessed",
            dispatcher,
            {"filter": {"status": ["RECEIVED", "ASSESSED"]}},
        ),
        ("county dispatcher, category labor", dispatcher, {"filter": {"category": ["labor"]}}),
        ("county dispatcher, status withdrawn (2%)", dispatcher, {"filter": {"status": ["WITHDRAWN"]}}),
        ("county dispatcher, page 21 (after 20 cursors)", dispatcher, {"deep": 20}),
        ("township staff, first page", township, {}),
        ("township staff, risk high (5%)", township, {"filter": {"risk": ["HIGH"]}}),
        # Beyond DESIGN.md's scenarios: every case in one scope, so totalCount counts 1,000,000.
        ("city staff (all cases), first page", city, {}),
        # The other orders (issue 14): a 督办 board by deadline, the latest activity, the riskiest.
        (
            "county dispatcher, by resolve-by deadline",
            dispatcher,
            {"orderBy": {"field": "RESOLVE_BY", "direction": "ASC"}},
        ),
        ("township staff, by last activity", township, {"orderBy": {"field": "LAST_ACTIVITY"}}),
        ("township staff, by severity, page 6", township, {"orderBy": {"field": "SEVERITY"}, "deep": 5}),
        ("township staff, by risk", township, {"orderBy": {"field": "RISK"}}),
        (
            "county dispatcher, deadline window + tag",
            dispatcher,
            {"filter": {"tag": "重点", "resolveByFrom": "2026-01-01T00:00:00+00:00"}},
        ),
    ]


async def post(client: httpx.AsyncClient, token: str, variables: dict) -> dict:
    r = await client.post(
        "/graphql",
        json={"query": PAGE, "variables": {"first": 50, **variables}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(r.text[:500])
    return body["data"]["cases"]


async def variables_of(client: httpx.AsyncClient, token: str, spec: dict) -> dict:
    """The request's variables; a deep page follows ``endCursor`` ``deep`` times first."""
    variables = {k: v for k, v in spec.items() if k != "deep"}
    for _ in range(spec.get("deep", 0)):
        page = await post(client, token, variables)
        variables["after"] = page["pageInfo"]["endCursor"]
    return variables


def _pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))]


async def time_http(base: str, plan: list[tuple[str, str, dict]], rounds: int) -> None:
    print(
        f"\n{'scenario':48} {'p50':>7} {'p95':>7} {'mean':>7} {'max':>7}  total    load 1-min (before/after)"
    )
    # The client's own full collections (it imports the platform) would count in the figures.
    gc.collect()
    gc.freeze()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for label, token, spec in plan:
            variables = await variables_of(client, token, spec)
            for _ in range(10):  # warm the caches, the plans and the connection pool
                page = await post(client, token, variables)
            load_before = os.getloadavg()[0]
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                await post(client, token, variables)
                times.append((time.perf_counter() - t0) * 1000)
            load_after = os.getloadavg()[0]
            print(
                f"{label:48} {_pct(times, 0.5):7.1f} {_pct(times, 0.95):7.1f} {pystats.mean(times):7.1f} "
                f"{max(times):7.1f}  {page['totalCount']:>7,}  {load_before:.2f}/{load_after:.2f}"
            )


async def count_statements(
    settings: Settings, plan: list[tuple[str, str, dict]]
) -> list[tuple[str, str, list]]:
    from zongzhi.platform.wiring.app import create_app

    app = create_app(settings, manage_db=False)
    captured: list[tuple[str, str, list]] = []
    print(f"\n{'SQL statements per request (in-process, same database)':60} first: 10  first: 50")
    # Recorded, not printed: the statements go to the recorder alone while they are counted.
    logging.getLogger("tortoise.db_client").propagate = False
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for label, token, spec in plan:
            variables = await variables_of(client, token, spec)
            counts = []
            for first in (10, 50):
                with sql_sent() as sent:
                    await post(client, token, {**variables, "first": first})
                counts.append(len(sent))
            print(f"  {label:58} {counts[0]:9} {counts[1]:9}")
            captured += [(label, sql, values) for sql, values in sent]
    return captured


async def explain_slowest(captured: list[tuple[str, str, list]], top: int) -> None:
    conn = Tortoise.get_connection("default")
    timed = []
    seen = set()
    for label, sql, values in captured:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")) or (sql, str(values)) in seen:
            continue
        seen.add((sql, str(values)))
        plan = await conn.execute_query_dict(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", values)
        lines = [row["QUERY PLAN"] for row in plan]
        ms = next(float(line.split()[2]) for line in lines if line.startswith("Execution Time"))
        timed.append((ms, label, sql, values, lines))
    timed.sort(key=lambda t: -t[0])
    print(f"\nSELECTs by execution time (EXPLAIN ANALYZE, {len(timed)} distinct):")
    for ms, label, sql, _, _ in timed[:12]:
        print(f"  {ms:8.2f} ms  [{label}] {' '.join(sql.split())[:150]}")
    for ms, label, sql, values, lines in timed[:top]:
        print(f"\n--- {ms:.2f} ms [{label}]\n{sql}\n  params: {values}")
        for line in lines:
            print(line)


def start_bench_server(url: str, workers: int, compiled: bool = True) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "ZONGZHI_COMPILED_READS": "true" if compiled else "false",
        "ZONGZHI_DATABASE_URL": url,
        "ZONGZHI_SECRET_KEY": SECRET_KEY,
        "ZONGZHI_DATA_DIR": tempfile.mkdtemp(),
        "ZONGZHI_LOG_LEVEL": "WARNING",
        # No embedded beat: its deadline sweep would act on the generated cases.
        "ZONGZHI_EVENT_MODE": "celery",
    }
    # Liveness: in celery mode readiness also checks a broker, which the benchmark does not start.
    return start_server(env, workers, probe="/livez")


async def time_concurrent(base: str, plan: list[tuple[str, str, dict]], total: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        prepared = [(token, await variables_of(client, token, spec)) for _, token, spec in plan]
        times: list[float] = []

        async def user(first: int) -> None:
            for i in range(first, total, concurrency):
                token, variables = prepared[i % len(prepared)]
                t0 = time.perf_counter()
                await post(client, token, variables)
                times.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(user(k) for k in range(concurrency)))  # warm-up
        times.clear()
        started = time.perf_counter()
        await asyncio.gather(*(user(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(
        f"\n{concurrency} clients at once, {total} requests over the first {len(plan)} scenarios: "
        f"{total / elapsed:.0f} pages/s, p50 {_pct(times, 0.5):.1f} ms, p95 {_pct(times, 0.95):.1f} ms, "
        f"max {max(times):.1f} ms"
    )


def start_baseline(url: str) -> tuple[subprocess.Popen, str]:
    from bench.serving import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("single_statement.py")),
            "--url",
            url,
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the baseline server did not start")


async def _load(call, total: int, concurrency: int) -> tuple[float, list[float]]:
    """``total`` calls by ``concurrency`` clients at once: (seconds, latencies in ms)."""
    times: list[float] = []
    counter = iter(range(total))

    async def client() -> None:
        for _ in counter:
            t0 = time.perf_counter()
            await call()
            times.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, times


async def compare_with_baseline(
    url: str, people: dict[str, tuple[str, str, int]], requests: int, rounds: int, concurrency: int
) -> None:
    """zongzhi (compiled reads on and off) beside the single-statement endpoint, interleaved."""
    servers: dict[str, str] = {}
    started: list[subprocess.Popen] = []
    limits = httpx.Limits(max_connections=concurrency)
    try:  # every server started is stopped, also when a later one fails to start
        for name, start in (
            ("single statement", lambda: start_baseline(url)),
            ("zongzhi, compiled", lambda: start_bench_server(url, 1, compiled=True)),
            ("zongzhi, resolvers", lambda: start_bench_server(url, 1, compiled=False)),
        ):
            process, base = start()
            started.append(process)
            servers[name] = base
        baseline_base = servers["single statement"]
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:

            def caller(name: str, token: str, center_path: str, user_id: int):
                if name == "single statement":
                    body = {"center_path": center_path, "user_id": user_id, "first": 50}

                    async def call() -> dict:
                        r = await client.post(f"{baseline_base}/page", json=body)
                        return r.json()["data"]["cases"]

                    return call
                base = servers[name]

                async def call() -> dict:
                    r = await client.post(
                        f"{base}/graphql",
                        json={"query": BASELINE_PAGE, "variables": {"first": 50}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    body = r.json()
                    if r.status_code != 200 or body.get("errors"):
                        raise RuntimeError(r.text[:300])
                    return body["data"]["cases"]

                return call

            print(
                f"\nissue 17: the list page (first: 50), {concurrency} clients at once, {rounds} "
                f"interleaved rounds of {requests} requests per server and scenario"
            )
            for scenario, (token, center_path, user_id) in people.items():
                calls = {name: caller(name, token, center_path, user_id) for name in servers}
                pages = {name: await calls[name]() for name in servers}
                numbers = {name: [e["node"]["number"] for e in p["edges"]] for name, p in pages.items()}
                same = len({tuple(v) for v in numbers.values()}) == 1
                print(
                    f"  {scenario}: all three list the same {len(numbers['single statement'])} cases: {same}"
                )
                for name in servers:  # warm-up: plans, pools, caches
                    await _load(calls[name], concurrency * 5, concurrency)
                elapsed = {name: 0.0 for name in servers}
                latencies: dict[str, list[float]] = {name: [] for name in servers}
                for _ in range(rounds):
                    for name in servers:
                        seconds, times = await _load(calls[name], requests, concurrency)
                        elapsed[name] += seconds
                        latencies[name] += times
                raw = rounds * requests / elapsed["single statement"]
                print(f"  {'':22}{'pages/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7}")
                for name in servers:
                    rate = rounds * requests / elapsed[name]
                    times = latencies[name]
                    print(
                        f"  {name:22}{rate:9.1f} {_pct(times, 0.5):8.1f} {_pct(times, 0.95):8.1f} "
                        f"{rate / raw:7.3f}   [{scenario}]"
                    )
    finally:
        for server in started:
            server.terminate()
            server.wait(timeout=30)


async def demo_data(server_url: str, keep: bool, n_cases: int) -> str:
    """The URL of ``zz_bench_demo`` holding the demo county with ``n_cases`` cases."""
    from bench.stats import _admin, _with_db

    fresh = True
    if keep:
        try:
            await _admin(server_url, f'CREATE DATABASE "{DEMO_DB}"')
        except asyncpg.DuplicateDatabaseError:
            fresh = False
    else:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{DEMO_DB}" WITH (FORCE)')
        await _admin(server_url, f'CREATE DATABASE "{DEMO_DB}"')
    url = _with_db(server_url, DEMO_DB)
    if fresh:
        t0 = time.perf_counter()
        env = {
            **os.environ,
            "ZONGZHI_DATABASE_URL": url,
            "ZONGZHI_SECRET_KEY": SECRET_KEY,
            "ZONGZHI_DATA_DIR": tempfile.mkdtemp(),
            "ZONGZHI_LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "zongzhi.platform.wiring.cli", "demo", "--no-serve", "--cases",
             str(n_cases)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"demo county seeded: {n_cases:,} cases ({time.perf_counter() - t0:.0f} s)")
    return url


async def people_of(pairs: dict[str, str]) -> dict[str, tuple[str, str, int]]:
    """Per scenario: an API token for the account, its center's path and its id."""
    out = {}
    for scenario, username in pairs.items():
        user = await User.get(username=username).prefetch_related("center")
        out[scenario] = (await create_api_token(user, name="bench"), user.center.path, user.id)
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="a PostgreSQL server URL (any database on it)")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--people", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--concurrency", type=int, default=8, help="clients at once in the load phase (0: skip)")
    ap.add_argument("--explain", type=int, default=3, help="plans printed (the slowest statements)")
    ap.add_argument("--keep", action="store_true", help=f"reuse {DB_NAME} (or {DEMO_DB}) if it is there")
    ap.add_argument(
        "--demo", type=int, default=0, metavar="N", help=f"run on the demo county with N cases ({DEMO_DB})"
    )
    ap.add_argument(
        "--compare-requests", type=int, default=200, help="requests per round, server and scenario"
    )
    ap.add_argument(
        "--compare-rounds", type=int, default=3, help="interleaved rounds of the baseline comparison"
    )
    args = ap.parse_args()
    if args.demo:
        url = await demo_data(args.url, args.keep, args.demo)
        settings = Settings.from_env(
            {},
            data_dir=Path(tempfile.mkdtemp()),
            database_url=url,
            secret_key=SECRET_KEY,
            event_mode="celery",
        )
        current.install(Platform.build(settings))
        await db.init(settings)
        try:
            people = await people_of({"county": "county_dispatcher", "township": "township1_staff"})
            n = await Tortoise.get_connection("default").execute_query_dict(
                'SELECT count(*) AS n FROM "case"'
            )
            print(f"{n[0]['n']:,} cases; load average {os.getloadavg()}")
        finally:
            await db.close()
        await compare_with_baseline(url, people, args.compare_requests, args.compare_rounds, args.concurrency)
        return
    url, fresh = await prepare_database(args.url, args.keep)
    settings = Settings.from_env(
        {}, data_dir=Path(tempfile.mkdtemp()), database_url=url, secret_key=SECRET_KEY, event_mode="celery"
    )
    current.install(Platform.build(settings))
    await db.init(settings)
    try:
        if fresh:
            await generate(args.cases, args.counties)
        await add_list_data(url, args.people)
        tokens = await accounts()
        conn = Tortoise.get_connection("default")
        figures = (
            await conn.execute_query_dict(
                """SELECT (SELECT count(*) FROM "case") AS cases, (SELECT count(*) FROM person) AS people,
                          (SELECT count(*) FROM case_party) AS parties,
                          (SELECT count(*) FROM case_event) AS events,
                          (SELECT count(*) FROM assignment) AS assignments"""
            )
        )[0]
        print(", ".join(f"{v:,} {k}" for k, v in figures.items()))
        plan = scenarios(tokens[DISPATCHER], tokens[TOWNSHIP_STAFF], tokens[CITY_STAFF])
        print(f"load average before the server starts: {os.getloadavg()}")
        server, base = start_bench_server(url, args.workers)
        try:
            print(
                f"zongzhi serve --workers {args.workers}; {args.rounds} sequential requests per "
                "scenario, first: 50 (ms)"
            )
            await time_http(base, plan, args.rounds)
            if args.concurrency > 0:
                await time_concurrent(base, plan[:-1], args.rounds * 4, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=30)
        captured = await count_statements(settings, plan)
        await explain_slowest(captured, args.explain)
        if args.concurrency > 0:
            people = await people_of({"county": DISPATCHER, "township": TOWNSHIP_STAFF})
            await db.close()
            await compare_with_baseline(
                url, people, args.compare_requests, args.compare_rounds, args.concurrency
            )
            return
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
