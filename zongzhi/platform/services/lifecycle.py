"""The case lifecycle as one table: each step's statuses, and who may take it.

received → assessed → dispatched → handling → resolved | failed → closed → followed_up, plus
reject, return (退回), withdraw and reopen. Steps that do not change the status (progress notes,
supervision, joint assignment, rule effects) list the statuses they are allowed in.

Each step also says who may take it: the roles it needs and the actor's standing on the case it
needs (``Scope``). The services ask this table (``require_roles`` before they read their input,
``case_access.require_step`` once the case is loaded) and ``allowedActions`` reads it through
``refusal``, so the buttons a front end shows and the services can never disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from zongzhi.platform.base.codes import CaseStatus as S
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden, InvalidTransition, ServiceError
from zongzhi.platform.domain.actor import Actor

OPEN = frozenset({S.received, S.assessed, S.dispatched, S.handling})
CONCLUDED = frozenset({S.resolved, S.failed})
FINISHED = frozenset({S.rejected, S.closed, S.followed_up, S.withdrawn})

#: The staff of a center: they decide on the cases their center's subtree owns.
CENTER_STAFF = (Role.staff, Role.leader, Role.admin)
#: The same three roles, named leader first where the practice gives the step to leadership.
LEADS = (Role.leader, Role.staff, Role.admin)


class Scope(enum.Enum):
    """The actor's standing on the case a step needs, beyond its roles.

    Every step works only on a case inside the actor's jurisdiction (the services load it through
    ``scoped_cases``); the scope narrows that further.
    """

    #: Any case the actor can see: the roles decide.
    JURISDICTION = "jurisdiction"
    #: The unit holding an active assignment on the case (a user, their department, or staff or a
    #: mediator of the assigned center's subtree), and no one else.
    ASSIGNEE = "assignee"
    #: The assignee, or center staff whose subtree owns the case.
    HANDLER = "handler"
    #: A handler, or a department summoned to the case by an open whistle (吹哨报到).
    HANDLER_OR_SUMMONED = "handler_or_summoned"


@dataclass(frozen=True)
class Step:
    name: str
    sources: frozenset[S]
    target: S | None  # None: the status stays as it is
    event: str
    label: str  # the step's Chinese name, for allowedActions
    mutation: str  # the GraphQL mutation that takes it
    doing: str  # what the step is, in the English of a refusal ("closing (办结)")
    roles: tuple[Role, ...] = ()  # any one of them; () needs no role (the scope decides)
    scope: Scope = Scope.JURISDICTION


STEPS: dict[str, Step] = {
    s.name: s
    for s in [
        Step("assess", frozenset({S.received}), S.assessed, "case.assessed",
             "分析研判", "assessCase", "assessment", CENTER_STAFF),
        Step("reject", frozenset({S.received, S.assessed}), S.rejected, "case.rejected",
             "不予受理", "rejectCase", "rejecting a case", CENTER_STAFF),
        Step("dispatch", frozenset({S.received, S.assessed}), S.dispatched, "case.dispatched",
             "分流转办", "dispatchCase", "dispatch", CENTER_STAFF),
        Step("accept", frozenset({S.dispatched}), S.handling, "case.accepted",
             "接收", "acceptCase", "accepting a case", scope=Scope.ASSIGNEE),
        Step("return", frozenset({S.dispatched, S.handling}), S.assessed, "case.returned",
             "退回", "returnCase", "returning a case", scope=Scope.ASSIGNEE),
        Step("progress", frozenset({S.dispatched, S.handling}), None, "case.progress",
             "办理进展", "addCaseProgress", "recording progress", scope=Scope.HANDLER_OR_SUMMONED),
        Step("add_assignment", frozenset({S.dispatched, S.handling}), None, "case.assigned",
             "增加承办单位", "addCaseAssignment", "adding a unit", CENTER_STAFF),
        Step("supervise", OPEN | CONCLUDED, None, "case.supervised",
             "督办", "superviseCase", "supervision (督办)", LEADS),
        Step("resolve", frozenset({S.handling}), S.resolved, "case.resolved",
             "调处成功", "resolveCase", "resolving", scope=Scope.HANDLER),
        Step("fail", frozenset({S.handling}), S.failed, "case.failed",
             "调处失败", "failCase", "recording a failed mediation", scope=Scope.HANDLER),
        Step("close", CONCLUDED, S.closed, "case.closed",
             "办结归档", "closeCase", "closing (办结)", CENTER_STAFF),
        Step("follow_up", frozenset({S.closed}), S.followed_up, "case.followed_up",
             "回访", "followUpCase", "follow-up (回访)", (*CENTER_STAFF, Role.grid_worker, Role.mediator)),
        Step("withdraw", OPEN, S.withdrawn, "case.withdrawn",
             "撤回", "withdrawCase", "withdrawal", CENTER_STAFF),
        Step("reopen", CONCLUDED | FINISHED, S.received, "case.reopened",
             "重新办理", "reopenCase", "reopening", LEADS),
        Step("escalate", OPEN, None, "case.escalated",
             "上报", "escalateCase", "escalation", CENTER_STAFF),
        Step("route", frozenset({S.received, S.assessed}), None, "case.routed",
             "属地流转", "routeCase", "routing", CENTER_STAFF),
        Step("flag_risk", OPEN | CONCLUDED, None, "case.risk_flagged",
             "风险标记", "flagCaseRisk", "flagging risk", (*CENTER_STAFF, Role.mediator)),
        Step("tag", OPEN | CONCLUDED | FINISHED, None, "case.tagged",
             "标签", "tagCase", "tagging", (*CENTER_STAFF, Role.mediator)),
        Step("set_deadline", OPEN, None, "case.deadline_set",
             "设定期限", "setCaseDeadline", "setting deadlines", CENTER_STAFF),
        Step("update", OPEN | CONCLUDED, None, "case.updated",
             "更正案件信息", "updateCase", "correcting a case", CENTER_STAFF),
        Step("change_party", OPEN | CONCLUDED, None, "case.party_added",
             "增减当事人", "addCaseParty", "changing the parties", CENTER_STAFF),
    ]
}  # fmt: skip


@dataclass(frozen=True)
class Standing:
    """The actor's standing on one case, as the scopes ask for it (loaded by ``case_access``)."""

    holding: bool  # holds one of the case's active assignments
    staff_here: bool  # center staff whose subtree owns the case
    summoned: bool  # their department has an open whistle on the case


