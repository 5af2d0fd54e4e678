"""The distributed pipeline with real processes: the API in celery mode, Redis, ``zongzhi worker``.

``test_rules_pipeline.py`` is the in-process version. Here the rules run in a worker process, so
what is checked is what only processes can break: delivery through the broker, re-delivery, a
worker killed mid-evaluation, a broker that goes away, a ruleset activated while the worker runs,
the deadline tick as a Celery task. PostgreSQL only: processes cannot share a SQLite file safely.
Timings are printed (run with ``-s``), never asserted.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.gql import gql
from tests.platform.worker_support import (
    RedisServer,
    TaskSender,
    WorkerProcess,
    broker_backlog,
    claim_redis_db,
    release_redis_db,
    wait_until,
)
from tests.platforms import running
from tests.world import World
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Case, CaseEvent, Decision, Outbox, RulesetVersion
from zongzhi.platform.rules.evaluation import ACTIVE_TTL_SECONDS
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.services import outbox
from zongzhi.platform.wiring.platform import Platform

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS_URL = os.environ.get("ZONGZHI_TEST_REDIS_URL", "")
EVALUATE = "zongzhi.evaluate_event"
DEADLINES = "zongzhi.deadline_tick"
SWEEPS = "zongzhi.sweep_tick"

CREATE = "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }"
DECISIONS = "query($id: ID!) { decisions(caseId: $id) { ruleset version ruleId action outcome eventType } }"
SAVE = "mutation($n: String!, $s: String!) { saveRulesetDraft(name: $n, source: $s) { version } }"
ACTIVATE = "mutation($n: String!, $v: Int!) { activateRulesetVersion(name: $n, version: $v) { status } }"
CORE_DECISIONS = {("route-to-village-of-grid", 1, "case.received"), ("deadline-simple", 1, "case.received")}


@pytest.fixture(scope="module")
def pg(settings: Settings) -> Settings:
    if settings.is_sqlite:
        pytest.skip("worker processes share PostgreSQL, not a SQLite file")
    return settings


@pytest.fixture(scope="module")
def broker_url(pg: Settings) -> Iterator[str]:
    if not REDIS_URL:
        pytest.skip("ZONGZHI_TEST_REDIS_URL is not set")
    url = claim_redis_db(REDIS_URL)
    yield url
    release_redis_db(url)


@pytest.fixture(scope="module")
def worker(
    pg: Settings, broker_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    w = WorkerProcess(pg, broker_url, tmp_path_factory.mktemp("worker"))
    w.start()
    yield w
    w.stop()


@dataclass
class Pipeline:
    """The API in celery mode (in-process) and the worker it sends to."""

    world: World
    settings: Settings
    client: httpx.AsyncClient
    worker: WorkerProcess
    tasks: TaskSender

    async def create_case(self, title: str) -> int:
        """受理 over GraphQL at township A in grid A1-G1; the core rule routes it to village A1."""
        variables = {
            "title": title,
            "category": "neighbor",
            "channel": "window",
            "centerId": to_global_id("Center", self.world.centers["ta"].id),
            "gridId": to_global_id("Grid", self.world.grids["a1g1"].id),
        }
        data = await gql(self.client, self.world.tokens["a_staff"], CREATE, {"i": variables})
        return pk_of(data["createCase"]["case"]["id"], "Case", "id")

    async def settle(self, timeout: float = 30.0) -> float:
        """Wait until every outbox row is processed and nothing is left in the queue."""

        async def done() -> bool:
            if await Outbox.filter(processed_at=None).exists():
                return False
            return broker_backlog(self.settings.broker_url)[0] == 0

        return await wait_until(done, timeout, "every event processed and the queue empty", 0.1)

    async def wait_tasks(self, task_ids: list[str], timeout: float = 20.0) -> None:
        async def done() -> bool:
            return all(self.worker.succeeded(t) for t in task_ids)

        await wait_until(done, timeout, f"tasks {task_ids} to succeed in the worker")


@asynccontextmanager
async def publishing_to(
    world: World, base: Settings, worker: WorkerProcess, expected_errors: tuple[str, ...] = ()
) -> AsyncIterator[Pipeline]:
    """The API started in celery mode on ``worker``'s broker, as ``zongzhi serve`` would be.

    Afterwards the worker's log must hold no error but the ``expected_errors``.
    """
    from zongzhi.platform.wiring.app import create_app

    celery_settings = replace(base, event_mode="celery", broker_url=worker.broker_url)
    platform = Platform.build(celery_settings)
    app = create_app(platform=platform, manage_db=False)
    tasks = TaskSender(worker.broker_url)
    offset = worker.log_size()
    with running(platform):
        await platform.start(manage_db=False)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
                yield Pipeline(world, celery_settings, c, worker, tasks)
        finally:
            await platform.stop(manage_db=False)
            tasks.close()
    errors = [e for e in worker.errors(offset) if not any(x in e for x in expected_errors)]
    assert not errors, worker.log(offset)


@pytest.fixture
async def pipeline(rules: World, pg: Settings, worker: WorkerProcess) -> AsyncIterator[Pipeline]:
    async with publishing_to(rules, pg, worker) as p:
        yield p
        # Nothing may be left for the next test (its events restart at id 1 after the truncation).
        await p.settle()


async def _routed(case_id: int, center_id: int) -> bool:
    return await Case.filter(id=case_id, center_id=center_id).exists()


async def test_case_created_over_graphql_is_routed_in_the_worker(pipeline: Pipeline) -> None:
    p = pipeline
    world = p.world
    case_id = await p.create_case("楼上漏水")
    # The first task of a fresh worker also pays for loading and compiling the rulesets: wait for it
    # generously (a bound, not a timing assertion; once in three clean CI runs 15 s was not enough).
    took = await wait_until(
        lambda: _routed(case_id, world.centers["va1"].id), 60, "the worker to route the case to its village"
    )
    print(f"\n[worker] case routed by the worker {took * 1000:.0f} ms after the mutation returned")
    await p.settle()
    data = await gql(p.client, world.tokens["a_staff"], DECISIONS, {"id": to_global_id("Case", case_id)})
    assert {(d["ruleId"], d["version"], d["eventType"]) for d in data["decisions"]} == CORE_DECISIONS
    assert all(d["outcome"] == "ok" and d["ruleset"] == "core" for d in data["decisions"])
    assert "Task zongzhi.evaluate_event[" in p.worker.log(), "evaluated in the worker, not in-process"


async def test_redelivered_event_makes_no_second_decision(pipeline: Pipeline) -> None:
    p = pipeline
    case_id = await p.create_case("噪音扰民")
    await p.settle()
    received = await CaseEvent.get(case_id=case_id, type="case.received")
    routed = await CaseEvent.get(case_id=case_id, type="case.routed")
    before = (await Decision.all().count(), await CaseEvent.all().count(), await Outbox.all().count())
    await p.wait_tasks(
        [p.tasks.send(EVALUATE, event_id) for event_id in (received.id, received.id, routed.id)]
    )
    await p.settle()
    after = (await Decision.all().count(), await CaseEvent.all().count(), await Outbox.all().count())
    assert after == before
    assert (await Case.get(id=case_id)).center_id == p.world.centers["va1"].id


async def test_throughput_of_one_worker(pipeline: Pipeline) -> None:
    """A batch queued while the worker is down, then drained by one worker process (printed only)."""
    p = pipeline
    n = 60
    p.worker.stop()
    ids = [await p.create_case(f"批量{i}") for i in range(n)]
    p.worker.start()
    started = time.monotonic()
    await p.settle(60)
    elapsed = time.monotonic() - started
    processed = await Outbox.filter(event__case_id__in=ids).values_list("processed_at", flat=True)
    # A batch marks its rows processed in one statement: with one batch, first and last are the same.
    span = (max(processed) - min(processed)).total_seconds() or elapsed
    print(
        f"\n[worker] {n} cases, {len(processed)} events through one worker (concurrency 1): "
        f"{len(processed) / span:.0f} events/s between first and last evaluation, "
        f"{elapsed:.2f} s from ready to drained"
    )
    assert await Case.filter(id__in=ids, center_id=p.world.centers["va1"].id).count() == n


async def test_worker_killed_mid_evaluation_loses_no_event(pipeline: Pipeline) -> None:
    p = pipeline
    n = 40
    p.worker.stop()
    ids = [await p.create_case(f"断电{i}") for i in range(n)]
    # Small batches (each one transaction), so that the kill finds some committed and some not.
    p.worker.extra_env = {"ZONGZHI_WORKER_BATCH": "3"}
    try:
        p.worker.start()
    finally:
        p.worker.extra_env = {}

    async def some_done() -> bool:
        return await Outbox.filter(processed_at__not_isnull=True, event__case_id__in=ids).count() >= n // 3

    await wait_until(some_done, 30, "a third of the events to be processed")
    p.worker.kill()
    unprocessed = await Outbox.filter(processed_at=None).count()
    queued, unacked = broker_backlog(p.settings.broker_url)
    print(
        f"\n[worker] SIGKILL with {unprocessed} events unprocessed: {queued} queued, "
        f"{unacked} delivered and never acknowledged"
    )
    assert unprocessed > 0, "the worker was killed with work left"
    p.worker.start()

    async def republished_and_done() -> bool:
        # What beat does every 10 s, here every half second; re-sending a queued event is harmless.
        # The killed worker's messages are held unacknowledged: their lease is cut short here.
        await outbox.republish_pending(older_than=timedelta(seconds=1), lease=timedelta(seconds=1))
        return not await Outbox.filter(processed_at=None).exists()

    await wait_until(republished_and_done, 40, "every event to be processed after the restart", 0.5)
    await p.settle()
    va1 = p.world.centers["va1"].id
    assert await Case.filter(id__in=ids, center_id=va1).count() == n
    for event_type in ("case.routed", "case.deadline_set"):
        per_case = await CaseEvent.filter(case_id__in=ids, type=event_type).values_list("case_id", flat=True)
        assert sorted(per_case) == sorted(ids), f"exactly one {event_type} per case"
    decisions = await Decision.filter(case_id__in=ids).values_list("case_id", "rule_id")
    assert sorted(decisions) == sorted(
        (i, rule) for i in ids for rule in ("deadline-simple", "route-to-village-of-grid")
    )


async def test_a_growing_backlog_is_sent_once(pipeline: Pipeline) -> None:
    """Cases keep coming while the worker is stopped; the republisher runs meanwhile (its lease even
    cut to nothing): what the broker still holds is not sent again, so messages sent ≈ events."""
    p = pipeline
    p.worker.stop()
    ids: list[int] = []
    resent = 0
    for round_ in range(4):
        ids += [await p.create_case(f"积压{round_}-{i}") for i in range(40)]
        for _ in range(3):
            resent += await outbox.republish_pending(older_than=timedelta(0), lease=timedelta(0))
    queued, _ = broker_backlog(p.settings.broker_url)
    events_before = await Outbox.filter(event__case_id__in=ids).count()
    assert resent == 0 and queued == events_before == len(ids)

    offset = p.worker.log_size()
    p.worker.start()

    async def drained_with_beat() -> bool:
        # What beat does every 10 s, with its real lease: nothing in flight is sent again.
        await outbox.republish_pending()
        return not await Outbox.filter(processed_at=None).exists()

    await wait_until(drained_with_beat, 90, "the backlog to drain", 0.3)
    await p.settle(60)
    events = await Outbox.filter(event__case_id__in=ids).count()
    received = len(re.findall(r"Task zongzhi\.evaluate_event\[[^\]]+\] received", p.worker.log(offset)))
    decisions = await Decision.filter(case_id__in=ids).count()
    print(
        f"\n[worker] backlog of {len(ids)} cases behind a stopped worker, republished 12 times meanwhile: "
        f"{queued} messages queued for {events_before} events; after the drain {received} messages "
        f"delivered for {events} events, {decisions} decisions"
    )
    # One message per queued event, none sent again; the consequences (routed, deadline set) are
    # evaluated in the batch that made them and never sent.
    assert received == events_before and events == 3 * len(ids)
    assert decisions == 2 * len(ids)
    assert await Case.filter(id__in=ids, center_id=p.world.centers["va1"].id).count() == len(ids)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to stop and start")
async def test_broker_down_mutations_succeed_and_events_wait_in_the_outbox(
    rules: World, pg: Settings, broker_url: str, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path)
    server.start()
    own = WorkerProcess(pg, server.url, tmp_path, name="worker-own-redis")
    try:
        own.start()
        async with publishing_to(rules, pg, own, expected_errors=("consumer: Cannot connect",)) as p:
            va1 = p.world.centers["va1"].id
            first = await p.create_case("通畅时")
            await wait_until(lambda: _routed(first, va1), 15, "routing while the broker is up")

            async def acknowledged() -> bool:
                # The worker acks after the task's commit: stopping Redis in between would leave
                # "Couldn't ack" in its log (harmless, the task is redelivered) and fail the log check.
                return not await Outbox.filter(processed_at=None).exists() and broker_backlog(server.url) == (0, 0)

            await wait_until(acknowledged, 15, "the worker to acknowledge its tasks", 0.1)
            server.stop()
            took = []
            down = []
            for i in range(3):
                started = time.monotonic()
                down.append(await p.create_case(f"断连{i}"))
                took.append(time.monotonic() - started)
            print(f"\n[worker] mutation with the broker down: {max(took) * 1000:.0f} ms at most")
            rows = await Outbox.filter(event__case_id__in=down)
            assert len(rows) == 3
            assert all(r.published_at is None and r.attempts >= 1 and r.last_error for r in rows)
            assert not await Decision.filter(case_id__in=down).exists()

            server.start()
            restarted = time.monotonic()

            async def republished_and_done() -> bool:
                await outbox.republish_pending(older_than=timedelta(0))
                return not await Outbox.filter(processed_at=None).exists()

            await wait_until(republished_and_done, 40, "every event evaluated once Redis is back", 0.5)
            print(f"[worker] broker back: all events evaluated {time.monotonic() - restarted:.1f} s later")
            assert await Case.filter(id__in=down, center_id=va1).count() == 3
            assert {(d.case_id, d.rule_id) for d in await Decision.filter(case_id__in=down)} == {
                (i, rule) for i in down for rule in ("deadline-simple", "route-to-village-of-grid")
            }
    finally:
        own.stop()
        server.stop()


FLOW = """ruleset: flow
rules:
  - id: tag-received
    on: case.received
    then:
      - tag: {{add: [{tag}]}}
