"""``/metrics``: the counters move with requests, evaluated events and refused documents; the
scrape-time outbox figures; the optional token; processes adding up in multi-process mode."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.platform.worker_support import free_port
from tests.world import World
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.schema.ids import to_global_id

CREATE = "mutation CreateForMetrics($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }"
ME = "query WhoAmI { me { username } }"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def post(client: httpx.AsyncClient, token: str, query: str, variables: dict | None = None) -> dict:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def case_input(world: World, title: str) -> dict:
    return {
        "title": title,
        "category": "neighbor",
        "channel": "window",
        "centerId": to_global_id("Center", world.centers["ta"].id),
        "gridId": to_global_id("Grid", world.grids["a1g1"].id),
    }


async def test_counters_move_with_requests_and_evaluated_events(
    rules: World, client: httpx.AsyncClient
) -> None:
    token = rules.tokens["a_staff"]
    before = await scrape(client)
    for _ in range(3):
        assert "errors" not in await post(client, token, ME)
    body = await post(client, token, CREATE, {"i": case_input(rules, "楼上漏水")})
    assert "errors" not in body, body
    deep = "query Deep { me { center { " + "parent { " * 12 + "name" + " }" * 12 + " } } }"
    refused = await post(client, token, deep)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION"
    costly = "query Costly { " + " ".join(f'r{i}: report(period: "2026-10") {{ pdfBase64 }}' for i in range(5)) + " }"
    refused = await post(client, token, costly)
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    await client.post("/graphql", json={"query": ME})  # no token
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("zongzhi_graphql_requests_total", operation="WhoAmI", outcome="OK") == 3
    assert moved("zongzhi_graphql_requests_total", operation="CreateForMetrics", outcome="OK") == 1
    assert moved("zongzhi_graphql_requests_total", operation="Deep", outcome="GRAPHQL_VALIDATION") == 1
    assert moved("zongzhi_graphql_requests_total", operation="anonymous", outcome="UNAUTHENTICATED") == 1
    assert moved("zongzhi_graphql_request_duration_seconds_count", operation="WhoAmI") == 3
    assert moved("zongzhi_documents_refused_total", limit="depth") == 1
    assert moved("zongzhi_documents_refused_total", limit="cost") == 1
    # The case's received event and its consequences went through the rules in-process.
    assert moved("zongzhi_events_evaluated_total") >= 1
    assert moved("zongzhi_rule_evaluation_seconds_count") >= 1
    assert moved("zongzhi_decisions_total", outcome="ok") >= 2  # routed and deadline set
    assert value(after, "zongzhi_outbox_waiting") == 0
    assert value(after, "zongzhi_scrape_db_ok") == 1
    # Probes and scrapes are not GraphQL requests.
    assert not any(
        name == "zongzhi_graphql_requests_total" and ("operation", "metrics") in labels
        for name, labels in after
    )


async def test_outbox_backlog_is_read_at_scrape_time(world: World, client: httpx.AsyncClient) -> None:
    """Without a publisher (a broker that is down), committed events wait in the outbox."""
    before = await scrape(client)
    assert value(before, "zongzhi_outbox_waiting") == 0
    assert value(before, "zongzhi_outbox_oldest_age_seconds") == 0
    await post(client, world.tokens["a_staff"], CREATE, {"i": case_input(world, "无人处理")})
    after = await scrape(client)
    assert value(after, "zongzhi_outbox_waiting") >= 1
    assert value(after, "zongzhi_outbox_oldest_age_seconds") >= 0
    assert ("zongzhi_deliveries_pending", ()) in after


async def test_metrics_token(settings: Settings, world: World) -> None:
    from zongzhi.platform.wiring.app import create_app

    app = create_app(replace(settings, metrics_token="scrape-me"), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer scrape-me"})).status_code == 200


def test_uvicorn_workers_add_up_in_multiprocess_mode(tmp_path) -> None:
    """``zongzhi serve --workers 2`` with PROMETHEUS_MULTIPROC_DIR: any worker's scrape counts all requests."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from an earlier run")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZONGZHI_", "PROMETHEUS_"))}
    env.update(
        ZONGZHI_DATA_DIR=str(tmp_path / "data"),
        ZONGZHI_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "zongzhi.platform.wiring.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        for _ in range(12):  # a new connection each time: the kernel spreads them over the workers
            response = httpx.post(f"{base}/graphql", json={"query": ME}, headers={"Connection": "close"})
            assert response.status_code == 401
        scrapes = [samples(httpx.get(f"{base}/metrics").text) for _ in range(4)]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    for found in scrapes:
        assert (
            value(found, "zongzhi_graphql_requests_total", operation="anonymous", outcome="UNAUTHENTICATED")
            == 12
        )
    writers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("*.db")}
    assert "999999" not in writers, "an earlier run's files are removed at start"
    assert len(writers) >= 2, f"two uvicorn workers wrote samples: {writers}"
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(e["logger"] == "zongzhi.request" and e.get("outcome") == "UNAUTHENTICATED" for e in lines)
    assert not [line for line in log_path.read_text().splitlines() if line.startswith("INFO:")], (
        "uvicorn logs JSON"
    )


async def test_deadline_tick_counts_its_runs_and_the_overdue_events(
    world: World, client: httpx.AsyncClient
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.casework import actor, new_case
    from zongzhi.platform.services import cases as svc
    from zongzhi.platform.services.deadlines import tick

    case = await new_case(world)
    start = datetime.now(UTC)
    await svc.set_deadline(await actor(world, "a_staff"), case.id, resolve_by=start + timedelta(hours=10))
    before = await scrape(client)
    await tick(start + timedelta(hours=11))
    await tick(start + timedelta(hours=12))  # once per deadline: nothing new
    after = await scrape(client)
    assert value(after, "zongzhi_deadline_ticks_total") - value(before, "zongzhi_deadline_ticks_total") == 2
    name = "zongzhi_deadline_events_total"
    assert value(after, name, kind="overdue") - value(before, name, kind="overdue") == 1


async def test_stored_evidence_is_counted_with_its_bytes(world: World, client: httpx.AsyncClient) -> None:
    from tests.casework import actor, new_case
    from tests.storage.storage_samples import png
    from zongzhi.platform.services.evidence import EvidenceService

    case = await new_case(world)
    service = EvidenceService(client.app.state.store, client.app.state.settings)
    data = png()
    before = await scrape(client)
    await service.add_evidence_bytes(await actor(world, "a_staff"), case.id, "现场.png", "image/png", data)
    after = await scrape(client)
    assert (
        value(after, "zongzhi_evidence_uploads_total") - value(before, "zongzhi_evidence_uploads_total") == 1
    )
    assert value(after, "zongzhi_evidence_bytes_total") - value(
        before, "zongzhi_evidence_bytes_total"
    ) == len(data)


async def test_open_subscriptions_are_counted(settings: Settings, world: World) -> None:
    from tests.platform.test_subscriptions import board, serving

    embedded = replace(settings, redis_url="", event_mode="inline")
    async with serving(embedded) as url:
        http = url.replace("ws://", "http://").removesuffix("/graphql")
        async with httpx.AsyncClient(base_url=http) as c:
            before = value(await scrape(c), "zongzhi_subscriptions_open")
            ws = await board(url, world.tokens["a_staff"])
            assert value(await scrape(c), "zongzhi_subscriptions_open") == before + 1
            await ws.close()
            for _ in range(100):  # the server notices the closed socket
                if value(await scrape(c), "zongzhi_subscriptions_open") == before:
                    break
                await asyncio.sleep(0.05)
            assert value(await scrape(c), "zongzhi_subscriptions_open") == before
