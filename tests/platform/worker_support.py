"""Real processes for the distributed pipeline tests: a Celery worker, a private redis-server.

Both run as child processes in their own session (process group), so a test can SIGKILL a worker
together with its pool children, the way a crashed machine loses them. Their output goes to a file
that a failing test prints.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from celery import Celery

from zongzhi.platform.base.settings import Settings

QUEUE = "zongzhi"
CLAIM_KEY = "zongzhi-test:worker-claim"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def claim_redis_db(url: str, ttl_seconds: int = 900) -> str:
    """An empty database number on the Redis at ``url``, marked as ours so a parallel run skips it.

    Celery's queue is a fixed name (``zongzhi``); a database of our own keeps two test runs (or a
    developer's worker) on the same server from taking each other's messages.
    """
    for db in range(15, 0, -1):
        client = redis.Redis.from_url(with_db(url, db))
        try:
            if client.dbsize() == 0 and client.set(CLAIM_KEY, os.getpid(), nx=True, ex=ttl_seconds):
                return with_db(url, db)
        finally:
            client.close()
    raise RuntimeError(f"no free Redis database on {url}")


def release_redis_db(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def broker_backlog(url: str) -> tuple[int, int]:
    """(messages waiting in the queue, messages delivered but not acknowledged) on a Redis broker."""
    client = redis.Redis.from_url(url)
    try:
        return client.llen(QUEUE), client.hlen("unacked")
    finally:
        client.close()


class RedisServer:
    """A redis-server of the test's own on a fixed port, which it can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        assert self.binary, "redis-server not found"
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class WorkerProcess:
    """``zongzhi worker --concurrency 1`` against the test database and a broker."""

    def __init__(self, settings: Settings, broker_url: str, workdir: Path, name: str = "worker") -> None:
        self.settings = settings
        self.broker_url = broker_url
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        #: More environment for the next start (a test's own batch size, say).
        self.extra_env: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZONGZHI_")}
        env.update(
            ZONGZHI_DATABASE_URL=self.settings.database_url,
            ZONGZHI_SECRET_KEY=self.settings.secret_key,
            ZONGZHI_EVENT_MODE="celery",
            ZONGZHI_BROKER_URL=self.broker_url,
            ZONGZHI_DATA_DIR=str(self.workdir / "data"),
            ZONGZHI_STORAGE="local",
            ZONGZHI_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> None:
        """Start the worker and wait until it is ready and its pool process has started its platform
        (Celery's ``ready.`` comes once the pool process is forked: its platform, installing the
        rulesets, may still be starting, and would race the next test's truncation)."""
        assert self.process is None, "already running"
        self.starts += 1
        with self.log_path.open("a") as log:
            log.write(f"\n===== start {self.starts} =====\n")
        offset = self.log_path.stat().st_size
        log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zongzhi.platform.wiring.cli", "worker", "--concurrency", "1"],
            cwd=self.workdir,
            env=self.env(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log(offset)
            if " ready." in log and "started its platform" in log:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log(offset)}")
            time.sleep(0.05)
        raise RuntimeError(f"worker not ready after {timeout} s:\n{self.log(offset)}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: nothing gets to clean up."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM): the running task finishes, the rest stay queued."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def log(self, offset: int = 0) -> str:
        with self.log_path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def succeeded(self, task_id: str) -> bool:
        return re.search(rf"\[{re.escape(task_id)}\] succeeded", self.log()) is not None

    def result(self, task_id: str) -> str | None:
        """What the task returned, as the worker logged it (results are not stored)."""
        found = re.search(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (.*)", self.log())
        return found.group(1) if found else None

    def errors(self, offset: int = 0) -> list[str]:
        lines = self.log(offset).splitlines()
        return [line for line in lines if "ERROR/" in line or "CRITICAL/" in line or "Traceback" in line]

    def log_size(self) -> int:
        return self.log_path.stat().st_size


class TaskSender:
    """Sends tasks by name to the workers' queue, as a re-delivering broker or beat would."""

    def __init__(self, broker_url: str) -> None:
        self.app = Celery("zongzhi-test", broker=broker_url, set_as_current=False)

    def send(self, name: str, *args: object) -> str:
        return self.app.send_task(name, args=list(args), queue=QUEUE).id

    def close(self) -> None:
        self.app.close()


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.05
) -> float:
    """Poll ``condition`` until it holds; returns the seconds it took. Fails the test on timeout."""
    started = time.monotonic()
    while True:
        if await condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)
