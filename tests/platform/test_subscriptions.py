"""The live dispatch board: graphql-transport-ws on /graphql, authenticated by connectionParams,
filtered by jurisdiction, fed in-process (embedded) or through Redis from a separate Celery worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
import websockets

from tests.casework import actor, new_case, take_to
from tests.platform.worker_support import claim_redis_db, release_redis_db
from tests.platforms import running
from tests.world import World
from zongzhi.platform.base.codes import CaseStatus, Risk
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Case
from zongzhi.platform.pipeline import broadcast
from zongzhi.platform.services import cases as svc
from zongzhi.platform.wiring.platform import Platform

REDIS_URL = os.environ.get("ZONGZHI_TEST_REDIS_URL", "")
BOARD = "subscription($kinds: [BoardEventKind!]) { dispatchBoard(kinds: $kinds) { kind type number status risk centerId } }"


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The real app under uvicorn on a free port, in this event loop (the ORM is already up)."""
    from zongzhi.platform.wiring.app import create_app

    platform = Platform.build(settings)
    app = create_app(platform=platform, manage_db=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    with running(platform):  # the test's own changes go out through the served app's platform
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
            if task.done():
                task.result()
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"ws://127.0.0.1:{port}/graphql"
        finally:
            server.should_exit = True
            await task


async def connect(url: str, token: str | None):
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def board(url: str, token: str, kinds: list[str] | None = None):
    ws = await connect(url, token)
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    query = {"query": BOARD, "variables": {"kinds": kinds}}
    hub = broadcast.hub()
    before = hub.listening
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))
    async with asyncio.timeout(30):  # until it receives what is published from now on
        while hub.listening <= before:
            await asyncio.sleep(0.01)
    return ws


async def next_event(ws, timeout: float = 10.0) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "next":
            assert not message["payload"].get("errors"), message
            return message["payload"]["data"]["dispatchBoard"]
        assert message["type"] in ("ping", "pong"), message


async def nothing_within(ws, seconds: float) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


@pytest.fixture
def embedded(settings: Settings) -> Settings:
    return replace(settings, redis_url="", event_mode="inline")


async def test_connection_needs_a_token(embedded: Settings, world: World) -> None:
    async with serving(embedded) as url:
        for token in (None, "not-a-token"):
            ws = await connect(url, token)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 4403


async def test_subscriber_sees_only_its_jurisdiction(embedded: Settings, world: World) -> None:
    async with serving(embedded) as url:
        county = await board(url, world.tokens["county_staff"])
        town_a = await board(url, world.tokens["a_staff"])
        town_b = await board(url, world.tokens["b_staff"])
        in_a = await new_case(world, grid="a1g1", filer="a1_grid", title="甲镇案件")
        seen = await next_event(town_a)
        assert (seen["kind"], seen["type"], seen["number"]) == ("NEW_CASE", "case.received", in_a.number)
        assert (await next_event(county))["number"] == in_a.number
        in_b = await new_case(world, grid="b1g1", filer="b1_grid", title="乙镇案件")
        # B's first event is its own case: it never got township A's
        assert (await next_event(town_b))["number"] == in_b.number
        assert (await next_event(county))["number"] == in_b.number
        assert await nothing_within(town_a, 0.5)
        for ws in (county, town_a, town_b):
            await ws.close()


async def test_a_case_routed_into_a_township_is_new_on_its_board(embedded: Settings, world: World) -> None:
    async with serving(embedded) as url:
        town_a = await board(url, world.tokens["a_staff"], ["NEW_CASE"])
        case = await new_case(world, filer="county_staff", channel="window", center_id=world.centers["county"].id)
        # Announced as received at the county, it is shown to the township it now belongs to.
        seen = await next_event(town_a)
        assert (seen["kind"], seen["type"], seen["number"]) == ("NEW_CASE", "case.received", case.number)
        assert (await Case.get(id=case.id)).center_id == world.centers["va1"].id
        assert await nothing_within(town_a, 0.5), "one new-case message, not one per step"
        await town_a.close()


async def test_kinds_status_risk_and_escalation(embedded: Settings, world: World) -> None:
    async with serving(embedded) as url:
        case = await new_case(world)
        watcher = await board(url, world.tokens["county_staff"], ["STATUS", "RISK", "ESCALATION"])
        await take_to(world, case, CaseStatus.assessed)
        seen = await next_event(watcher)
        assert (seen["kind"], seen["status"]) == ("STATUS", "assessed")
        await svc.flag_risk(await actor(world, "a_staff"), case.id, Risk.high, "扬言报复")
        seen = await next_event(watcher)
        assert (seen["kind"], seen["risk"]) == ("RISK", "high")
        await svc.escalate(await actor(world, "a1_staff"), case.id, "村里调不了")
        seen = await next_event(watcher)
        assert seen["kind"] == "ESCALATION"
        await watcher.close()


def _worker_env(settings: Settings, broker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ZONGZHI_DATA_DIR=str(settings.data_dir),
        ZONGZHI_DATABASE_URL=settings.database_url,
        ZONGZHI_SECRET_KEY=settings.secret_key,
        ZONGZHI_EVENT_MODE="celery",
        ZONGZHI_BROKER_URL=broker,
        ZONGZHI_REDIS_URL=REDIS_URL,
        ZONGZHI_LOG_LEVEL="INFO",
    )
    return env


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.skipif(not REDIS_URL, reason="needs ZONGZHI_TEST_REDIS_URL")
async def test_event_from_a_celery_worker_reaches_a_subscriber(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    """The worker process's deadline tick emits case.overdue; Redis carries it to this API process.

    On PostgreSQL only: Celery workers are the production set-up; SQLite is the embedded,
    single-process mode (and the session's SQLite file is not safe to share with a child process).
    """
    if settings.is_sqlite:
        pytest.skip("Celery workers run against PostgreSQL")
    from celery import Celery

    broker = claim_redis_db(REDIS_URL)  # a broker database of its own: no other run's worker takes our task
    api_settings = replace(settings, redis_url=REDIS_URL, event_mode="celery", broker_url=broker)
    case = await new_case(world, grid="a1g1", filer="a1_grid")
    await Case.filter(id=case.id).update(resolve_by=datetime.now(UTC) - timedelta(hours=1))
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "zongzhi"), "worker", "--concurrency", "1"],
        env=_worker_env(settings, broker),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with serving(api_settings) as url:
            assert isinstance(broadcast.hub(), broadcast.RedisHub)
            town_a = await board(url, world.tokens["a_staff"], ["OVERDUE"])
            town_b = await board(url, world.tokens["b_staff"], ["OVERDUE"])
            Celery(broker=broker).send_task("zongzhi.deadline_tick", queue="zongzhi")
            try:
                seen = await next_event(town_a, timeout=90)
            except TimeoutError:
                pytest.fail("no event from the worker; its log:\n" + (tmp_path / "worker.log").read_text())
            assert (seen["type"], seen["number"]) == ("case.overdue", case.number)
            assert await nothing_within(town_b, 1.0)
            await town_a.close()
            await town_b.close()
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        release_redis_db(broker)
