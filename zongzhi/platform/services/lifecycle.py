"""The case lifecycle as an explicit table: which step may leave which status, and for where.

received → assessed → dispatched → handling → resolved | failed → closed → followed_up, plus
reject, return (退回), withdraw and reopen. Steps that do not change the status (progress notes,
supervision, joint assignment, rule effects) list the statuses they are allowed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from zongzhi.platform.base.codes import CaseStatus as S
from zongzhi.platform.base.errors import InvalidTransition

OPEN = frozenset({S.received, S.assessed, S.dispatched, S.handling})
CONCLUDED = frozenset({S.resolved, S.failed})
FINISHED = frozenset({S.rejected, S.closed, S.followed_up, S.withdrawn})


@dataclass(frozen=True)
class Step:
    name: str
    sources: frozenset[S]
    target: S | None  # None: the status stays as it is
    event: str


STEPS: dict[str, Step] = {
    s.name: s
    for s in [
        Step("assess", frozenset({S.received}), S.assessed, "case.assessed"),
        Step("reject", frozenset({S.received, S.assessed}), S.rejected, "case.rejected"),
        Step("dispatch", frozenset({S.received, S.assessed}), S.dispatched, "case.dispatched"),
        Step("accept", frozenset({S.dispatched}), S.handling, "case.accepted"),
        Step("return", frozenset({S.dispatched, S.handling}), S.assessed, "case.returned"),
        Step("progress", frozenset({S.dispatched, S.handling}), None, "case.progress"),
        Step("add_assignment", frozenset({S.dispatched, S.handling}), None, "case.assigned"),
        Step("supervise", OPEN | CONCLUDED, None, "case.supervised"),
        Step("resolve", frozenset({S.handling}), S.resolved, "case.resolved"),
        Step("fail", frozenset({S.handling}), S.failed, "case.failed"),
        Step("close", CONCLUDED, S.closed, "case.closed"),
        Step("follow_up", frozenset({S.closed}), S.followed_up, "case.followed_up"),
        Step("withdraw", OPEN, S.withdrawn, "case.withdrawn"),
        Step("reopen", CONCLUDED | FINISHED, S.received, "case.reopened"),
        Step("escalate", OPEN, None, "case.escalated"),
        Step("route", frozenset({S.received, S.assessed}), None, "case.routed"),
        Step("flag_risk", OPEN | CONCLUDED, None, "case.risk_flagged"),
        Step("tag", OPEN | CONCLUDED | FINISHED, None, "case.tagged"),
        Step("set_deadline", OPEN, None, "case.deadline_set"),
        Step("update", OPEN | CONCLUDED, None, "case.updated"),
        Step("change_party", OPEN | CONCLUDED, None, "case.party_added"),
    ]
}


def check(step_name: str, status: S | str) -> Step:
    step = STEPS[step_name]
    status = S(status)
    if status not in step.sources:
        allowed = ", ".join(sorted(s.value for s in step.sources))
        raise InvalidTransition(
            f"cannot {step_name.replace('_', ' ')} a case that is {status.value} (allowed from: {allowed})",
            details={"status": status.value, "step": step_name},
        )
    return step
