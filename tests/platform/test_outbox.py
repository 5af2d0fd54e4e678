"""After commit, the process that wrote an event hands it on without reading it back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.casework import new_case
from tests.sql_log import sql_sent
from zongzhi.platform.base.current import current
from zongzhi.platform.models import Case, CaseEvent, Decision, Outbox
from zongzhi.platform.pipeline import broadcast
from zongzhi.platform.pipeline.broker_queue import BrokerState
from zongzhi.platform.services import outbox
from zongzhi.platform.wiring import runtime


async def _intake_statements(world) -> tuple[Case, list[str]]:
    with sql_sent() as sent:
        case = await new_case(world, filer="a_staff", channel="window", center_id=world.centers["ta"].id)
    return case, [sql for sql, _ in sent]


def _reads(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if re.match(rf'\s*SELECT\b.*\bFROM "{table}"', s, re.S)]


async def test_committed_events_are_evaluated_and_announced_without_reading_them_back(rules):
    world = rules
    messages = []
    hub = broadcast.hub()
    original = hub.publish

    async def keep(message):
        messages.append(message)
        await original(message)

    hub.publish = keep
    current().publishers = [runtime.inline_publisher, broadcast.announce]
    try:
        case, statements = await _intake_statements(world)
    finally:
        hub.publish = original
    types = [e.type for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
    assert types[:3] == ["case.received", "case.routed", "case.deadline_set"]
    assert _reads(statements, "case_event") == [], "events are handed on as they were written"
    assert _reads(statements, "outbox") == [], "so are their outbox rows"
    rows = await Outbox.filter(event__case_id=case.id)
    assert rows and all(r.published_at and r.processed_at for r in rows), "each marked in one update"
    assert [m["type"] for m in messages if m["case_id"] == case.id][:1] == ["case.received"]
    assert len([s for s in statements if "case_counter" in s]) == 1, "the number takes one statement"


async def test_a_row_sent_again_is_read_back_and_evaluated_once(rules):
    world = rules
    case, _ = await _intake_statements(world)
    received = await CaseEvent.get(case_id=case.id, type="case.received")
    row = await Outbox.get(event_id=received.id)
    decisions = await Decision.filter(event_id=received.id).count()
    await Outbox.filter(id=row.id).update(processed_at=None)
    await outbox.publish([outbox.Committed(await Outbox.get(id=row.id))])
    types = [e.type for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
    assert types.count("case.deadline_set") == 1, "the decisions made the first time are not made again"
    assert (await Outbox.get(id=row.id)).processed_at is not None
    assert decisions == 2 and await Decision.filter(event_id=received.id).count() == decisions


async def test_a_failed_publish_counts_an_attempt_on_every_row_in_one_statement(world):
    async def broker_down(items):
        raise ConnectionError("broker down")

    current().publishers = [broker_down]
    with sql_sent() as sent:
        case = await new_case(world, filer="a_staff", channel="window", center_id=world.centers["ta"].id)
    assert len([s for s, _ in sent if s.lstrip().startswith('UPDATE "outbox"')]) == 1
    await outbox.republish_pending(older_than=timedelta(0))
    rows = await Outbox.filter(event__case_id=case.id)
    assert rows and all(r.attempts == 2 and r.published_at is None for r in rows)
    assert all(r.last_error == "broker down" for r in rows)


async def test_a_published_row_is_sent_again_only_when_its_lease_ran_out_and_the_queue_no_longer_holds_it(
    world,
):
    sent: list[int] = []

    async def broker(items):
        sent.extend(item.row.event_id for item in items)

    current().publishers = [broker]
    case = await new_case(world, filer="a_staff", channel="window", center_id=world.centers["ta"].id)
    row = await Outbox.get(event__case_id=case.id, event__type="case.received")
    now = datetime.now(UTC)
    waiting_since: list[datetime | None] = [None]
    started_at = now - timedelta(days=1)

    async def probe():
        return BrokerState(waiting_since[0], started_at)

    current().queue_probe = probe
    try:
        sent.clear()
        await Outbox.filter(id=row.id).update(published_at=now - timedelta(minutes=5))
        assert await outbox.republish_pending(older_than=timedelta(0)) == 0, "leased for 11 minutes"
        await Outbox.filter(id=row.id).update(published_at=now - timedelta(minutes=20))
        waiting_since[0] = now - timedelta(minutes=30)
        assert await outbox.republish_pending(older_than=timedelta(0)) == 0, "still waiting in the queue"
        waiting_since[0] = now - timedelta(minutes=10)
        assert await outbox.republish_pending(older_than=timedelta(0)) == 1, "sent before what waits"
        assert sent == [row.event_id]
        assert (await Outbox.get(id=row.id)).published_at > now
        waiting_since[0] = None
        assert await outbox.republish_pending(older_than=timedelta(0), lease=timedelta(0)) == 1
        await Outbox.filter(id=row.id).update(published_at=now - timedelta(minutes=2))
        assert await outbox.republish_pending(older_than=timedelta(0)) == 0, "leased"
        started_at = now - timedelta(minutes=1)
        assert await outbox.republish_pending(older_than=timedelta(0)) == 1, "lost with the restarted broker"
    finally:
        current().queue_probe = None
