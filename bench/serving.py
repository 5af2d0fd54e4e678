"""``zongzhi serve`` as a subprocess for the benchmarks that drive the real HTTP surface."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], workers: int, probe: str = "/healthz") -> tuple[subprocess.Popen, str]:
    """Start ``zongzhi serve`` with ``env`` on a free port; return it and its base URL once ``probe``
    answers 200 (``/livez`` where no broker runs: readiness checks it in celery mode)."""
    port = free_port()
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}{probe}", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("zongzhi serve did not become healthy")
