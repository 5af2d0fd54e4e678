"""Rule evaluation end to end in Celery workers on PostgreSQL: events/s and where the CPU went.

Creates a fresh PostgreSQL database seeded with the demo county, registers ``--events`` cases through
the intake service with no publisher (their ``case.received`` events wait in the outbox, not
evaluated), queues one ``evaluate_event`` message per event on a private redis-server, then starts
``zongzhi worker`` and times until every outbox row, the consequences the rules made included, is
processed. Prints events/s (the queued events, and every outbox row), decisions/s, and the CPU
spent by the worker processes, the PostgreSQL server's processes, Redis and this process. ``--batch 0`` is the
one-event-per-message path (``ZONGZHI_WORKER_BATCH=0``); ``--compare`` runs both on the same data
size, one after the other. Prints figures; asserts nothing.

    python bench/worker.py --postgres postgres://zongzhi@127.0.0.1:55432/postgres --events 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from bench.intake import _cpu_seconds, _db_url, _processes, _zongzhi
from bench.serving import free_port


def _parent(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


async def postmaster_pid(url: str) -> int:
    """The pid of the server's postmaster (the parent of a backend), when it runs on this machine.

    Only its processes are counted: other PostgreSQL servers on a shared machine are not ours."""
    conn = await asyncpg.connect(url)
    try:
        return _parent(await conn.fetchval("SELECT pg_backend_pid()"))
    finally:
        await conn.close()


def _exited_children_cpu(pid: int) -> float:
    """CPU seconds of the children ``pid`` has waited for (a backend that ended during the run)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def cpu_split(worker_pid: int, redis_pid: int, postmaster: int) -> dict[str, float]:
    procs = _processes()
    pool = procs.get(f"children:{worker_pid}", [])
    return {
        "worker main process (Celery's consumer)": _cpu_seconds(worker_pid),
        "worker pool processes (evaluation)": sum(_cpu_seconds(p) for p in pool),
        "PostgreSQL": sum(_cpu_seconds(p) for p in [postmaster, *procs.get(f"children:{postmaster}", [])])
        + _exited_children_cpu(postmaster),
        "Redis": _cpu_seconds(redis_pid),
        "bench process": _cpu_seconds(os.getpid()),
    }


def _env(url: str, data_dir: str, broker: str, batch: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONGZHI_")}
    return env | {
        "ZONGZHI_DATABASE_URL": url,
        "ZONGZHI_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "ZONGZHI_DATA_DIR": data_dir,
        "ZONGZHI_LOG_LEVEL": "WARNING",
        "ZONGZHI_EVENT_MODE": "celery",
        "ZONGZHI_BROKER_URL": broker,
        "ZONGZHI_WORKER_BATCH": str(batch),
    }


async def seed_events(env: dict[str, str], n: int) -> list[int]:
    """``n`` cases registered by the county dispatcher; their events stay pending in the outbox."""
    from zongzhi.platform.base import current
    from zongzhi.platform.base.codes import PartyRole
    from zongzhi.platform.base.settings import Settings
    from zongzhi.platform.domain.actor import actor_for_user
    from zongzhi.platform.models import Grid, Outbox, User
    from zongzhi.platform.services import cases as svc
    from zongzhi.platform.services.people import PersonInput
    from zongzhi.platform.wiring.platform import Platform

    platform = Platform.build(Settings.from_env(env))
    current.install(platform)
    try:
        with current.use(platform):
            await platform.start(migrate=False)
            platform.publishers = []  # written, not evaluated: the workers do that
            try:
                actor = await actor_for_user(await User.get(username="county_dispatcher"))
                grids = await Grid.all().order_by("id").values_list("id", flat=True)
                for i in range(n):
                    category = ["neighbor", "labor", "contract", "marriage_family"][i % 4]
                    data = svc.CaseInput(
                        title=f"压测案件{i}" + ("，丈夫殴打妻子" if i % 8 == 3 else ""),
                        category=category,
                        channel="window",
                        grid_id=grids[i % len(grids)],
                        complexity=["simple", "complex", "difficult"][i % 3],
                        parties=[
                            svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name=f"申请人{i}"))
                        ],
                    )
                    await svc.intake(data, actor)
                return list(
                    await Outbox.filter(processed_at=None).order_by("id").values_list("event_id", flat=True)
                )
            finally:
                await platform.stop()
    finally:
        platform.close_engine()
        current.uninstall(platform)


