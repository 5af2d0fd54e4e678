"""Every lifecycle step from every status: allowed ones work, the others are refused and change nothing."""

from __future__ import annotations

import pytest

from tests.casework import actor, new_case, take_to
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus
from zongzhi.platform.base.errors import InvalidTransition
from zongzhi.platform.models import Case, CaseEvent, Outbox
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import corrections
from zongzhi.platform.services.lifecycle import STEPS
from zongzhi.platform.services.people import PersonInput


async def _run(world, step: str, case: Case) -> None:
    staff = await actor(world, "a_staff")
    mediator = await actor(world, "a_mediator")
    calls = {
        "assess": lambda: svc.assess(staff, case.id),
        "reject": lambda: svc.reject(staff, case.id, "理由"),
        "dispatch": lambda: svc.dispatch(
            staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)]
        ),
        "accept": lambda: svc.accept(mediator, case.id),
        "return": lambda: svc.return_case(mediator, case.id, "不属于本单位职责"),
        "progress": lambda: svc.add_progress(mediator, case.id, "已约谈"),
        "add_assignment": lambda: svc.add_assignment(
            staff, case.id, AssignmentMode.joint, svc.UnitInput(department_id=world.departments["police"].id)
        ),
        "supervise": lambda: svc.supervise(staff, case.id, "请加快办理"),
        "resolve": lambda: svc.resolve(mediator, case.id, "达成协议"),
        "fail": lambda: svc.fail(mediator, case.id, "未达成一致"),
        "close": lambda: svc.close(staff, case.id),
        "follow_up": lambda: svc.follow_up(staff, case.id, 4, True),
        "withdraw": lambda: svc.withdraw(staff, case.id, "撤回"),
        "reopen": lambda: svc.reopen(staff, case.id, "当事人再次反映"),
        "escalate": lambda: svc.escalate(staff, case.id, "村级无法化解"),
        "route": lambda: svc.route(staff, case.id, world.centers["va2"].id),
        "flag_risk": lambda: svc.flag_risk(staff, case.id, "high", "有暴力倾向"),
        "tag": lambda: svc.tag(staff, case.id, ["重点"]),
        "set_deadline": lambda: svc.set_deadline(
            staff,
            case.id,
            resolve_by=__import__("datetime").datetime(2030, 1, 1, tzinfo=__import__("datetime").UTC),
        ),
        "update": lambda: corrections.update_case(
            staff, case.id, corrections.CaseChanges(title="更正后的标题", reason="登记有误")
        ),
        "change_party": lambda: corrections.add_party(
            staff, case.id, "other", person=PersonInput(name="证人甲"), reason="补充当事人"
        ),
    }
    assert set(calls) == set(STEPS), "every step of the state machine is exercised"
    await calls[step]()


CASES = [(step, status) for step in STEPS for status in CaseStatus]


@pytest.mark.parametrize(("step", "status"), CASES, ids=[f"{s}-from-{st.value}" for s, st in CASES])
async def test_step_from_status(world, step: str, status: CaseStatus):
    case = await take_to(world, await new_case(world), status)
    events_before = await CaseEvent.filter(case_id=case.id).count()
    outbox_before = await Outbox.all().count()
    allowed = status in STEPS[step].sources
    if allowed:
        await _run(world, step, case)
        after = await Case.get(id=case.id)
        target = STEPS[step].target
        if step == "return":
            target = CaseStatus.assessed
        assert after.status == (target or status)
        events = await CaseEvent.filter(case_id=case.id).order_by("-id").first()
        assert events.type == STEPS[step].event
        assert await Outbox.filter(event_id=events.id).count() == 1, "each event has its outbox row"
    else:
        with pytest.raises(InvalidTransition) as err:
            await _run(world, step, case)
        assert err.value.code == "INVALID_TRANSITION"
        after = await Case.get(id=case.id)
        assert after.status == status
        assert after.updated_at == case.updated_at
        assert await CaseEvent.filter(case_id=case.id).count() == events_before
        assert await Outbox.all().count() == outbox_before
