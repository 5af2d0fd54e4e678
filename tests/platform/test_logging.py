"""Request ids and structured logs: from the client's header into the response, the request's log
line and, through the broker, the worker's task log lines (a real ``zongzhi worker`` on Redis)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.platform.test_worker import Pipeline, publishing_to
from tests.platform.worker_support import WorkerProcess, claim_redis_db, release_redis_db, wait_until
from tests.world import World
from zongzhi.platform.base.observability import context, logs
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.schema.ids import to_global_id

CREATE = "mutation ReportLeak($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }"
PARTY_NAME = "张三丰"
REDIS_URL = os.environ.get("ZONGZHI_TEST_REDIS_URL", "")


def case_input(world: World) -> dict:
    return {
        "title": "楼上漏水",
        "category": "neighbor",
        "channel": "window",
        "centerId": to_global_id("Center", world.centers["ta"].id),
        "gridId": to_global_id("Grid", world.grids["a1g1"].id),
        "parties": [{"role": "APPLICANT", "person": {"name": PARTY_NAME, "idNumber": "11010519491231002X"}}],
    }


async def create(client: httpx.AsyncClient, world: World, request_id: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.tokens['a_staff']}"}
    if request_id is not None:
        headers[context.HEADER] = request_id
    response = await client.post(
        "/graphql", json={"query": CREATE, "variables": {"i": case_input(world)}}, headers=headers
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return response


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    formatter = logs.JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "zongzhi.request"]


async def test_request_id_is_echoed_and_on_the_request_log_line(
    rules: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="zongzhi.request")
    response = await create(client, rules, "req-4711.a:b")
    assert response.headers[context.HEADER] == "req-4711.a:b"
    [line] = [entry for entry in request_lines(caplog) if entry["request_id"] == "req-4711.a:b"]
    assert line["operation"] == "ReportLeak"
    assert line["outcome"] == "OK"
    assert line["user_id"] == rules.users["a_staff"].id
    assert line["status"] == 200 and line["path"] == "/graphql" and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "zongzhi.request"
    text = json.dumps(request_lines(caplog), ensure_ascii=False)
    assert PARTY_NAME not in text and "11010519491231002X" not in text, "no personal data in the log"


@pytest.mark.parametrize("sent", [None, "", "x" * 65, "bad id", "inj\tected", "路径".encode()])
async def test_unsafe_or_missing_request_ids_are_replaced(
    rules: World, client: httpx.AsyncClient, sent: str | bytes | None
) -> None:
    response = await client.get("/livez", headers={context.HEADER: sent} if sent is not None else {})
    made = response.headers[context.HEADER]
    assert made != sent and len(made) == 32 and made.isalnum()


async def test_text_format_carries_the_request_id(rules: World, client: httpx.AsyncClient, caplog) -> None:
    caplog.set_level(logging.INFO, logger="zongzhi.request")
    await client.get("/readyz", headers={context.HEADER: "text-line-1"})
    await create(client, rules, "text-line-2")
    formatter = logs.TextFormatter(logs.TEXT_FORMAT)
    [line] = [formatter.format(r) for r in caplog.records if "text-line-2" in formatter.format(r)]
    assert "request_id=text-line-2" in line and "operation=ReportLeak" in line and "outcome=OK" in line


def test_log_format_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="text or json"):
        logs.formatter("xml")


# --- into the worker -------------------------------------------------------------------------------


class JsonWorker(WorkerProcess):
    def env(self) -> dict[str, str]:
        return super().env() | {"ZONGZHI_LOG_FORMAT": "json"}


@pytest.fixture(scope="module")
def json_worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonWorker]:
    if settings.is_sqlite:
        pytest.skip("worker processes share PostgreSQL, not a SQLite file")
    if not REDIS_URL:
        pytest.skip("ZONGZHI_TEST_REDIS_URL is not set")
    broker = claim_redis_db(REDIS_URL)
    worker = JsonWorker(settings, broker, tmp_path_factory.mktemp("json-worker"))
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        release_redis_db(broker)


@pytest.fixture
async def json_pipeline(rules: World, settings: Settings, json_worker: JsonWorker) -> AsyncIterator[Pipeline]:
    async with publishing_to(rules, settings, json_worker) as p:
        yield p
        await p.settle()


def worker_lines(path: Path) -> list[dict]:
    entries = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if raw.startswith("{"):
            entries.append(json.loads(raw))
    return entries


@pytest.mark.postgres
@pytest.mark.redis
async def test_request_id_reaches_the_worker_task_log_lines(
    json_pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="zongzhi.request")
    p = json_pipeline
    response = await create(p.client, p.world, "trace-me-42")
    assert response.headers[context.HEADER] == "trace-me-42"
    assert any(entry["request_id"] == "trace-me-42" for entry in request_lines(caplog))

    def task_lines() -> list[dict]:
        return [e for e in worker_lines(p.worker.log_path) if e.get("request_id") == "trace-me-42"]

    async def evaluated() -> bool:
        return any(
            e.get("task") == "zongzhi.evaluate_event" and "evaluated" in e["message"] for e in task_lines()
        )

    await wait_until(evaluated, 20, "the worker's task log line with the request id")
    lines = task_lines()
    assert all(e["task_id"] and e["level"] for e in lines)
    assert any("succeeded" in e["message"] for e in lines), "Celery's own task line carries it too"
    # Celery's own log lines are JSON too, not its text format ("[2026-...: INFO/MainProcess] ...").
    text = p.worker.log()
    assert any(e["logger"].startswith("celery.worker") for e in worker_lines(p.worker.log_path))
    assert not [raw for raw in text.splitlines() if raw.startswith("[20")], text[-2000:]
    assert PARTY_NAME not in text
