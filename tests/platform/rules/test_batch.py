"""Outbox rows evaluated in batches (``rules/batch.py``): what a worker's task does, in-process.

Cases are registered with nothing published, so their events wait in the outbox as they do behind
a busy worker; ``evaluate_pending`` then claims and evaluates them as the task would.
"""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from tests.casework import actor
from zongzhi.platform.base.current import current
from zongzhi.platform.models import Case, CaseEvent, Decision, Notification, Outbox
from zongzhi.platform.rules import versions as rulesets
from zongzhi.platform.rules.actions import ActionSpec
from zongzhi.platform.rules.batch import evaluate_message, evaluate_pending
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.outbox import Committed
from zongzhi.platform.wiring import runtime


async def _pending_cases(world, n: int, **kw) -> list[int]:
    """``n`` window cases in grid A1-G1 whose events wait in the outbox (nothing is published)."""
    current().publishers = []
    staff = await actor(world, "a_staff")
    ids = []
    for i in range(n):
        data = svc.CaseInput(
            title=kw.get("title", f"待评估{i}"),
            category="neighbor",
            channel="window",
            center_id=world.centers["ta"].id,
            grid_id=world.grids["a1g1"].id,
        )
        case, _ = await svc.intake(data, staff)
        ids.append(case.id)
    return ids


async def _activate(world, name: str, source: str) -> None:
    author = await actor(world, "rule_author")
    await rulesets.activate(author, name, (await rulesets.save_draft(author, name, source)).version)


async def test_a_batch_takes_its_limit_and_evaluates_their_consequences_with_them(rules):
    world = rules
    ids = await _pending_cases(world, 3)
    sent: list[Committed] = []

    async def record(items: list[Committed]) -> None:
        sent.extend(items)

    current().publishers = [record]
    result = await evaluate_pending(2)
    va1 = world.centers["va1"].id
    routed = await Case.filter(id__in=ids, center_id=va1).values_list("id", flat=True)
    assert sorted(routed) == ids[:2], "the first two cases, in order; the third waits"
    assert len(result.handled) == 6, "two events and their consequences (routed, deadline set)"
    assert await Outbox.filter(processed_at=None).count() == 1
    assert await Decision.filter(case_id__in=ids[:2]).count() == 4
    route = await Decision.get(case_id=ids[0], rule_id="route-to-village-of-grid")
    assert (route.outcome, route.params["to"], route.params["result"]["moved"]) == (
        "ok",
        "village_of_grid",
        True,
    )
    assert route.event_id == (await CaseEvent.get(case_id=ids[0], type="case.received")).id and route.at
    # The consequences were handed to the publishers after commit (the board announces them), marked
    # processed, so a broker publisher sends none of them.
    assert {i.event.type for i in sent} == {"case.routed", "case.deadline_set"}
    assert runtime._unhandled(sent) == []
    assert all(r.published_at and r.processed_at for r in await Outbox.filter(event__case_id__in=ids[:2]))
    await evaluate_pending(10)
    assert await Case.filter(id=ids[2], center_id=va1).exists()
    assert not await Outbox.filter(processed_at=None).exists()


async def test_a_redelivered_event_in_a_batch_makes_nothing_twice(rules):
    world = rules
    ids = await _pending_cases(world, 2)
    await evaluate_pending(10)
    before = (await Decision.all().count(), await CaseEvent.all().count(), await Outbox.all().count())
    received = await CaseEvent.filter(case_id__in=ids, type="case.received").values_list("id", flat=True)
    await Outbox.filter(event_id__in=received).update(processed_at=None)
    result = await evaluate_pending(10)
    assert result.event_ids == set(received) and len(result.handled) == 2
    assert (await Decision.all().count(), await CaseEvent.all().count(), await Outbox.all().count()) == before
    assert await evaluate_message(received[0], 10) == 0, "a message for a processed event does nothing"