"""


async def test_activation_is_picked_up_by_the_running_worker(pipeline: Pipeline) -> None:
    p = pipeline
    author = p.world.tokens["rule_author"]
    for tag in ("flow-v1", "flow-v2"):
        await gql(p.client, author, SAVE, {"n": "flow", "s": FLOW.format(tag=tag)})
    await gql(p.client, author, ACTIVATE, {"n": "flow", "v": 1})
    await asyncio.sleep(ACTIVE_TTL_SECONDS + 0.2)  # the worker's last read of the active versions
    created: list[tuple[int, float]] = []
    activated: list[float] = []

    async def produce(stop_after: float) -> None:
        while not activated or time.monotonic() - activated[0] < stop_after:
            created.append((await p.create_case(f"流{len(created)}"), time.monotonic()))
            await asyncio.sleep(0.03)

    producer = asyncio.create_task(produce(stop_after=4.0))
    await asyncio.sleep(1.5)
    await gql(p.client, author, ACTIVATE, {"n": "flow", "v": 2})
    activated.append(time.monotonic())
    await producer
    await p.settle(60)

    activated_at = (await RulesetVersion.get(ruleset__name="flow", version=2)).activated_at
    decisions = await Decision.filter(ruleset="flow").order_by("at", "id")
    by_case: dict[int, set[int]] = {}
    for d in decisions:
        by_case.setdefault(d.case_id, set()).add(d.version)
    assert sorted(by_case) == sorted(case_id for case_id, _ in created), "every event evaluated"
    assert all(len(versions) == 1 for versions in by_case.values()), "no event evaluated by both"
    order = [d.version for d in decisions]
    assert order == sorted(order), "one worker: once v2 is seen, no later event is made by v1"
    assert 1 in order and 2 in order
    assert all(d.version == 1 for d in decisions if d.at < activated_at)
    late = {case_id for case_id, at in created if at - activated[0] > 3.0}
    assert late and all(by_case[c] == {2} for c in late), "events well after activation are made by v2"
    first_v2 = next(d for d in decisions if d.version == 2)
    print(
        f"\n[worker] activation → first decision by v2 in the running worker: "
        f"{(first_v2.at - activated_at).total_seconds() * 1000:.0f} ms "
        f"({order.count(1)} events by v1, {order.count(2)} by v2)"
    )

    # A v1 event delivered again after the switch is not evaluated a second time by v2.
    v1_case = next(c for c, versions in by_case.items() if versions == {1})
    received = await CaseEvent.get(case_id=v1_case, type="case.received")
    await p.wait_tasks([p.tasks.send(EVALUATE, received.id)])
    assert {d.version for d in await Decision.filter(event_id=received.id, ruleset="flow")} == {1}
    assert (await Case.get(id=v1_case)).tags == ["flow-v1"]


TWO_TAGS = """ruleset: redo
rules:
  - id: tag-twice
    on: [{on}]
    then:
      - tag: {{add: [{tag}-a]}}
      - tag: {{add: [{tag}-b]}}
