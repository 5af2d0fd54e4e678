"""Deadlines on China's working-day calendar, and the tick that warns and escalates exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.casework import actor, new_case
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.domain.workdays import add_span, load_official_days
from zongzhi.platform.models import CalendarDay, Case, CaseEvent, Decision
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.deadlines import tick

CHINA = ZoneInfo("Asia/Shanghai")


def _cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


async def test_working_days_count_the_makeup_saturday(world):
    # Friday 9 October 2026; Saturday 10 October is a make-up workday (调休) after National Day.
    deadline = await add_span(_cst(2026, 10, 9, 10), {"working_days": 5})
    assert deadline.at == _cst(2026, 10, 15, 23, 59, 59)
    assert deadline.notes == []
    same_day = await add_span(_cst(2026, 10, 9, 10), {"working_days": 0})
    assert same_day.at == _cst(2026, 10, 9, 23, 59, 59)
    over_holiday = await add_span(_cst(2026, 9, 30, 10), {"working_days": 1})
    assert over_holiday.at == _cst(2026, 10, 8, 23, 59, 59), "National Day holidays are skipped"


async def test_unknown_year_falls_back_to_weekdays_with_a_note(world):
    deadline = await add_span(_cst(2026, 12, 30, 10), {"working_days": 5})
    assert deadline.notes and "2027" in deadline.notes[0]
    assert deadline.at.astimezone(CHINA).date().weekday() < 5


async def test_loaded_official_days_win_and_local_closures_apply(world):
    await load_official_days([(date(2027, 1, 4), False, "元旦调休"), (date(2027, 1, 9), True, "调休上班")])
    deadline = await add_span(_cst(2027, 1, 1, 10), {"working_days": 2})
    # 2 Jan (Sat) and 3 Jan (Sun) rest, 4 Jan loaded as a holiday: 5 Jan is the first, 6 Jan the second.
    assert deadline.at == _cst(2027, 1, 6, 23, 59, 59)
    await CalendarDay.create(
        day=date(2026, 10, 12), workday=False, center=world.centers["ta"], note="台风停工"
    )
    local = await add_span(_cst(2026, 10, 9, 10), {"working_days": 2}, [world.centers["ta"].id])
    assert local.at == _cst(2026, 10, 13, 23, 59, 59)


async def test_core_rule_sets_the_deadline_on_the_official_calendar(rules):
    world = rules
    case, _ = await svc.intake(
        svc.CaseInput(
            title="装修纠纷",
            category="contract",
            channel="window",
            complexity="complex",
            center_id=world.centers["ta"].id,
            received_at=_cst(2026, 10, 9, 10),
        ),
        await actor(world, "a_staff"),
    )
    case = await Case.get(id=case.id)
    assert case.resolve_by == _cst(2026, 10, 15, 23, 59, 59)


async def test_tick_warns_and_marks_overdue_once(world):
    case = await new_case(world)
    staff = await actor(world, "a_staff")
    start = datetime.now(UTC)
    await svc.set_deadline(staff, case.id, resolve_by=start + timedelta(hours=10))
    assert await tick(start + timedelta(hours=7)) == {"warnings": 0, "overdue": 0, "whistles": 0}
    assert (await tick(start + timedelta(hours=8, minutes=30)))["warnings"] == 1
    assert (await tick(start + timedelta(hours=9)))["warnings"] == 0, (
        "once per deadline, also on a later tick"
    )
    assert (await tick(start + timedelta(hours=11)))["overdue"] == 1
    assert (await tick(start + timedelta(hours=12)))["overdue"] == 0
    types = [e.type for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
    assert types.count("case.deadline_warning") == 1 and types.count("case.overdue") == 1
    await svc.set_deadline(staff, case.id, resolve_by=start + timedelta(hours=20))
    assert (await tick(start + timedelta(hours=21)))["overdue"] == 1, "a new deadline can be missed again"


async def test_overdue_escalates_village_to_township_to_county(rules):
    world = rules
    case = await new_case(world)  # filed in village A1
    staff = await actor(world, "county_staff")
    start = datetime.now(UTC)
    await svc.set_deadline(staff, case.id, resolve_by=start + timedelta(hours=1))
    await tick(start + timedelta(hours=2))
    case = await Case.get(id=case.id)
    assert case.center_id == world.centers["ta"].id, "overdue at the village: up to the township"
    assert case.resolve_by > start + timedelta(hours=2), "the township gets a new deadline"
    await tick(case.resolve_by + timedelta(minutes=1))
    case = await Case.get(id=case.id)
    assert case.center_id == world.centers["county"].id
    await tick(case.resolve_by + timedelta(minutes=1))
    assert (await Case.get(id=case.id)).center_id == world.centers["county"].id, "the county is the top"
    assert (
        await Decision.filter(
            case_id=case.id, rule_id="escalate-overdue", outcome="ok", action="escalate"
        ).count()
        == 2
    )
    assert case.status == CaseStatus.received


async def test_calendar_over_graphql(client, world):
    from tests.gql import GraphQLErrors, gql
    from zongzhi.platform.schema.ids import to_global_id

    load = 'mutation { loadOfficialCalendar(year: 2027, holidays: ["2027-01-01"], workdays: ["2027-02-14"]) }'
    assert (await gql(client, world.tokens["admin"], load))["loadOfficialCalendar"] == 2
    try:
        await gql(client, world.tokens["county_staff"], load)
        raise AssertionError("staff may not load the national calendar")
    except GraphQLErrors as err:
        assert err.code == "FORBIDDEN"
    closure = 'mutation($c: ID!) { addLocalClosure(centerId: $c, day: "2026-10-12", note: "台风") }'
    assert await gql(
        client, world.tokens["a_staff"], closure, {"c": to_global_id("Center", world.centers["ta"].id)}
    )
    try:
        await gql(
            client, world.tokens["b_staff"], closure, {"c": to_global_id("Center", world.centers["ta"].id)}
        )
        raise AssertionError("another township may not close this one")
    except GraphQLErrors as err:
        assert err.code == "NOT_FOUND"  # another township's center is outside its jurisdiction
    assert await CalendarDay.filter(center_id=world.centers["ta"].id).count() == 1


async def test_reopen_clears_the_past_deadline(world):
    """Bug: a reopened old case kept its past deadline, was overdue at the next tick and escalated."""
    from tests.casework import take_to

    case = await new_case(world)
    staff = await actor(world, "a_staff")
    start = datetime.now(UTC)
    await svc.set_deadline(staff, case.id, resolve_by=start + timedelta(hours=1))
    await take_to(world, case, CaseStatus.closed)
    await tick(start + timedelta(hours=2))  # the case was closed: nothing is overdue
    await svc.reopen(staff, case.id, "当事人反映协议未履行")
    case = await Case.get(id=case.id)
    assert case.resolve_by is None and case.warn_at is None and case.overdue_at is None
    assert await tick(start + timedelta(hours=3)) == {"warnings": 0, "overdue": 0, "whistles": 0}
    reopened = await CaseEvent.get(case_id=case.id, type="case.reopened")
    assert reopened.payload["cleared_resolve_by"] is not None


async def test_deadline_shorter_than_the_tick_still_warns_first(world):
    """Bug: when warn_at and resolve_by both passed between two ticks, the warning was skipped."""
    case = await new_case(world)
    staff = await actor(world, "a_staff")
    start = datetime.now(UTC)
    await svc.set_deadline(staff, case.id, resolve_by=start + timedelta(seconds=30))
    assert await tick(start + timedelta(minutes=1)) == {"warnings": 1, "overdue": 1, "whistles": 0}
    types = [e.type for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
    assert types[-2:] == ["case.deadline_warning", "case.overdue"]


async def test_assign_action_gives_a_dispatched_case_its_own_due(world):
    """Bug: ``assign`` with ``due`` on an already dispatched case got the case's deadline instead."""
    from tests.casework import take_to
    from zongzhi.platform.domain.actor import Actor
    from zongzhi.platform.models import Assignment
    from zongzhi.platform.rules.builtin_actions import ActionContext, assign

    case = await new_case(world)
    staff = await actor(world, "a_staff")
    await svc.set_deadline(staff, case.id, resolve_by=datetime.now(UTC) + timedelta(days=30))
    case = await take_to(world, case, CaseStatus.dispatched)
    event = await CaseEvent.filter(case_id=case.id).order_by("-id").first()
    ctx = ActionContext(case=case, event=event, actor=Actor.system_actor("规则"))
    await assign(ctx, {"department": "zj", "due": {"working_days": 3}, "mode": "joint", "lead": False})
    added = await Assignment.get(case_id=case.id, department_id=world.departments["housing"].id)
    assert added.due is not None and added.due < case.resolve_by - timedelta(days=10)