async def test_an_action_that_raises_in_a_batch_is_an_error_decision_and_the_rest_commits(rules):
    world = rules
    await _activate(
        world,
        "local",
        """
ruleset: local
rules:
  - id: two-actions
    on: case.received
    then:
      - assign: {department: no-such-dept, mode: transfer}
      - tag: {add: [已登记]}
""",
    )
    ids = await _pending_cases(world, 2)
    await evaluate_pending(10)
    for case_id in ids:
        decisions = {d.action: d for d in await Decision.filter(case_id=case_id, ruleset="local")}
        assert decisions["assign"].outcome == "error" and "no-such-dept" in decisions["assign"].error
        assert decisions["tag"].outcome == "ok"
        case = await Case.get(id=case_id)
        assert case.tags == ["已登记"] and case.center_id == world.centers["va1"].id
        # The batch ran without savepoints, failed, and was redone with them: each effect once.
        for kind in ("case.tagged", "case.routed", "case.deadline_set"):
            assert await CaseEvent.filter(case_id=case_id, type=kind).count() == 1, kind
    assert await Decision.filter(case_id__in=ids).count() == 4 + 2 * 2, "core's two and local's two, each"
    assert await CaseEvent.filter(case_id__in=ids, type="case.assigned").count() == 0
    assert not await Outbox.filter(processed_at=None).exists()


async def test_a_decision_made_meanwhile_rolls_the_event_back_to_the_action_by_action_path(rules):
    """Another delivery decides the event's second action while this batch runs the first: the
    batch's single insert of the event's decisions fails, the event is rolled back and redone action
    by action, and the second action's effect (a notification) is not made twice or at all."""
    world = rules

    async def decide_the_next(ctx, params):
        await Decision.create(
            event_id=ctx.event.id,
            case_id=ctx.case.id,
            ruleset="race",
            version=1,
            rule_id="race",
            action_index=1,
            action="notify",
            params={"by": "another delivery"},
        )
        return {"raced": True}

    current().actions.register(ActionSpec("decide_next", "测试", {"type": "object"}, decide_the_next))
    await _activate(
        world,
        "race",
        """
ruleset: race
rules:
  - id: race
    on: case.received
    then:
      - decide_next: {}
      - notify: {role: leader, message: 不应发出}
""",
    )
    [case_id] = await _pending_cases(world, 1)
    await evaluate_pending(10)
    decisions = await Decision.filter(case_id=case_id, ruleset="race").order_by("action_index")
    assert [(d.action, d.outcome, d.params) for d in decisions] == [
        ("decide_next", "ok", {"result": {"raced": True}}),
        ("notify", "ok", {"by": "another delivery"}),
    ]
    assert await Notification.filter(case_id=case_id, message="不应发出").count() == 0
    assert (await Case.get(id=case_id)).center_id == world.centers["va1"].id, "the core rules ran"
    assert not await Outbox.filter(processed_at=None).exists()


async def test_the_embedded_mode_evaluates_an_event_and_its_consequences_in_one_pass(rules):
    world = rules
    staff = await actor(world, "a_staff")
    data = svc.CaseInput(
        title="楼上漏水",
        category="neighbor",
        channel="window",
        center_id=world.centers["ta"].id,
        grid_id=world.grids["a1g1"].id,
    )
    case, _ = await svc.intake(data, staff)
    # Evaluated before intake returned: routed, due, every row processed.
    assert case.id and (await Case.get(id=case.id)).center_id == world.centers["va1"].id
    rows = await Outbox.filter(event__case_id=case.id)
    assert len(rows) == 3 and all(r.processed_at and r.published_at for r in rows)


@pytest.fixture
def postgres_only(settings):
    if settings.is_sqlite:
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")


