"""GraphQL enums made from the code lists; each value's description is its Chinese label."""

from __future__ import annotations

import strawberry

from zongzhi.platform.base import codes


def _labelled(cls: type[codes.LabelledEnum], description: str):
    gql = strawberry.enum(cls, description=description, graphql_name_from="value")
    definition = gql.__strawberry_definition__
    for value in definition.values:
        value.description = cls(value.value).label
    return gql


CaseStatus = _labelled(codes.CaseStatus, "Where a case stands in its lifecycle (案件状态).")
Risk = _labelled(codes.Risk, "Risk of escalation, e.g. a civil dispute turning violent (民转刑).")
Role = _labelled(codes.Role, "What an account may do.")
CenterLevel = _labelled(codes.CenterLevel, "The administrative level of a center.")
Residence = _labelled(codes.Residence, "How a department is present at a center.")
AssignmentMode = _labelled(codes.AssignmentMode, "How a unit takes a case: 自办, 转办, 联办 or 督办.")
UnitKind = _labelled(codes.UnitKind, "What kind of unit an assignment names.")
PartyRole = _labelled(codes.PartyRole, "A party's role in a case.")
FollowUpMethod = _labelled(codes.FollowUpMethod, "How a follow-up (回访) was made.")


def _work_queue():
    from zongzhi.platform.services import queues

    gql = strawberry.enum(
        queues.WorkQueue, description="A work queue: the cases waiting for the signed-in user."
    )
    for value in gql.__strawberry_definition__.values:
        value.description = queues.LABELS[queues.WorkQueue(value.value)]
    return gql


WorkQueue = _work_queue()
