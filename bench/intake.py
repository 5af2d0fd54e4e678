"""Case intake through GraphQL into PostgreSQL with the rules evaluated, and case-list latency.

Starts ``zongzhi serve`` (uvicorn workers, embedded event mode: every event is evaluated in the API
process right after its commit) against a fresh PostgreSQL database seeded with the demo county,
then drives ``createCase`` from concurrent clients on loopback and prints cases/s and latencies,
and the p50/p95 of a 50-case list page, and where the CPU went during the intake run (the API
processes, PostgreSQL's processes on this machine, this client). Prints figures; asserts nothing.

    python bench/intake.py --postgres postgres://zongzhi@127.0.0.1:55432/postgres --cases 3000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx

from bench.light_http import Connection
from bench.serving import start_server

CREATE = """mutation($i: CreateCaseInput!) { createCase(input: $i) { created case { id } } }"""
PAGE = """{ cases(first: 50) { totalCount edges { node { number status center { name } grid { name }
  parties { role person { name idNumber } } lastEvent { type at } } } } }"""


def _db_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> dict[str, list[int]]:
    """This machine's PostgreSQL processes and every process by parent pid."""
    postgres, children = [], {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        children.setdefault(ppid, []).append(int(entry.name))
        if cmdline.startswith(b"postgres") or b"/postgres\0" in cmdline:
            postgres.append(int(entry.name))
    return {"postgres": postgres, **{f"children:{k}": v for k, v in children.items()}}


def _postmaster(admin_url: str) -> int | None:
    """The local pid of the PostgreSQL server behind ``admin_url`` (the parent of our backend), so
    that only its processes count, not every PostgreSQL on a machine shared with other benchmarks."""

    async def backend() -> int:
        conn = await asyncpg.connect(admin_url)
        try:
            return await conn.fetchval("SELECT pg_backend_pid()")
        finally:
            await conn.close()

    try:
        status = Path(f"/proc/{asyncio.run(backend())}/status").read_text()
    except OSError:
        return None  # a server on another machine: every local PostgreSQL process counts
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


def cpu_split(server_pid: int, postmaster: int | None = None) -> dict[str, float]:
    procs = _processes()
    api = [server_pid, *procs.get(f"children:{server_pid}", [])]
    postgres = procs["postgres"]
    if postmaster is not None:
        postgres = [postmaster, *procs.get(f"children:{postmaster}", [])]
    return {
        "API processes": sum(_cpu_seconds(p) for p in api),
        "PostgreSQL": sum(_cpu_seconds(p) for p in postgres),
        "bench client": _cpu_seconds(os.getpid()),
    }


def _env(url: str, data_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "ZONGZHI_DATABASE_URL": url,
        "ZONGZHI_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "ZONGZHI_DATA_DIR": data_dir,
        "ZONGZHI_LOG_LEVEL": "WARNING",
        "ZONGZHI_EVENT_MODE": "inline",
    }


def _zongzhi(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


async def _grid_ids(client: httpx.AsyncClient, token: str) -> list[str]:
    r = await client.post(
        "/graphql", json={"query": "{ grids { id } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    return [g["id"] for g in r.json()["data"]["grids"]]


async def drive(base: str, token: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    """``createCase`` ``n`` times from ``concurrency`` clients, each on its own keep-alive connection
    (``light_http``: httpx's own CPU per request was a quarter of what the server may spend)."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        grids = await _grid_ids(client, token)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        connection = Connection(base, {"Authorization": f"Bearer {token}"})
        try:
            while not queue.empty():
                i = queue.get_nowait()
                body = {
                    "query": CREATE,
                    "variables": {
                        "i": {
                            "title": f"压测案件{i}",
                            "category": ["neighbor", "labor", "contract", "marriage_family"][i % 4],
                            "gridId": grids[i % len(grids)],
                            "clientRequestId": f"bench-{i}",
                            "complexity": ["simple", "complex", "difficult"][i % 3],
                            "parties": [{"role": "APPLICANT", "person": {"name": f"申请人{i}"}}],
                        }
                    },
                }
                started = time.perf_counter()
                status, answer = await connection.post_json("/graphql", body)
                latencies.append(time.perf_counter() - started)
                if status != 200 or b'"errors"' in answer:
                    raise RuntimeError(answer[:300].decode(errors="replace"))
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def page_latency(base: str, token: str, rounds: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(rounds):
            started = time.perf_counter()
            r = await client.post(
                "/graphql", json={"query": PAGE}, headers={"Authorization": f"Bearer {token}"}
            )
            out.append(time.perf_counter() - started)
            r.raise_for_status()
    return out


def _pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", required=True, help="a PostgreSQL server URL (a database is created in it)"
    )
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()

    name = f"zz_bench_{uuid.uuid4().hex[:8]}"
    admin = _db_url(args.postgres, "postgres").replace("postgres://", "postgresql://", 1)

    async def create_db() -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create_db())
    data_dir = tempfile.mkdtemp()
    env = _env(_db_url(args.postgres, name), data_dir)
    _zongzhi("demo", "--no-serve", "--cases", "0", env=env)
    token = _zongzhi("tokens", "create", "county_dispatcher", env=env).strip()
    server, base = start_server(env, args.workers)
    try:
        asyncio.run(drive(base, token, 100, args.concurrency))  # warm-up
        postmaster = _postmaster(admin)
        cpu_before = cpu_split(server.pid, postmaster)
        elapsed, latencies = asyncio.run(drive(base, token, args.cases, args.concurrency))
        cpu_after = cpu_split(server.pid, postmaster)
        print(
            f"intake: {args.cases} cases in {elapsed:.1f} s = {args.cases / elapsed:.0f} cases/s "
            f"({args.workers} uvicorn workers, {args.concurrency} concurrent clients, rules evaluated inline)"
        )
        print(f"  createCase latency p50 {_pct(latencies, 0.5):.1f} ms, p95 {_pct(latencies, 0.95):.1f} ms")
        spent = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
        available = (os.cpu_count() or 1) * elapsed / args.cases * 1000
        print(
            "  CPU per case: "
            + ", ".join(f"{k} {v / args.cases * 1000:.1f} ms" for k, v in spent.items())
            + f" (the machine's cores gave {available:.1f} ms per case)"
        )
        pages = asyncio.run(page_latency(base, token, 50))
        print(
            f"case list page (50 cases, nested) on {args.cases + 100} cases: "
            f"p50 {_pct(pages, 0.5):.1f} ms, p95 {_pct(pages, 0.95):.1f} ms, "
            f"mean {statistics.mean(pages) * 1000:.1f} ms"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

        async def drop_db() -> None:
            conn = await asyncpg.connect(admin)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop_db())


if __name__ == "__main__":
    main()