@dataclass(frozen=True)
class Refusal:
    """Why a step is refused: the error a service raises and the reason ``allowedActions`` shows."""

    error: ServiceError
    reason: str


def _status_refusal(step: Step, status: S) -> Refusal:
    allowed = ", ".join(sorted(s.value for s in step.sources))
    froms = "、".join(s.label for s in sorted(step.sources, key=list(S).index))
    return Refusal(
        InvalidTransition(
            f"cannot {step.name.replace('_', ' ')} a case that is {status.value} (allowed from: {allowed})",
            details={"status": status.value, "step": step.name},
        ),
        f"案件当前为「{status.label}」，此操作仅适用于：{froms}",
    )


def _role_refusal(step: Step, actor: Actor) -> Refusal | None:
    if not step.roles or actor.has(*step.roles):
        return None
    return Refusal(
        Forbidden(f"{step.doing} needs one of the roles: {', '.join(r.value for r in step.roles)}"),
        "需要角色：" + "、".join(r.label for r in step.roles),
    )


def _scope_refusal(step: Step, standing: Standing) -> Refusal | None:
    if step.scope is Scope.JURISDICTION or standing.holding:
        return None
    if step.scope is Scope.ASSIGNEE:
        return Refusal(
            Forbidden(f"{step.doing} is only for the unit the case is assigned to"), "仅限案件承办单位"
        )
    if standing.staff_here or (step.scope is Scope.HANDLER_OR_SUMMONED and standing.summoned):
        return None
    return Refusal(
        Forbidden(f"{step.doing} is for the unit the case is assigned to"),
        "仅限案件承办单位或本级综治中心工作人员",
    )


def refusal(step_name: str, actor: Actor, status: S | str, standing: Standing) -> Refusal | None:
    """Why ``actor`` may not take the step on a case in ``status`` with ``standing``; ``None`` if they may.

    Checked in order: the status, the roles, the scope.
    """
    step = STEPS[step_name]
    status = S(status)
    if status not in step.sources:
        return _status_refusal(step, status)
    return _role_refusal(step, actor) or _scope_refusal(step, standing)


def check(step_name: str, status: S | str) -> Step:
    """The step, if it may leave ``status``; ``INVALID_TRANSITION`` otherwise."""
    step = STEPS[step_name]
    status = S(status)
    if status not in step.sources:
        raise _status_refusal(step, status).error
    return step


def require_roles(actor: Actor, step_name: str) -> None:
    """``FORBIDDEN`` unless the actor holds one of the step's roles.

    Services call it first, before they read their input or the case, so a caller without the role
    learns that and nothing else.
    """
    refused = _role_refusal(STEPS[step_name], actor)
    if refused is not None:
        raise refused.error
