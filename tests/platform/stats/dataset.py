"""A fixed set of cases with hand-set times, whose every statistic is worked out by hand below.

All times are China time. March 2026 is the period under test.

| case | township | received     | path / status          | accepted   | concluded            | deadline  |
|------|----------|--------------|------------------------|------------|----------------------|-----------|
| c1   | A        | 03-02 10:00  | resolved               | +6 h       | resolved 03-04 10:00 | 03-05     |
| c2   | A        | 03-03 10:00  | failed (labor)         | +12 h      | failed 03-13 10:00   | 03-10     |
| c3   | A        | 03-05 10:00  | followed up 4★, done   | +2 h       | resolved 03-06 10:00 | none      |
| c4   | A        | 03-10 10:00  | followed up 2★, not    | +1 h       | resolved 03-13 10:00 | 03-20     |
| c5   | A        | 03-11 10:00  | rejected               |            |                      |           |
| c6   | A        | 03-12 10:00  | withdrawn              |            |                      |           |
| c7   | A        | 03-15 10:00  | handling               | +30 h      |                      | 03-20     |
| c8   | B        | 03-20 10:00  | received, high risk, escalated village → township B 03-21 |        |
| c9   | A        | 02-20 10:00  | resolved (Feb receipt) | 02-21      | resolved 03-01 07:00 | 02-25     |
| c10  | A        | 03-31 23:30  | received               |            |                      |           |
| c11  | A        | 04-01 00:00  | received (April)       |            |                      |           |
| c12  | A        | 03-16 10:00  | to 住建, returned 03-17 → assessed                  |           |

Worked out (county, March): received 10 (c1–c8, c10, c12); closure 2 / (10 − 1 rejected − 1
withdrawn) = 0.25; concluded 5 (c1, c3, c4, c9 resolved; c2 failed): resolution 4/5 = 0.8; on
time 2/4 (c1, c4 of c1, c2, c4, c9; c3 has no deadline) = 0.5; time to conclude 24, 48, 72, 213,
240 h: average 119.4, p90 = 213 + 0.6 × 27 = 229.2; time to accept 1, 2, 6, 12, 30 h: average
10.2, p90 = 12 + 0.6 × 18 = 22.8; satisfaction 2 follow-ups (4★, 2★): average 3.0, execution 1/2;
returns 住建 1; escalations 1; now: open c7, c8, c10, c11, c12 = 5, overdue c7 = 1, high risk c8 = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.casework import actor, new_case, take_to
from tests.world import World
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, Risk
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.services import cases as svc
from zongzhi.platform.stats.period import TZ


def cst(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@dataclass
class Dataset:
    cases: dict[str, Case]


async def _set_event(case: Case, event_type: str, when: datetime) -> None:
    await CaseEvent.filter(case_id=case.id, type=event_type).update(at=when)


async def _make(
    world: World,
    status: CaseStatus,
    received: datetime,
    *,
    accepted_after: float | None = None,
    concluded: datetime | None = None,
    deadline: datetime | None = None,
    grid: str = "a1g1",
    **overrides,
) -> Case:
    filer = "b1_grid" if grid == "b1g1" else "a1_grid"
    case = await new_case(world, grid=grid, filer=filer, received_at=received, **overrides)
    case = await take_to(world, case, status)
    changes: dict = {"resolve_by": deadline}
    if accepted_after is not None:
        changes["accepted_at"] = received + timedelta(hours=accepted_after)
        await _set_event(case, "case.accepted", changes["accepted_at"])
    if concluded is not None:
        changes["concluded_at"] = concluded
        await _set_event(case, "case.resolved", concluded)
        await _set_event(case, "case.failed", concluded)
    await Case.filter(id=case.id).update(**changes)
    return await Case.get(id=case.id)


async def build(world: World) -> Dataset:
    c: dict[str, Case] = {}
    S = CaseStatus
    c["c1"] = await _make(
        world, S.resolved, cst(3, 2), accepted_after=6, concluded=cst(3, 4), deadline=cst(3, 5)
    )
    c["c2"] = await _make(
        world,
        S.failed,
        cst(3, 3),
        accepted_after=12,
        concluded=cst(3, 13),
        deadline=cst(3, 10),
        category="labor",
    )
    c["c3"] = await _make(world, S.followed_up, cst(3, 5), accepted_after=2, concluded=cst(3, 6))
    await _set_event(c["c3"], "case.followed_up", cst(3, 7))
    await Case.filter(id=c["c3"].id).update(satisfaction=4, executed=True)
    c["c4"] = await _make(
        world, S.followed_up, cst(3, 10), accepted_after=1, concluded=cst(3, 13), deadline=cst(3, 20)
    )
    await _set_event(c["c4"], "case.followed_up", cst(3, 14))
    await Case.filter(id=c["c4"].id).update(satisfaction=2, executed=False)
    c["c5"] = await _make(world, S.rejected, cst(3, 11))
    c["c6"] = await _make(world, S.withdrawn, cst(3, 12))
    c["c7"] = await _make(world, S.handling, cst(3, 15), accepted_after=30, deadline=cst(3, 20))
    c["c8"] = await _make(world, S.received, cst(3, 20), grid="b1g1")
    await svc.escalate(await actor(world, "b_staff"), c["c8"].id, "事态升级")
    await _set_event(c["c8"], "case.escalated", cst(3, 21))
    await Case.filter(id=c["c8"].id).update(risk=Risk.high)
    c["c9"] = await _make(
        world, S.resolved, cst(2, 20), accepted_after=24, concluded=cst(3, 1, 7), deadline=cst(2, 25)
    )
    c["c10"] = await _make(world, S.received, cst(3, 31, 23, 30))
    c["c11"] = await _make(world, S.received, cst(4, 1, 0, 0))
    c["c12"] = await _make(world, S.assessed, cst(3, 16))
    staff = await actor(world, "a_staff")
    housing = world.departments["housing"].id
    await svc.dispatch(staff, c["c12"].id, AssignmentMode.transfer, [svc.UnitInput(department_id=housing)])
    await svc.return_case(await actor(world, "housing_officer"), c["c12"].id, "不属于本部门职责")
    await _set_event(c["c12"], "case.returned", cst(3, 17))
    for key in c:
        c[key] = await Case.get(id=c[key].id)
    return Dataset(c)
