"""Driving cases through the services in tests: make one, and take it to any status."""

from __future__ import annotations

from tests.world import World
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, PartyRole
from zongzhi.platform.domain.actor import Actor, actor_for_user
from zongzhi.platform.models import Case
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.people import PersonInput

PATHS: dict[CaseStatus, list[str]] = {
    CaseStatus.received: [],
    CaseStatus.assessed: ["assess"],
    CaseStatus.rejected: ["assess", "reject"],
    CaseStatus.dispatched: ["assess", "dispatch"],
    CaseStatus.handling: ["assess", "dispatch", "accept"],
    CaseStatus.resolved: ["assess", "dispatch", "accept", "resolve"],
    CaseStatus.failed: ["assess", "dispatch", "accept", "fail"],
    CaseStatus.closed: ["assess", "dispatch", "accept", "resolve", "close"],
    CaseStatus.followed_up: ["assess", "dispatch", "accept", "resolve", "close", "follow_up"],
    CaseStatus.withdrawn: ["withdraw"],
}


async def actor(world: World, username: str) -> Actor:
    return await actor_for_user(world.users[username])


async def new_case(world: World, grid: str = "a1g1", filer: str = "a1_grid", **overrides) -> Case:
    data = svc.CaseInput(
        title=overrides.pop("title", "楼上漏水"),
        category=overrides.pop("category", "neighbor"),
        channel=overrides.pop("channel", "grid"),
        grid_id=world.grids[grid].id,
        parties=[svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name="张三"))],
        **overrides,
    )
    case, _ = await svc.intake(data, await actor(world, filer))
    return case


async def take_to(world: World, case: Case, status: CaseStatus, staff: str = "a_staff") -> Case:
    """Walk ``case`` to ``status`` through the services, as township A's staff and mediator."""
    s = await actor(world, staff)
    mediator = await actor(world, "a_mediator")
    for step in PATHS[status]:
        if step == "assess":
            await svc.assess(s, case.id)
        elif step == "reject":
            await svc.reject(s, case.id, "不属于受理范围")
        elif step == "dispatch":
            await svc.dispatch(
                s, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)]
            )
        elif step == "accept":
            await svc.accept(mediator, case.id)
        elif step == "resolve":
            await svc.resolve(mediator, case.id, "达成协议", "协议书", 1200)
        elif step == "fail":
            await svc.fail(mediator, case.id, "未达成一致", "litigation")
        elif step == "close":
            await svc.close(s, case.id)
        elif step == "follow_up":
            await svc.follow_up(s, case.id, 5, True)
        elif step == "withdraw":
            await svc.withdraw(s, case.id, "当事人撤回")
    return await Case.get(id=case.id)
