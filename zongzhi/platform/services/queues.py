"""Work queues: the cases waiting for this user, as filters the case list applies inside the jurisdiction.

Each queue is a ``Q`` on ``Case`` added to the list's filter, so a queue's page, cursor and count
are the case list's own and never leave the jurisdiction. The decision queues (assess, dispatch,
close, follow up) hold the cases owned by the user's own center, for the roles that take that step.
"""

from __future__ import annotations

import enum

from tortoise.expressions import Q, Subquery

from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import NOTHING
from zongzhi.platform.models import Assignment, Whistle
from zongzhi.platform.services.lifecycle import CENTER_STAFF, CONCLUDED, STEPS


class WorkQueue(enum.Enum):
    MINE = "mine"
    DEPARTMENT = "department"
    WHISTLES = "whistles"
    TO_ASSESS = "to_assess"
    TO_DISPATCH = "to_dispatch"
    TO_CLOSE = "to_close"
    TO_FOLLOW_UP = "to_follow_up"


LABELS = {
    WorkQueue.MINE: "我的案件",
    WorkQueue.DEPARTMENT: "本部门案件",
    WorkQueue.WHISTLES: "待报到的吹哨",
    WorkQueue.TO_ASSESS: "待研判",
    WorkQueue.TO_DISPATCH: "待分流",
    WorkQueue.TO_CLOSE: "待办结",
    WorkQueue.TO_FOLLOW_UP: "待回访",
}

#: The decision queues: the lifecycle step each waits for, and the roles that take it (the table's).
DECISIONS = {
    queue: (step, STEPS[step].roles)
    for queue, step in {
        WorkQueue.TO_ASSESS: "assess",
        WorkQueue.TO_DISPATCH: "dispatch",
        WorkQueue.TO_CLOSE: "close",
        WorkQueue.TO_FOLLOW_UP: "follow_up",
    }.items()
}
#: The status a decision queue holds (dispatch is also allowed from received, but waits after 研判).
WAITING = {
    WorkQueue.TO_ASSESS: [CaseStatus.received],
    WorkQueue.TO_DISPATCH: [CaseStatus.assessed],
    WorkQueue.TO_CLOSE: sorted(CONCLUDED, key=str),
    WorkQueue.TO_FOLLOW_UP: sorted(STEPS["follow_up"].sources, key=str),
}


def _active(**by) -> Subquery:
    return Subquery(Assignment.filter(returned_at=None, finished_at=None, **by).values("case_id"))


def queue_q(actor: Actor, queue: WorkQueue) -> Q:
    """The cases of ``queue`` for ``actor`` (the caller adds the jurisdiction)."""
    if queue is WorkQueue.MINE:
        return Q(id__in=_active(user_id=actor.user_id)) if actor.user_id else NOTHING
    if queue is WorkQueue.DEPARTMENT:
        return Q(id__in=_active(department_id=actor.department_id)) if actor.department_id else NOTHING
    if queue is WorkQueue.WHISTLES:
        if not actor.department_id:
            return NOTHING
        open_ = Whistle.filter(department_id=actor.department_id, answered_at=None).values("case_id")
        return Q(id__in=Subquery(open_))
    _, roles = DECISIONS[queue]
    if not actor.has(*roles):
        return NOTHING
    waiting = Q(status__in=WAITING[queue])
    if actor.center_id and actor.has(*CENTER_STAFF):
        return waiting & Q(center_id=actor.center_id)
    if actor.grid_ids:
        return waiting & Q(grid_id__in=sorted(actor.grid_ids))
    if actor.user_id:
        return waiting & Q(id__in=Subquery(Assignment.filter(user_id=actor.user_id).values("case_id")))
    return NOTHING
