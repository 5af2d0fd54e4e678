"""Test helper: a throw-away S3 endpoint backed by ``moto_server``.

Any test package can use it::

    with moto_endpoint() as endpoint:   # "127.0.0.1:54321"
        settings = Settings(storage="s3", s3_endpoint=endpoint, ...)

It runs moto as a real HTTP server in a subprocess, so the ``minio`` SDK and presigned URLs are
exercised over the wire exactly as against MinIO; nothing is patched in-process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("moto_server")
    if found:
        return [found]
    return [sys.executable, "-m", "moto.server"]


@contextmanager
def moto_endpoint(*, iam_auth: bool = False, timeout: float = 20.0) -> Iterator[str]:
    """Start ``moto_server`` on a free loopback port and yield its ``host:port``.

    ``iam_auth=True`` makes moto check request signatures against its (empty) IAM user list, so any
    credentials are refused with ``InvalidAccessKeyId``: the way to test a wrong-credentials start-up.
    Moto cannot check presigned (query-string) signatures in that mode, so use it for nothing else.
    """
    port = free_port()
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL", None)
    if iam_auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    else:
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    proc = subprocess.Popen(
        [*_moto_command(), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"127.0.0.1:{port}"
    try:
        _wait_until_up(proc, endpoint, timeout)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen, endpoint: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with code {proc.returncode} before answering")
        try:
            httpx.get(f"http://{endpoint}/moto-api/", timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"moto_server did not answer on {endpoint} within {timeout:.0f} s")
