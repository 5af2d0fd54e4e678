"""Statistics and the report gain sweep completion, the assessment ranking and mediators' figures."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.casework import actor, new_case, take_to
from tests.gql import gql
from zongzhi.platform import reports
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.models import SweepTask
from zongzhi.platform.services import sweeps
from zongzhi.platform.stats.period import TZ, month
from zongzhi.platform.stats.practices import practice_figures
from zongzhi.platform.stats.scope import scope_of_center

FORM = [{"key": "ok", "label": "是否平稳", "kind": "boolean", "required": True}]


async def _month_with_practices(world):
    today = datetime.now(UTC).astimezone(TZ)
    await sweeps.save_schedule(
        await actor(world, "county_staff"), name="村级月排查", level="village", cadence="monthly", form=FORM
    )
    await sweeps.create_due_tasks()
    task = await SweepTask.get(center_id=world.centers["va1"].id)
    await sweeps.record_result(await actor(world, "a1_staff"), task.id, {"ok": True}, [])
    await take_to(world, await new_case(world), CaseStatus.followed_up)
    return month(today.year, today.month)


async def test_practice_figures(world):
    period = await _month_with_practices(world)
    figures = await practice_figures(await scope_of_center(world.centers["county"]), period)
    assert (figures.sweep_tasks, figures.sweep_done) == (3, 1)
    assert figures.people[0].name == "a_mediator" and figures.people[0].center_score == 4
    (mediator,) = figures.mediators
    assert (mediator.name, mediator.figures.concluded, mediator.figures.success_rate) == (
        "a_mediator",
        1,
        1.0,
    )
    report = await reports.build_report(await scope_of_center(world.centers["county"]), period)
    text = reports.render(report, "md").decode()
    for section in ("排查完成率 Sweep completion", "积分排名 Assessment ranking", "调解员 Mediators"):
        assert f"## {section}" in text
    assert "| 甲一村 | " in text and "100.0%" in text
    assert "排查完成率 Sweep completion" in reports.render(report, "csv").decode("utf-8-sig")


async def test_statistics_field(client, world):
    period = await _month_with_practices(world)
    data = await gql(
        client,
        world.tokens["a_staff"],
        """query($p: String) { statistics(period: $p) { practices { sweepTasks sweepDone
             topPeople { name centerScore } mediators { name concluded successRate } } } }""",
        {"p": period.label},
    )
    p = data["statistics"]["practices"]
    # Township A's subtree: its two villages' tasks, one recorded.
    assert (p["sweepTasks"], p["sweepDone"]) == (2, 1)
    assert p["topPeople"] == [{"name": "a_mediator", "centerScore": 4.0}]
    assert p["mediators"] == [{"name": "a_mediator", "concluded": 1, "successRate": 1.0}]
