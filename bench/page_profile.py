"""Where a list page's CPU goes: the issue-17 page profiled in-process, by area and by function.

    .venv/bin/python bench/page_profile.py --url postgres://zongzhi@127.0.0.1:55432/postgres \
        [--demo 3000] [--requests 400] [--scenario county|township] [--resolvers]

Uses the demo county of ``bench/case_list.py --demo N`` (the database ``zz_bench_demo``, seeded
when missing), builds the app in this process (``ZONGZHI_COMPILED_READS`` on, or off with
``--resolvers``), and POSTs ``BASELINE_PAGE`` (50 cases) ``--requests`` times through an ASGI
transport under ``cProfile``. Prints the CPU by area (the database driver, tortoise, graphql-core,
Strawberry, Starlette, zongzhi's read path, authentication, the rest of zongzhi, JSON, asyncio, the
bench's own HTTP client) and the functions that took most time themselves. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.case_list import BASELINE_PAGE, SECRET_KEY, demo_data, people_of
from zongzhi.platform.base import current
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import db
from zongzhi.platform.wiring.platform import Platform

#: (area, a path fragment of the function's file), the first match wins.
AREAS = (
    ("database driver (asyncpg)", "/asyncpg/"),
    ("tortoise-orm", "/tortoise/"),
    ("pypika (query building)", "/pypika"),
    ("graphql-core", "/graphql/"),
    ("strawberry", "/strawberry/"),
    ("bench client (httpx)", "/httpx/"),
    ("bench client (httpx)", "/httpcore/"),
    ("starlette", "/starlette/"),
    ("zongzhi: compiled read path", "zongzhi/platform/readpath/"),
    ("zongzhi: authentication", "zongzhi/platform/services/accounts.py"),
    ("zongzhi: authentication", "zongzhi/platform/base/security.py"),
    ("zongzhi: authentication", "/jwt/"),
    ("zongzhi: personal data (decrypt, mask)", "zongzhi/platform/base/pii.py"),
    ("zongzhi: personal data (decrypt, mask)", "/cryptography/"),
    ("zongzhi: other", "zongzhi/"),
    ("json", "/json/"),
    ("asyncio", "/asyncio/"),
    ("logging", "/logging/"),
)


def area_of(filename: str) -> str:
    for name, fragment in AREAS:
        if fragment in filename:
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "other Python"


async def run(args: argparse.Namespace) -> None:
    url = await demo_data(args.url, True, args.demo)
    settings = Settings.from_env(
        {},
        data_dir=Path(tempfile.mkdtemp()),
        database_url=url,
        secret_key=SECRET_KEY,
        event_mode="celery",
        compiled_reads=not args.resolvers,
        log_level="WARNING",
    )
    current.install(Platform.build(settings))
    await db.init(settings)
    from zongzhi.platform.wiring.app import create_app

    people = await people_of({"county": "county_dispatcher", "township": "township1_staff"})
    token = people[args.scenario][0]
    app = create_app(settings, manage_db=False)
    body = {"query": BASELINE_PAGE, "variables": {"first": 50}}
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(20):  # warm: the document compiled, the pool filled
            r = await client.post("/graphql", json=body, headers=headers)
            assert r.status_code == 200 and "errors" not in r.json(), r.text
        profiler = cProfile.Profile(time.process_time)  # CPU, not the time spent waiting
        t0 = time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            await client.post("/graphql", json=body, headers=headers)
        profiler.disable()
        elapsed = time.perf_counter() - t0
    await db.close()
    stats = pstats.Stats(profiler)
    by_area: Counter[str] = Counter()
    own: list[tuple[float, str]] = []
    for (filename, line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area_of(filename)] += tottime
        own.append((tottime, f"{Path(filename).name}:{line} {name}"))
    total = sum(by_area.values())
    path = "resolvers" if args.resolvers else "compiled"
    print(
        f"{args.requests} requests of the 50-case page ({args.scenario}, {path} path) in {elapsed:.1f} s "
        f"under cProfile: {1000 * total / args.requests:.2f} ms of this process's CPU per request"
    )
    print(f"\n{'area':42} {'ms/request':>10} {'share':>7}")
    for name, seconds in by_area.most_common():
        print(f"  {name:40} {1000 * seconds / args.requests:10.3f} {100 * seconds / total:6.1f}%")
    print(f"\n{'functions by own time':70} {'ms/request':>10}")
    for seconds, label in sorted(own, reverse=True)[: args.top]:
        print(f"  {label[:68]:68} {1000 * seconds / args.requests:10.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="a PostgreSQL server URL (any database on it)")
    ap.add_argument("--demo", type=int, default=3000, help="cases of the demo county, when seeded here")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--scenario", choices=("county", "township"), default="county")
    ap.add_argument("--resolvers", action="store_true", help="profile the resolvers instead")
    ap.add_argument("--top", type=int, default=20, help="functions listed")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
