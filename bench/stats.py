"""Statistics benchmark: a 1,000,000-case PostgreSQL data set, then the county statistics and the
hot-spot query timed, with their plans.

    .venv/bin/python bench/stats.py --url postgres://zongzhi@127.0.0.1:55432/postgres [--cases 1000000]
        [--counties 10] [--runs 7] [--keep]

Creates (or, with ``--keep``, reuses) the database ``zz_bench_stats`` on that server: one city with
``--counties`` counties of 10 townships × 10 villages × 2 grids each, and the cases spread over
2025–2026 with category weights, seasons, every status and consistent timestamps, plus the case
events the statistics read (received, accepted, resolved/failed, followed up, returned,
escalated). The data are generated inside PostgreSQL (``INSERT ... SELECT generate_series``).

Prints the median and the best of ``--runs`` timings of: the dimension counts (by status, channel,
category, kind, risk and center: the DESIGN.md §10 "county statistics" figure), the whole
``statistics()`` call (every figure, ~10 statements), and the hot-spot query (grids and
categories against the previous period); then EXPLAIN ANALYZE of the statements, so the use of the
indexes can be read. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics as pystats
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from tortoise import Tortoise

from zongzhi.platform.base import current
from zongzhi.platform.base.codes import CenterLevel
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Center, db
from zongzhi.platform.services.org import create_center, create_grid
from zongzhi.platform.stats import parse_period, scope_of_center
from zongzhi.platform.stats.figures import CONCLUDING, _events_where, dimension_query, statistics
from zongzhi.platform.stats.hotspots import counts_query, hot_spots
from zongzhi.platform.stats.sql import Sql, rows
from zongzhi.platform.wiring.platform import Platform

DB_NAME = "zz_bench_stats"

CASES_SQL = """
WITH v AS (
    SELECT c.id, c.path, row_number() OVER (ORDER BY c.id) - 1 AS i FROM center c WHERE c.level = 'village'
), nv AS (SELECT count(*) AS n FROM v),
base AS (
    SELECT g,
           floor(random() * (SELECT n FROM nv))::int AS vi,
           random() AS r_status, random() AS r_cat, random() AS r_risk, random() AS r_out,
           random() AS r_sat, random() AS r_acc, random() AS r_con, random() AS r_cx, random() AS r_ch,
           timestamptz '2025-01-01 00:00+08' + (random() * 730) * interval '1 day' AS created
    FROM generate_series(1, $1::int) g
    OFFSET 0
), shaped AS (
    SELECT b.*, v.id AS center_id, v.path AS center_path,
        CASE WHEN b.r_status < 0.04 THEN 'received' WHEN b.r_status < 0.07 THEN 'assessed'
             WHEN b.r_status < 0.09 THEN 'rejected' WHEN b.r_status < 0.12 THEN 'dispatched'
             WHEN b.r_status < 0.20 THEN 'handling' WHEN b.r_status < 0.25 THEN 'resolved'
             WHEN b.r_status < 0.28 THEN 'failed' WHEN b.r_status < 0.45 THEN 'closed'
             WHEN b.r_status < 0.98 THEN 'followed_up' ELSE 'withdrawn' END AS status,
        (ARRAY['neighbor','neighbor','neighbor','marriage_family','marriage_family','labor','labor',
               'housing_homestead','property_management','property_management','contract','damages',
               'land_forest','traffic','consumer','business','environment','medical','land_acquisition',
               'safety_hazard','livelihood_service','public_opinion','other'])[1 + floor(b.r_cat * 23)::int]
            AS category,
        (ARRAY['window','window','grid','grid','grid','hotline','online','referral','court','police',
               'petition'])[1 + floor(b.r_ch * 11)::int] AS channel,
        (ARRAY['simple','simple','complex','difficult'])[1 + floor(b.r_cx * 4)::int] AS complexity
    FROM base b JOIN v ON v.i = b.vi
)
INSERT INTO "case" (number, title, description, category, kind, channel, severity, complexity, risk, status,
    center_id, center_path, grid_id, address, tags, created_at, updated_at, deadline_note, outcome,
    agreement, reject_reason, resolve_by, accepted_at, concluded_at, closed_at, satisfaction, executed)