"""


async def test_event_redone_after_a_crash_finishes_with_the_version_that_started(pipeline: Pipeline) -> None:
    """A worker died between the two actions of v1; v2 is active when the event comes again.

    v2 also fires on ``case.routed``: a routed event that v1 had nothing to say about, delivered
    again after the switch, must not be evaluated a second time either.
    """
    p = pipeline
    author = p.world.tokens["rule_author"]
    for tag, on in (("v1", "case.received"), ("v2", "case.received, case.routed")):
        await gql(p.client, author, SAVE, {"n": "redo", "s": TWO_TAGS.format(tag=tag, on=on)})
    await gql(p.client, author, ACTIVATE, {"n": "redo", "v": 1})
    await asyncio.sleep(ACTIVE_TTL_SECONDS + 0.2)
    case_id = await p.create_case("半途")
    await p.settle()
    received = await CaseEvent.get(case_id=case_id, type="case.received")
    routed = await CaseEvent.get(case_id=case_id, type="case.routed")
    # Undo what the second action committed, as if the worker had been killed just before it.
    second = await Decision.get(event_id=received.id, ruleset="redo", action_index=1)
    tagged = await CaseEvent.filter(cause_id=received.id, type="case.tagged", rule="redo/tag-twice")
    await CaseEvent.filter(id__in=[e.id for e in tagged if e.payload["added"] == ["v1-b"]]).delete()
    await second.delete()
    await Case.filter(id=case_id).update(tags=["v1-a"])
    await Outbox.filter(event_id=received.id).update(processed_at=None)
    await gql(p.client, author, ACTIVATE, {"n": "redo", "v": 2})
    await asyncio.sleep(ACTIVE_TTL_SECONDS + 0.2)

    await p.wait_tasks([p.tasks.send(EVALUATE, received.id), p.tasks.send(EVALUATE, routed.id)])
    await p.settle()
    decisions = await Decision.filter(case_id=case_id, ruleset="redo").order_by("action_index")
    assert [(d.event_id, d.version, d.action_index) for d in decisions] == [
        (received.id, 1, 0),
        (received.id, 1, 1),
    ]
    assert (await Case.get(id=case_id)).tags == ["v1-a", "v1-b"]


async def test_deadline_tick_in_the_worker_emits_once(pipeline: Pipeline) -> None:
    p = pipeline
    warn_case = await p.create_case("将到期")
    late_case = await p.create_case("已超期")
    await p.settle()
    now = datetime.now(UTC)
    await Case.filter(id=warn_case).update(
        warn_at=now - timedelta(minutes=1), resolve_by=now + timedelta(hours=1), warned_at=None
    )
    await Case.filter(id=late_case).update(
        warn_at=now - timedelta(hours=2), resolve_by=now - timedelta(minutes=1), overdue_at=None
    )
    ticks = [p.tasks.send(DEADLINES), p.tasks.send(DEADLINES)]
    await p.wait_tasks(ticks)
    await p.settle()
    # The late case was never warned: its warning goes out before it is marked overdue (issue 14).
    assert [p.worker.result(t) for t in ticks] == [
        "{'warnings': 2, 'overdue': 1, 'whistles': 0}",
        "{'warnings': 0, 'overdue': 0, 'whistles': 0}",
    ]
    once = (
        (warn_case, "case.deadline_warning"),
        (late_case, "case.deadline_warning"),
        (late_case, "case.overdue"),
    )
    for case_id, event_type in once:
        assert await CaseEvent.filter(case_id=case_id, type=event_type).count() == 1
    assert not await CaseEvent.filter(case_id=warn_case, type="case.overdue").exists()
    escalations = await Decision.filter(case_id=late_case, rule_id="escalate-overdue").values_list(
        "action", flat=True
    )
    assert sorted(escalations) == ["deadline", "escalate", "notify"], "the overdue event evaluated once"


async def test_sweep_tick_in_the_worker_and_here_creates_each_task_once(pipeline: Pipeline) -> None:
    """Two beats: the worker's sweep ticks and this process's, at once, on one PostgreSQL database."""
    from zongzhi.platform.domain.actor import Actor
    from zongzhi.platform.models import Center, Grid, SweepTask
    from zongzhi.platform.services import sweeps

    county = await Center.get(code="330110000000")
    await sweeps.save_schedule(
        Actor.system_actor("test"),
        name="村级周排查",
        level="village",
        covers="grid",
        county_id=county.id,
        form=[{"key": "ok", "label": "平稳", "kind": "boolean", "required": True}],
    )
    ticks = [pipeline.tasks.send(SWEEPS), pipeline.tasks.send(SWEEPS)]
    await asyncio.gather(*(sweeps.create_due_tasks() for _ in range(3)))
    await pipeline.wait_tasks(ticks)
    assert all("'created'" in str(pipeline.worker.result(t)) for t in ticks), "the worker ran the ticks"
    grids = await Grid.filter(center__level="village").count()
    assert await SweepTask.all().count() == grids
    assert len({(t.schedule_id, t.target, t.period) for t in await SweepTask.all()}) == grids
