"""OpenTelemetry spans (the SDK's in-memory exporter): request, GraphQL operation, evaluation, rule
matching, and the trace context written into and read back from Celery task headers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from tests.world import World
from zongzhi.platform.base.observability import celery_hooks, context, tracing
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.wiring.platform import Platform

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

CREATE = "mutation TracedIntake($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }"
CLIENT_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def exporter(platform: Platform) -> Iterator[InMemorySpanExporter]:
    """The test's platform traces, into memory."""
    memory = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    platform.tracer = tracing.tracer_for(replace(platform.settings, tracing=True), provider=provider)
    yield memory
    tracing.tracer_for(platform.settings)  # PostgreSQL statements untraced again


async def test_spans_of_a_request_down_to_rule_matching(
    platform: Platform, rules: World, exporter: InMemorySpanExporter
) -> None:
    from zongzhi.platform.wiring.app import create_app

    app = create_app(platform=platform, manage_db=False)
    variables = {
        "title": "楼上漏水",
        "category": "neighbor",
        "channel": "window",
        "centerId": to_global_id("Center", rules.centers["ta"].id),
        "gridId": to_global_id("Grid", rules.grids["a1g1"].id),
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        response = await c.post(
            "/graphql",
            json={"query": CREATE, "variables": {"i": variables}},
            headers={"Authorization": f"Bearer {rules.tokens['a_staff']}", "traceparent": CLIENT_TRACE},
        )
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert {"POST /graphql", "graphql TracedIntake", "evaluate_event", "rules.match"} <= set(spans), spans
    request = spans["POST /graphql"]
    assert format(request.context.trace_id, "032x") == CLIENT_TRACE.split("-")[1], "joins the client's trace"
    assert spans["graphql TracedIntake"].parent.span_id == request.context.span_id
    assert spans["evaluate_event"].context.trace_id == request.context.trace_id
    assert request.attributes["http.status_code"] == 200
    assert request.attributes["zongzhi.outcome"] == "OK"
    if not platform.settings.is_sqlite:  # asyncpg's instrumentation (the test extra has it): one span per statement
        sql = [s for s in exporter.get_finished_spans() if s.attributes.get("db.system") == "postgresql"]
        assert sql and all(s.context.trace_id == request.context.trace_id for s in sql)
        assert any("INSERT" in (s.attributes.get("db.statement") or "") for s in sql)


class _Request(dict):
    def get(self, key, default=None):  # Celery's task request: message headers readable by name
        return super().get(key, default)


class _Task:
    name = "zongzhi.evaluate_event"

    def __init__(self, headers: dict) -> None:
        self.request = _Request(headers)


def test_trace_and_request_id_travel_in_task_headers(platform: Platform, exporter: InMemorySpanExporter) -> None:
    headers: dict = {}
    with context.bound(context.RequestInfo(request_id="req-77")), tracing.span("publisher") as sending:
        celery_hooks._on_publish(headers=headers)
    assert headers[celery_hooks.REQUEST_ID_HEADER] == "req-77"
    assert "traceparent" in headers
    hooks = celery_hooks.CeleryHooks(platform.settings)
    hooks.on_prerun(task_id="t-1", task=_Task(headers))
    assert context.request_id() == "req-77"
    hooks.on_postrun(task_id="t-1")
    assert context.current() is None
    task_span = next(s for s in exporter.get_finished_spans() if s.name == "celery zongzhi.evaluate_event")
    assert task_span.context.trace_id == sending.get_span_context().trace_id
    assert task_span.parent.span_id == sending.get_span_context().span_id
