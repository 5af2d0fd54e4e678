"""Scheduled sweeps: tasks once per period, results, findings to cases, meetings, overdue escalation."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from tests.casework import actor
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.models import Case, CaseEvent, Notification, SweepTask
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import sweeps

FORM = [
    {"key": "disputes", "label": "新发现矛盾纠纷数", "kind": "number", "required": True},
    {"key": "hazard", "label": "有无安全隐患", "kind": "boolean", "required": True},
    {"key": "note", "label": "备注", "kind": "text"},
    {"key": "photo", "label": "现场照片", "kind": "text", "attachments": "optional"},
]
# A Wednesday in an ordinary week of 2026 (ISO week 43).
WEDNESDAY = datetime(2026, 10, 21, 2, 0, tzinfo=UTC)


async def _village_weekly(world, **kw):
    return await sweeps.save_schedule(
        await actor(world, "county_staff"),
        name="村级周排查",
        level="village",
        form=FORM,
        cadence="weekly",
        **kw,
    )


async def test_default_cadence_is_the_seeds_rhythm(world):
    staff = await actor(world, "county_staff")
    made = {}
    for level, covers in (
        ("village", "grid"),
        ("village", "center"),
        ("township", "center"),
        ("county", "center"),
    ):
        schedule = await sweeps.save_schedule(staff, name="x", level=level, covers=covers, form=FORM)
        made[(level, covers)] = schedule.cadence
    assert made == {
        ("village", "grid"): "weekly",  # 村组一周一排查
        ("village", "center"): "fortnightly",  # 村委会（社区）半月一排查
        ("township", "center"): "monthly",  # 乡镇一月一分析研判
        ("county", "center"): "quarterly",  # 县级一季一调度研判
    }


def test_periods():
    assert sweeps.period_of("weekly", date(2026, 10, 7)).key == "2026-W41"
    f = sweeps.period_of("fortnightly", date(2026, 10, 7))
    assert (f.key, f.start, f.end) == ("2026-F21", date(2026, 10, 5), date(2026, 10, 19))
    assert sweeps.period_of("monthly", date(2026, 12, 31)).end == date(2027, 1, 1)
    q = sweeps.period_of("quarterly", date(2026, 11, 2))
    assert (q.key, q.start, q.end) == ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1))


async def test_tasks_created_once_across_restarts_and_two_beats(world):
    schedule = await _village_weekly(world)
    # Two beats at once, then a "restart" ticking again in the same week: three villages, three tasks.
    await asyncio.gather(sweeps.create_due_tasks(WEDNESDAY), sweeps.create_due_tasks(WEDNESDAY))
    again = await sweeps.create_due_tasks(datetime(2026, 10, 23, 8, 0, tzinfo=UTC))
    tasks = await SweepTask.filter(schedule_id=schedule.id)
    assert len(tasks) == 3 and again == 0
    assert {t.period for t in tasks} == {"2026-W43"}
    # Due at the end of the third working day (Wednesday), China time.
    assert tasks[0].due_at == datetime(2026, 10, 21, 15, 59, 59, tzinfo=UTC)
    # The next week gets its own tasks.
    assert await sweeps.create_due_tasks(datetime(2026, 10, 27, 2, 0, tzinfo=UTC)) == 3


async def test_due_day_skips_the_national_holiday(world):
    # 2026-10-01..07 is the National Day holiday, 2026-10-10 (Saturday) a make-up workday: in week 41
    # (Oct 5-11) the working days are Oct 8, 9 and 10.
    await _village_weekly(world, due_working_days=3)
    await sweeps.create_due_tasks(datetime(2026, 10, 6, 2, 0, tzinfo=UTC))
    task = await SweepTask.filter(period="2026-W41").first()
    assert task.due_at.astimezone(sweeps.CHINA).date() == date(2026, 10, 10)


async def test_grid_schedule_makes_a_task_per_grid(world):
    await _village_weekly(world, covers="grid")
    assert await sweeps.create_due_tasks(WEDNESDAY) == len(world.grids)


async def test_record_checks_required_answers_and_finding_becomes_case(world):
    await _village_weekly(world)
    await sweeps.create_due_tasks(WEDNESDAY)
    task = await SweepTask.get(center_id=world.centers["va1"].id)
    staff = await actor(world, "a1_staff")
    with pytest.raises(ValidationFailed) as err:
        await sweeps.record_result(staff, task.id, {"disputes": 1}, [])
    assert err.value.field == "answers.hazard"
    with pytest.raises(ValidationFailed) as err:
        await sweeps.record_result(staff, task.id, {"disputes": "two", "hazard": False}, [])
    assert err.value.field == "answers.disputes"
    assert (await SweepTask.get(id=task.id)).status == "open"
    done = await sweeps.record_result(
        staff,
        task.id,
        {"disputes": 1, "hazard": False},
        [{"description": "两户因排水沟争执", "category": "neighbor"}],
    )
    assert done.status == "done" and done.done_by_id == staff.user_id
    case = await sweeps.finding_to_case(staff, task.id, 0)
    again = await sweeps.finding_to_case(staff, task.id, 0)
    assert case.id == again.id and case.center_id == world.centers["va1"].id
    received = await CaseEvent.get(case_id=case.id, type="case.received")
    assert received.payload["sweep_task_id"] == task.id
    assert (await SweepTask.get(id=task.id)).findings[0]["case_id"] == case.id
    # Another township's staff cannot see the task.
    with pytest.raises(Exception) as other:
        await sweeps.record_result(await actor(world, "b_staff"), task.id, {}, [])
    assert getattr(other.value, "code", "") == "NOT_FOUND"


async def test_overdue_task_notifies_the_level_above_once_and_counts(world):
    await _village_weekly(world)
    await sweeps.create_due_tasks(WEDNESDAY)
    staff = await actor(world, "a1_staff")
    task = await SweepTask.get(center_id=world.centers["va1"].id)
    await sweeps.record_result(staff, task.id, {"disputes": 0, "hazard": False}, [])
    later = datetime(2026, 10, 22, 2, 0, tzinfo=UTC)
    assert await sweeps.notify_overdue(later) == 2  # va2 and vb1 are late
    assert await sweeps.notify_overdue(later) == 0
    notes = await Notification.all().order_by("center_id")
    assert {n.center_id for n in notes} == {world.centers["ta"].id, world.centers["tb"].id}
    rows = await sweeps.completion(
        [c.path for c in world.centers.values()], date(2026, 10, 1), date(2026, 11, 1), later
    )
    by_center = {r.center_id: r for r in rows}
    assert by_center[world.centers["va1"].id].rate == 1.0
    assert (
        by_center[world.centers["va2"].id].overdue_open == 1
        and by_center[world.centers["va2"].id].rate == 0.0
    )


async def test_meeting_records_cases_in_jurisdiction_only(world):
    from tests.casework import new_case

    mine = await new_case(world)
    theirs = await new_case(world, grid="b1g1", filer="b1_grid")
    staff = await actor(world, "a_staff")
    meeting = await sweeps.record_meeting(
        staff,
        center_id=world.centers["ta"].id,
        held_on=date(2026, 10, 30),
        title="十月研判",
        conclusions="邻里纠纷上升，加强排查",
        case_ids=[mine.id],
        risks=["民转刑风险"],
    )
    assert meeting.case_ids == [mine.id]
    with pytest.raises(Exception) as err:
        await sweeps.record_meeting(
            staff,
            center_id=world.centers["ta"].id,
            held_on=date(2026, 10, 30),
            title="x",
            conclusions="y",
            case_ids=[theirs.id],
            risks=[],
        )
    assert err.value.field == "caseIds[0]"


async def test_graphql_sweep_flow(client, world):
    county = to_global_id("Center", world.centers["county"].id)
    data = await gql(
        client,
        world.tokens["county_staff"],
        """mutation($c: ID) { saveSweepSchedule(name: "乡镇月研判", level: "township", countyId: $c,
             form: [{key: "summary", label: "研判结论", required: true}]) { id cadence form { key } } }""",
        {"c": county},
    )
    assert data["saveSweepSchedule"]["cadence"] == "monthly"
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["county_staff"],
            'mutation { saveSweepSchedule(name: "x", level: "township", form: [{key: "a b", label: "x"}]) { id } }',
        )
    assert err.value.code == "VALIDATION" and err.value.field == "form[0].key"
    await sweeps.create_due_tasks()
    tasks = (await gql(client, world.tokens["a_staff"], "{ sweepTasks { id status centerName } }"))[
        "sweepTasks"
    ]
    assert [t["centerName"] for t in tasks] == ["甲镇综治中心"]
    recorded = await gql(
        client,
        world.tokens["a_staff"],
        """mutation($t: ID!) { recordSweep(taskId: $t, answers: {summary: "平稳"},
             findings: [{description: "工地欠薪苗头", category: "labor"}]) { status findings { index } } }""",
        {"t": tasks[0]["id"]},
    )
    assert recorded["recordSweep"]["status"] == "done"
    case = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($t: ID!) { sweepFindingToCase(taskId: $t, index: 0) { id number } }",
        {"t": tasks[0]["id"]},
    )
    assert await Case.filter(number=case["sweepFindingToCase"]["number"]).exists()
    completion = await gql(
        client,
        world.tokens["county_staff"],
        '{ sweepCompletion(start: "2000-01-01", end: "2100-01-01") { done rate } }',
    )
    # Township A recorded its sweep, township B has not yet.
    assert sorted(completion["sweepCompletion"], key=lambda r: -r["done"]) == [
        {"done": 1, "rate": 1.0},
        {"done": 0, "rate": 0.0},
    ]


async def test_required_attachment_goes_through_the_evidence_checks(client, world):
    from zongzhi.platform.models import SweepSchedule

    form = [*FORM[:3], {"key": "photo", "label": "现场照片", "kind": "text", "attachments": "required"}]
    schedule = await sweeps.save_schedule(
        await actor(world, "county_staff"), name="带照片排查", level="village", form=form
    )
    await sweeps.create_due_tasks(WEDNESDAY)
    task = await SweepTask.get(schedule_id=schedule.id, center_id=world.centers["va1"].id)
    staff = await actor(world, "a1_staff")
    answers = {"disputes": 0, "hazard": False}
    with pytest.raises(ValidationFailed) as err:
        await sweeps.record_result(staff, task.id, answers, [])
    assert err.value.field == "answers.photo"
    store = client.app.state.store
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + bytes(64)
    with pytest.raises(ValidationFailed) as err:
        await sweeps.attach_file(staff, store, task.id, "photo", "a.png", "image/png", b"MZ not an image")
    assert err.value.field == "file.contentType"
    with pytest.raises(ValidationFailed) as err:
        await sweeps.attach_file(staff, store, task.id, "note", "a.png", "image/png", png)
    assert err.value.field == "item"
    task = await sweeps.attach_file(staff, store, task.id, "photo", "a.png", "image/png", png)
    (meta,) = task.answers["_files"]["photo"]
    assert await store.head_bytes(meta["key"], meta["size"]) == png
    done = await sweeps.record_result(staff, task.id, answers, [])
    assert done.status == "done" and done.answers["_files"]["photo"][0]["sha256"] == meta["sha256"]
    assert await SweepSchedule.filter(id=schedule.id).exists()