def start_redis(workdir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found")
    redis = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis as redis_client

    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            if redis_client.Redis.from_url(url, socket_connect_timeout=0.2).ping():
                return redis, url
        except redis_client.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer")


def queue_messages(broker: str, event_ids: list[int]) -> None:
    """What the API's publisher would have sent: one message per committed event."""
    from celery import Celery

    from zongzhi.platform.pipeline.queue import EVALUATE

    app = Celery("zongzhi-bench", broker=broker, set_as_current=False)
    with app.producer_or_acquire() as producer:
        for event_id in event_ids:
            app.send_task(EVALUATE, args=[event_id], queue="zongzhi", producer=producer)
    app.close()


def start_worker(env: dict[str, str], concurrency: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("ab")
    worker = subprocess.Popen(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "worker", "--concurrency", str(concurrency)],
        env=env | {"ZONGZHI_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log_text = log_path.read_bytes()
        if b" ready." in log_text and b"started its platform" in log_text:
            return worker
        if worker.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError(f"worker did not start:\n{log_path.read_text()[-3000:]}")


async def counts(url: str) -> tuple[int, int, int]:
    """(outbox rows, rows processed, decisions)."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM outbox) AS total,"
            " (SELECT count(*) FROM outbox WHERE processed_at IS NOT NULL) AS processed,"
            " (SELECT count(*) FROM decision) AS decisions"
        )
        return row["total"], row["processed"], row["decisions"]
    finally:
        await conn.close()


def run(args: argparse.Namespace, batch: int) -> None:
    name = f"zz_bench_{uuid.uuid4().hex[:8]}"
    admin = _db_url(args.postgres, "postgres").replace("postgres://", "postgresql://", 1)
    url = _db_url(args.postgres, name)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        await conn.execute(sql)
        await conn.close()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    workdir = tempfile.mkdtemp(prefix="zz-bench-worker-")
    redis, broker = start_redis(workdir)
    worker = None
    try:
        env = _env(url, workdir, broker, batch)
        _zongzhi("demo", "--no-serve", "--cases", "0", env=env | {"ZONGZHI_EVENT_MODE": "inline"})
        started = time.perf_counter()
        event_ids = asyncio.run(seed_events(env, args.events))
        print(f"  seeded {len(event_ids)} pending events in {time.perf_counter() - started:.1f} s")
        queue_messages(broker, event_ids)
        pg_url = url.replace("postgres://", "postgresql://", 1)
        log_path = Path(workdir) / "worker.log"
        worker = start_worker(env, args.concurrency, log_path)
        postmaster = asyncio.run(postmaster_pid(pg_url))
        ready = time.perf_counter()
        cpu_before = cpu_split(worker.pid, redis.pid, postmaster)
        total = processed = decisions = 0
        while time.perf_counter() - ready < args.timeout:
            total, processed, decisions = asyncio.run(counts(pg_url))
            if processed == total:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - ready
        cpu_after = cpu_split(worker.pid, redis.pid, postmaster)
        mode = f"batches of up to {batch}" if batch else "one event per message"
        print(
            f"  worker ({args.concurrency} process{'es' if args.concurrency > 1 else ''}, {mode}): "
            f"{len(event_ids)} queued events in {elapsed:.2f} s = {len(event_ids) / elapsed:.0f} events/s; "
            f"every outbox row ({processed} of {total}, consequences included) "
            f"{processed / elapsed:.0f} rows/s; {decisions} decisions = {decisions / elapsed:.0f} decisions/s"
        )
        if processed < total:
            print(f"  NOT DRAINED after {args.timeout} s")
        spent = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
        available = (os.cpu_count() or 1) * elapsed / processed * 1000 if processed else 0
        print(
            "  CPU per outbox row: "
            + ", ".join(f"{k} {v / max(processed, 1) * 1000:.2f} ms" for k, v in spent.items())
            + f" (the machine's cores gave {available:.2f} ms per row)"
        )
        lines = log_path.read_text().splitlines()
        redone = sum("batch redone with savepoints" in line for line in lines)
        print(f"  batches redone with savepoints after an event failed: {redone}")
        errors = [line for line in lines if "ERROR/" in line or "Traceback" in line]
        if errors:
            print(f"  worker log has {len(errors)} error lines, first: {errors[0][:300]}")
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, 9)
                worker.wait()
        redis.terminate()
        redis.wait(timeout=10)
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", required=True, help="a PostgreSQL server URL (a database is created in it)"
    )
    parser.add_argument("--events", type=int, default=2000, help="cases registered, one queued event each")
    parser.add_argument("--concurrency", type=int, default=1, help="worker pool processes")
    parser.add_argument(
        "--batch", type=int, default=100, help="ZONGZHI_WORKER_BATCH for the worker (0: one event)"
    )
    parser.add_argument("--compare", action="store_true", help="run with --batch 0 first, then with --batch")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the outbox to drain")
    args = parser.parse_args()
    for batch in [0, args.batch] if args.compare else [args.batch]:
        print(f"run with ZONGZHI_WORKER_BATCH={batch}:")
        run(args, batch)


if __name__ == "__main__":
    main()
