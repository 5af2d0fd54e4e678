"""Walk the lifecycle table: for every step and every role, the service refuses exactly when the
table says so, and ``allowedActions`` agrees.

``test_lifecycle`` walks the statuses (each step from every status, by an actor who may take it);
this walks the people: one user of each role at township A's center, the mediator who holds the
case's assignment, a department summoned to the case by a whistle (吹哨报到) and the staff of the
other township, each trying each step on a case in a status the step may leave.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.casework import PATHS, actor, new_case, take_to
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, Role
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.domain.actor import Actor, actor_for_user
from zongzhi.platform.domain.jurisdiction import can_see_case
from zongzhi.platform.models import Case, CaseEvent, Outbox, Whistle
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import corrections
from zongzhi.platform.services.accounts import create_user
from zongzhi.platform.services.allowed import allowed_actions
from zongzhi.platform.services.case_access import standing
from zongzhi.platform.services.lifecycle import STEPS, Scope, refusal
from zongzhi.platform.services.people import PersonInput


def _call(step: str, who: Actor, case_id: int, world):
    """The service call that takes ``step`` (valid input, so only the permission can refuse it)."""
    calls = {
        "assess": lambda: svc.assess(who, case_id),
        "reject": lambda: svc.reject(who, case_id, "理由"),
        "dispatch": lambda: svc.dispatch(
            who, case_id, AssignmentMode.self_handle, [svc.UnitInput(user_id=world.users["a_mediator"].id)]
        ),
        "accept": lambda: svc.accept(who, case_id),
        "return": lambda: svc.return_case(who, case_id, "不属于本单位职责"),
        "progress": lambda: svc.add_progress(who, case_id, "已约谈"),
        "add_assignment": lambda: svc.add_assignment(
            who, case_id, AssignmentMode.joint, svc.UnitInput(department_id=world.departments["police"].id)
        ),
        "supervise": lambda: svc.supervise(who, case_id, "请加快办理"),
        "resolve": lambda: svc.resolve(who, case_id, "达成协议"),
        "fail": lambda: svc.fail(who, case_id, "未达成一致"),
        "close": lambda: svc.close(who, case_id),
        "follow_up": lambda: svc.follow_up(who, case_id, 4, True),
        "withdraw": lambda: svc.withdraw(who, case_id, "撤回"),
        "reopen": lambda: svc.reopen(who, case_id, "当事人再次反映"),
        "escalate": lambda: svc.escalate(who, case_id, "村级无法化解"),
        "route": lambda: svc.route(who, case_id, world.centers["va2"].id),
        "flag_risk": lambda: svc.flag_risk(who, case_id, "high", "有暴力倾向"),
        "tag": lambda: svc.tag(who, case_id, ["重点"]),
        "set_deadline": lambda: svc.set_deadline(who, case_id, resolve_by=datetime(2030, 1, 1, tzinfo=UTC)),
        "update": lambda: corrections.update_case(
            who, case_id, corrections.CaseChanges(title="更正后的标题", reason="登记有误")
        ),
        "change_party": lambda: corrections.add_party(
            who, case_id, "other", person=PersonInput(name="证人甲"), reason="补充当事人"
        ),
    }
    assert set(calls) == set(STEPS), "every step of the table is walked"
    return calls[step]()


async def _people(world) -> dict[str, Actor]:
    """One user of each role at township A's center, and the three whose standing is not a role."""
    people = {}
    for role in Role:
        user = await create_user(
            f"walk_{role.value}",
            f"walk_{role.value}",
            [role.value],
            center=world.centers["ta"],
            plugin="court_docking" if role is Role.partner else None,
        )
        people[role.value] = await actor_for_user(user)
    people["assignee"] = await actor(world, "a_mediator")
    people["summoned"] = await actor(world, "housing_officer")
    people["other_township"] = await actor(world, "b_staff")
    return people


def _from(step: str) -> CaseStatus:
    """A status the step may leave (the earliest on the casework paths)."""
    return next(status for status in PATHS if status in STEPS[step].sources)


async def _prepared(world, status: CaseStatus) -> Case:
    """A case in ``status``, assigned to the mediator, with the housing bureau summoned to it."""
    case = await take_to(world, await new_case(world), status)
    await Whistle.create(
        case_id=case.id, department=world.departments["housing"], due=datetime.now(UTC) + timedelta(days=1)
    )
    return case


async def _written(case_id: int) -> tuple:
    case = await Case.get(id=case_id)
    return case.status, case.updated_at, await CaseEvent.filter(case_id=case_id).count(), await Outbox.all().count()


@pytest.mark.parametrize("step", list(STEPS))
async def test_the_service_refuses_exactly_when_the_table_says_so(world, step: str):
    status = _from(step)
    shared = await _prepared(world, status)
    taken = set()
    for name, who in (await _people(world)).items():
        visible = await can_see_case(who, shared.id)
        refused = refusal(step, who, status, await standing(who, shared))
        if visible:
            offered = {a.step: a for a in await allowed_actions(who, shared)}[step]
            assert offered.allowed == (refused is None), f"allowedActions and the table disagree for {name}"
            assert offered.reason == (refused.reason if refused else None)
        if refused is None and visible:
            case = await _prepared(world, status)
            await _call(step, who, case.id, world)
            target = STEPS[step].target or status
            assert (await Case.get(id=case.id)).status == target, f"{name} took {step}"
            taken.add(name)
            continue
        before = await _written(shared.id)
        with pytest.raises(ServiceError) as err:
            await _call(step, who, shared.id, world)
        lacks_role = bool(STEPS[step].roles) and not who.has(*STEPS[step].roles)
        # The roles are checked before the case is read: outside the jurisdiction, NOT_FOUND.
        expected = refused.error.code if visible else "FORBIDDEN" if lacks_role else "NOT_FOUND"
        assert err.value.code == expected, f"{name} on {step}: {err.value.message}"
        assert await _written(shared.id) == before, f"a refused {step} by {name} wrote nothing"
    step_ = STEPS[step]
    if step_.roles:
        assert {str(r) for r in step_.roles} <= taken, "every role the table names takes the step"
    if step_.scope is not Scope.JURISDICTION:
        assert "assignee" in taken, "the unit holding the case takes its steps"


#: A few cells of the table as the practice states them, so a wrong table fails here too.
PRACTICE = [
    ("follow_up", "grid_worker", True),  # 网格员回访
    ("flag_risk", "mediator", True),
    ("assess", "mediator", False),  # 研判 is the center's
    ("accept", "staff", False),  # only the assigned unit accepts, not the center above it
    ("resolve", "staff", True),  # center staff may record the outcome for the handler
    ("progress", "summoned", True),  # a summoned department notes its progress
    ("resolve", "summoned", False),
    ("reopen", "leader", True),
    ("close", "auditor", False),
]


@pytest.mark.parametrize(("step", "who", "may"), PRACTICE, ids=[f"{s}-{w}" for s, w, _ in PRACTICE])
async def test_the_table_says_what_the_practice_says(world, step: str, who: str, may: bool):
    case = await _prepared(world, _from(step))
    person = (await _people(world))[who]
    assert (refusal(step, person, case.status, await standing(person, case)) is None) == may