async def test_rows_another_worker_holds_are_skipped_with_the_later_events_of_their_case(
    rules, postgres_only
):
    world = rules
    first, second = await _pending_cases(world, 2)
    staff = await actor(world, "a_staff")
    await svc.tag(staff, first, ["跟进"])  # a second event of the first case, after its receipt
    held_event = await CaseEvent.get(case_id=first, type="case.received")
    holding, release = asyncio.Event(), asyncio.Event()

    async def other_worker() -> None:
        async with in_transaction():
            await Outbox.filter(event_id=held_event.id).select_for_update()
            holding.set()
            await release.wait()

    other = asyncio.create_task(other_worker())
    await holding.wait()
    try:
        result = await evaluate_pending(10)
        # The second case only: the first case's tag event waits behind its receipt.
        assert {e.case_id for e in await CaseEvent.filter(id__in=result.event_ids)} == {second}
        assert await Outbox.filter(processed_at=None, event__case_id=first).count() == 2
        # The held event's own message waits for the holder, then finds its row still pending.
        own = asyncio.create_task(evaluate_message(held_event.id, 10))
        await asyncio.sleep(0.3)
        assert not own.done(), "it waits for the row, not around it"
    finally:
        release.set()
        await other
    assert await own > 0
    assert await Case.filter(id=first, center_id=world.centers["va1"].id).exists()
    await evaluate_pending(10)
    assert not await Outbox.filter(processed_at=None).exists()


async def test_an_event_that_cannot_be_evaluated_waits_and_the_rest_of_the_batch_commits(rules, monkeypatch):
    """A fault while building one event's fact (nothing written yet) leaves that row pending for its
    own message; the batch's other events are evaluated and committed."""
    from zongzhi.platform.rules import batch

    world = rules
    ids = await _pending_cases(world, 3)
    real = batch.build_fact

    async def failing_for_the_second(event, case, **kw):
        if case.id == ids[1]:
            raise ValueError("a fact that cannot be built")
        return await real(event, case, **kw)

    monkeypatch.setattr(batch, "build_fact", failing_for_the_second)
    result = await evaluate_pending(10)
    assert result.left == 1
    routed = await Case.filter(id__in=ids, center_id=world.centers["va1"].id).values_list("id", flat=True)
    assert sorted(routed) == [ids[0], ids[2]]
    assert await Outbox.filter(processed_at=None).values_list("event__case_id", flat=True) == [ids[1]]
    monkeypatch.setattr(batch, "build_fact", real)
    await evaluate_pending(10)
    assert await Case.filter(id=ids[1], center_id=world.centers["va1"].id).exists()


async def test_a_batch_routes_each_case_by_its_own_grid_at_every_level(rules):
    """The first grid an action routes by brings the targets of every grid in the batch: each case
    must still get its own grid's village, township or county (the core routes to the village,
    then these rules, on that consequence, further up)."""
    world = rules
    await _activate(
        world,
        "levels",
        """
ruleset: levels
rules:
  - id: labor-to-township
    on: case.routed
    when: {category: labor}
    then:
      - route: {to: township_of_grid}
  - id: contract-to-county
    on: case.routed
    when: {category: contract}
    then:
      - route: {to: county_of_grid}
""",
    )
    current().publishers = []
    staff = await actor(world, "county_staff")
    expected: dict[int, str] = {}
    plan = [
        ("a1g1", "neighbor", "va1"),
        ("a2g1", "labor", "ta"),
        ("b1g1", "labor", "tb"),
        ("b1g1", "neighbor", "vb1"),
        ("a2g1", "contract", "county"),
    ]
    for grid, category, center in plan:
        data = svc.CaseInput(
            title=f"{grid}{category}",
            category=category,
            channel="window",
            center_id=world.centers["county"].id,
            grid_id=world.grids[grid].id,
        )
        case, _ = await svc.intake(data, staff)
        expected[case.id] = center
    await evaluate_pending(10)
    for case_id, center in expected.items():
        assert (await Case.get(id=case_id)).center_id == world.centers[center].id, (case_id, center)
