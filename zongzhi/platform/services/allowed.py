"""Which lifecycle steps a user may take on a case now, and why the others are unavailable.

Read from the same table the services check (``lifecycle.STEPS``), the same roles they require
(``ROLES``) and the same handler rule (the unit the case is assigned to, or center staff of the
owning subtree), so a front end can show the buttons without hard-coding the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from zongzhi.platform.base.codes import CaseStatus, Role
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope
from zongzhi.platform.models import Assignment, Case, Center
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.lifecycle import STEPS

_STAFF = svc.CENTER_STAFF
_LEADS = (Role.leader, Role.staff, Role.admin)

#: The roles each step requires (``None``: decided by holding the case, see ``HANDLED``).
ROLES: dict[str, tuple[Role, ...] | None] = {
    "assess": _STAFF,
    "reject": _STAFF,
    "dispatch": _STAFF,
    "accept": None,
    "return": None,
    "progress": None,
    "add_assignment": _STAFF,
    "supervise": _LEADS,
    "resolve": None,
    "fail": None,
    "close": _STAFF,
    "follow_up": (*_STAFF, Role.grid_worker, Role.mediator),
    "withdraw": _STAFF,
    "reopen": _LEADS,
    "escalate": _STAFF,
    "route": _STAFF,
    "flag_risk": (*_STAFF, Role.mediator),
    "tag": (*_STAFF, Role.mediator),
    "set_deadline": _STAFF,
    "update": _STAFF,
    "change_party": _STAFF,
}
#: Steps for the unit holding the case only (no center-staff override), as the services check.
ASSIGNEE_ONLY = frozenset({"accept", "return"})

LABELS = {
    "assess": "分析研判",
    "reject": "不予受理",
    "dispatch": "分流转办",
    "accept": "接收",
    "return": "退回",
    "progress": "办理进展",
    "add_assignment": "增加承办单位",
    "supervise": "督办",
    "resolve": "调处成功",
    "fail": "调处失败",
    "close": "办结归档",
    "follow_up": "回访",
    "withdraw": "撤回",
    "reopen": "重新办理",
    "escalate": "上报",
    "route": "属地流转",
    "flag_risk": "风险标记",
    "tag": "标签",
    "set_deadline": "设定期限",
    "update": "更正案件信息",
    "change_party": "增减当事人",
}
#: The GraphQL mutation that takes each step.
MUTATIONS = {
    "assess": "assessCase",
    "reject": "rejectCase",
    "dispatch": "dispatchCase",
    "accept": "acceptCase",
    "return": "returnCase",
    "progress": "addCaseProgress",
    "add_assignment": "addCaseAssignment",
    "supervise": "superviseCase",
    "resolve": "resolveCase",
    "fail": "failCase",
    "close": "closeCase",
    "follow_up": "followUpCase",
    "withdraw": "withdrawCase",
    "reopen": "reopenCase",
    "escalate": "escalateCase",
    "route": "routeCase",
    "flag_risk": "flagCaseRisk",
    "tag": "tagCase",
    "set_deadline": "setCaseDeadline",
    "update": "updateCase",
    "change_party": "addCaseParty",
}


@dataclass(frozen=True)
class Allowed:
    step: str
    allowed: bool
    reason: str | None  # why not, when not


async def allowed_actions(actor: Actor, case: Case) -> list[Allowed]:
    """Every step of the lifecycle table, in its order, for ``actor`` on ``case`` now."""
    active = await svc._active_assignments(case)
    center_ids = [a.center_id for a in active if a.center_id]
    paths = dict(await Center.filter(id__in=center_ids).values_list("id", "path")) if center_ids else {}
    return decide(actor, case, active, paths, await svc.summoned_now(actor, case.id))


def decide(
    actor: Actor, case: Case, active: list[Assignment], center_paths: dict[int, str], summoned: bool
) -> list[Allowed]:
    """``allowed_actions`` from what is already loaded: the case's active assignments, the paths of
    the centers they name and whether the actor's department has an open whistle on the case (the
    GraphQL field loads these in batches for a whole page)."""
    status = CaseStatus(case.status)
    holding = any(svc._holds(actor, a, center_paths) for a in active)
    staff_here = actor.has(*_STAFF) and center_in_scope(actor, case.center_path)
    out = []
    for name, step in STEPS.items():
        reason = None
        roles = ROLES[name]
        if status not in step.sources:
            froms = "、".join(CaseStatus(s).label for s in sorted(step.sources, key=list(CaseStatus).index))
            reason = f"案件当前为「{status.label}」，此操作仅适用于：{froms}"
        elif roles is not None and not actor.has(*roles):
            reason = "需要角色：" + "、".join(Role(r).label for r in roles)
        elif name in ASSIGNEE_ONLY and not holding:
            reason = "仅限案件承办单位"
        elif roles is None and not holding and not staff_here and not (name == "progress" and summoned):
            reason = "仅限案件承办单位或本级综治中心工作人员"
        out.append(Allowed(step=name, allowed=reason is None, reason=reason))
    return out