SELECT 'B-' || s.g, '基准案件', '', s.category,
    CASE s.category WHEN 'safety_hazard' THEN 'hazard' WHEN 'livelihood_service' THEN 'service'
                    WHEN 'public_opinion' THEN 'opinion' ELSE 'dispute' END,
    s.channel, 1 + floor(s.r_cx * 4)::int, s.complexity,
    CASE WHEN s.r_risk < 0.70 THEN 'none' WHEN s.r_risk < 0.85 THEN 'low' WHEN s.r_risk < 0.95 THEN 'medium'
         ELSE 'high' END,
    s.status, s.center_id, s.center_path,
    (SELECT gr.id FROM grid gr WHERE gr.center_id = s.center_id ORDER BY gr.id
        LIMIT 1 OFFSET floor(s.r_out * 2)::int),
    '', '[]', s.created, s.created, '',
    CASE WHEN s.status IN ('resolved','closed','followed_up') AND (s.status = 'resolved' OR s.r_out < 0.85)
         THEN 'resolved' WHEN s.status IN ('failed','closed','followed_up') THEN 'failed' ELSE '' END,
    '', '',
    s.created + CASE s.complexity WHEN 'simple' THEN interval '1 day' WHEN 'complex' THEN interval '7 days'
                                  ELSE interval '30 days' END,
    CASE WHEN s.status IN ('handling','resolved','failed','closed','followed_up')
         THEN s.created + s.r_acc * interval '48 hours' END,
    CASE WHEN s.status IN ('resolved','failed','closed','followed_up')
         THEN s.created + s.r_acc * interval '48 hours' + s.r_con * interval '20 days'
         WHEN s.status IN ('rejected','withdrawn') THEN s.created + interval '1 day' END,
    CASE WHEN s.status IN ('closed','followed_up')
         THEN s.created + s.r_acc * interval '48 hours' + s.r_con * interval '20 days' + interval '1 day' END,
    CASE WHEN s.status = 'followed_up'
         THEN CASE WHEN s.r_sat < 0.6 THEN 5 WHEN s.r_sat < 0.85 THEN 4 WHEN s.r_sat < 0.95 THEN 3
                   WHEN s.r_sat < 0.98 THEN 2 ELSE 1 END END,
    CASE WHEN s.status = 'followed_up' THEN s.r_sat < 0.9 END
