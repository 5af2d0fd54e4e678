"""``zongzhi serve``, ``worker`` and ``beat``: the long-running processes."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import click

from zongzhi.platform.base.errors import UsageError
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.wiring.cli.command import command
from zongzhi.platform.wiring.cli.context import Run


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


def run_server(settings: Settings, host: str, port: int, workers: int, reload: bool = False) -> None:
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


@command("serve", help="run the API (GraphQL at /graphql)")
@click.option("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
@click.option("--port", type=int, default=8000, help="TCP port to listen on")
@click.option("--workers", type=int, default=1, help="uvicorn worker processes")
def serve(run: Run, host: str, port: int, workers: int) -> int:
    ensure_port_free(host, port)
    asyncio.run(run.migrate())
    run_server(run.settings, host, port, workers)
    return 0


@command("worker", help="run a Celery worker (rule evaluation, deliveries)")
@click.option("--concurrency", type=int, default=2, help="worker processes")
def worker(run: Run, concurrency: int) -> int:
    from zongzhi.platform.base.observability import multiproc

    multiproc.prepare_multiprocess_dir()  # before anything defines a metric
    from zongzhi.platform.wiring.worker import run_worker

    asyncio.run(run.migrate())
    run_worker(concurrency, run.settings.log_level.lower())
    return 0


@command("beat", help="run Celery beat (republish, deadline tick, clean-up)")
@click.option("--schedule", help="beat schedule file (default: <data dir>/celerybeat-schedule)")
def beat(run: Run, schedule: str | None) -> int:
    from zongzhi.platform.wiring.worker import run_beat

    settings = run.settings
    run_beat(settings.log_level.lower(), schedule or str(settings.data_dir / "celerybeat-schedule"))
    return 0
