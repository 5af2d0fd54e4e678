"""``zongzhi demo``: seed the demo county through the real pipeline, print its tokens, serve it."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import replace
from datetime import timedelta

import click

from zongzhi.platform.base.progress import Progress
from zongzhi.platform.wiring.cli.command import command
from zongzhi.platform.wiring.cli.context import Run
from zongzhi.platform.wiring.cli.serve import ensure_port_free, run_server


def public_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``host:port`` at (evidence links are built on it)."""
    if host in {"0.0.0.0", "", "::"}:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@command("demo", help="seed the demo county into the embedded database and serve it")
@click.option("--host", default="127.0.0.1", help="address to listen on")
@click.option("--port", type=int, default=8000, help="TCP port to serve on (evidence links point at it)")
@click.option("--cases", type=int, default=300, help="how many demo cases to create")
@click.option(
    "--bulk-after",
    type=int,
    default=300,
    metavar="N",
    help="cases past the first N (except every 20th, which gets a photo) are written in bulk: the same "
    "draws, timelines and rule decisions (computed by the rules engine), without a service call per step",
)
@click.option("--reset", is_flag=True, help="start from an empty database (SQLite only)")
@click.option("--no-serve", is_flag=True, help="seed and print tokens, then exit")
def demo(run: Run, host: str, port: int, cases: int, bulk_after: int, reset: bool, no_serve: bool) -> int:
    from zongzhi.platform.wiring import demo as demo_data

    if not no_serve:
        ensure_port_free(host, port)
    if not os.environ.get("ZONGZHI_PUBLIC_URL"):
        # Evidence links point at the port the demo serves on; the app uvicorn builds reads the env.
        os.environ["ZONGZHI_PUBLIC_URL"] = public_url(host, port)
        run = run.with_settings(replace(run.settings, public_url=os.environ["ZONGZHI_PUBLIC_URL"]))
    settings = run.settings

    async def prepare() -> demo_data.Directory:
        # The demo is seeded through the same pipeline as real use: rules run on every event.
        async with run.platform():
            if reset or not await demo_data.is_seeded():
                print(f"Seeding the demo county ({cases} cases)...", flush=True)
                with Progress.start("seeding cases", cases) as bar:
                    await demo_data.seed(
                        n_cases=cases, settings=settings, on_case=bar.advance, bulk_after=bulk_after
                    )
            return await demo_data.directory(ttl=timedelta(days=30))

    if reset and settings.is_sqlite:
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
    if no_serve:
        return 0
    run_server(settings, host, port, 1)
    return 0