FROM shaped s
"""

EVENTS_SQL = [
    """INSERT INTO case_event (case_id, type, actor_label, payload, depth, at)
       SELECT id, 'case.received', 'bench', '{}', 0, created_at FROM "case" """,
    """INSERT INTO case_event (case_id, type, actor_label, payload, depth, at)
       SELECT id, 'case.accepted', 'bench', '{}', 0, accepted_at FROM "case" WHERE accepted_at IS NOT NULL""",
    """INSERT INTO case_event (case_id, type, actor_label, payload, depth, at)
       SELECT id, 'case.' || outcome, 'bench', '{}', 0, concluded_at FROM "case" WHERE outcome <> ''""",
    """INSERT INTO case_event (case_id, type, actor_label, payload, depth, at)
       SELECT id, 'case.followed_up', 'bench', '{}', 0, closed_at + interval '3 days' FROM "case"
       WHERE status = 'followed_up'""",
    """INSERT INTO case_event (case_id, type, actor_label, payload, depth, at)
       SELECT id, 'case.returned', 'bench', jsonb_build_object('department_id', 1 + id % 9), 0,
              created_at + interval '1 day' FROM "case" WHERE id % 50 = 0""",
    """INSERT INTO case_event (case_id, type, actor_label, payload, depth, at)
       SELECT id, 'case.escalated', 'bench', '{}', 0, created_at + interval '2 days' FROM "case"
       WHERE id % 33 = 0""",
]


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_with_db(url, "postgres").replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def prepare_database(server_url: str, keep: bool) -> tuple[str, bool]:
    """The URL of ``zz_bench_stats`` on ``server_url``, and whether it is new and empty.

    With ``keep`` an existing one is reused; without, it is dropped and created again.
    """
    fresh = True
    if keep:
        try:
            await _admin(server_url, f'CREATE DATABASE "{DB_NAME}"')
        except asyncpg.DuplicateDatabaseError:
            fresh = False
    else:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await _admin(server_url, f'CREATE DATABASE "{DB_NAME}"')
    return _with_db(server_url, DB_NAME), fresh


async def generate(n_cases: int, n_counties: int) -> None:
    conn = Tortoise.get_connection("default")
    t0 = time.perf_counter()
    city = await create_center("330100000000", "基准市社会治理中心", CenterLevel.city)
    for k in range(1, n_counties + 1):
        county = await create_center(f"3301{k:02d}000000", f"基准{k}县", CenterLevel.county, city)
        for t in range(1, 11):
            township = await create_center(
                f"3301{k:02d}{t:03d}000", f"{k}县{t}镇", CenterLevel.township, county
            )
            for v in range(1, 11):
                village = await create_center(
                    f"3301{k:02d}{t:03d}{v:03d}", f"{k}县{t}镇{v}村", CenterLevel.village, township
                )
                for g in range(1, 3):
                    await create_grid(f"{village.code}-G{g}", f"{village.name}{g}网格", village)
    await conn.execute_script(
        "INSERT INTO department (code, name, kind) "
        "SELECT 'd' || i, '部门' || i, 'x' FROM generate_series(1, 9) i"
    )
    print(
        f"org: {n_counties} counties, {await Center.all().count()} centers ({time.perf_counter() - t0:.1f} s)"
    )
    t0 = time.perf_counter()
    await conn.execute_query(CASES_SQL, [n_cases])
    print(f"cases: {n_cases:,} ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    for sql in EVENTS_SQL:
        await conn.execute_script(sql)
    await conn.execute_script("ANALYZE")
    events = (await conn.execute_query_dict("SELECT count(*) AS n FROM case_event"))[0]["n"]
    print(f"events: {events:,} ({time.perf_counter() - t0:.1f} s)")


async def timed(label: str, runs: int, fn) -> None:
    await fn()  # warm the cache and the plan
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{label:58} median {pystats.median(times):7.1f} ms   best {min(times):7.1f} ms")


async def explain(label: str, sql: Sql, text: str) -> None:
    conn = Tortoise.get_connection("default")
    plan = await conn.execute_query_dict(f"EXPLAIN (ANALYZE, BUFFERS) {text}", sql.params)
    print(f"\n--- {label}")
    for row in plan:
        print(row["QUERY PLAN"])


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="a PostgreSQL server URL (any database on it)")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="reuse zz_bench_stats if it is there")
    args = ap.parse_args()
    url, fresh = await prepare_database(args.url, args.keep)
    settings = Settings.from_env({}, data_dir=Path(tempfile.mkdtemp()), database_url=url, secret_key="b" * 40)
    current.install(Platform.build(settings))
    await db.init(settings)
    try:
        if fresh:
            await generate(args.cases, args.counties)
        conn = Tortoise.get_connection("default")
        total = (await conn.execute_query_dict('SELECT count(*) AS n FROM "case"'))[0]["n"]
        county = await Center.get(code="330101000000")
        scope = await scope_of_center(county)
        year = parse_period("2026")
        month = parse_period("2026-10")
        in_county = (
            await conn.execute_query_dict(
                'SELECT count(*) AS n FROM "case" WHERE center_path LIKE $1 '
                "AND created_at >= $2 AND created_at < $3",
                [county.path + "%", year.start_at, year.end_at],
            )
        )[0]["n"]
        print(
            f"\n{total:,} cases; county {county.code}: {len(scope.centers)} centers, "
            f"{in_county:,} cases in 2026\n"
        )
        await timed(
            "county, 2026: counts by status/channel/category/kind/risk/center",
            args.runs,
            lambda: rows(*dimension_query(scope, year)),
        )
        await timed("county, 2026: statistics() — every figure", args.runs, lambda: statistics(scope, year))
        await timed(
            "county, 2026-10: statistics() — every figure", args.runs, lambda: statistics(scope, month)
        )
        await timed(
            "county, 2026-10 vs 2026-09: hot spots (grids + categories)",
            args.runs,
            lambda: hot_spots(scope, month),
        )
        await timed(
            "county, 2026 vs 2025: hot spots (grids + categories)", args.runs, lambda: hot_spots(scope, year)
        )
        sql, text = dimension_query(scope, year)
        await explain("county statistics, 2026 (dimension counts)", sql, text)
        sql = Sql()
        text = f"SELECT e.type, count(*) {_events_where(sql, scope, year, CONCLUDING)} GROUP BY e.type"
        await explain("county conclusions, 2026 (resolution / on-time rates)", sql, text)
        sql, text = counts_query(scope, month, month.previous(), "c.grid_id")
        await explain("hot spots by grid, 2026-10 vs 2026-09", sql, text)
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
