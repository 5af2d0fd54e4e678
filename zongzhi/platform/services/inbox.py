"""The inbox: notifications to a user, or to everyone with a role at a center.

Written in the transaction of the event that caused them: the rule action ``notify`` and the
platform's own alerts (``ALERTS``: overdue, supervision, whistle, returned case), which
``outbox.record_event`` hands to ``alert_for``. A notification about a case is shown only to those
who can see that case now (``inbox_of``), so an inbox never shows what its owner may not see.
A notification to a role is read by each of its users on their own (``NotificationRead``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import NotFound
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Assignment, Case, CaseEvent, Notification, NotificationRead, User, Whistle

#: Inbox kinds with their labels (the stable code first).
KINDS = {
    "rule": "规则提醒",
    "overdue": "超期",
    "supervision": "督办",
    "whistle": "吹哨报到",
    "returned": "退回",
}


def inbox_of(actor: Actor) -> QuerySet:
    """The actor's notifications: to them or their role at their center, about cases they can see."""
    from zongzhi.platform.domain.jurisdiction import visible

    return visible(actor, Notification)


def unread(query: QuerySet, actor: Actor) -> QuerySet:
    mine_read = Subquery(NotificationRead.filter(user_id=actor.user_id).values("notification_id"))
    return query.filter(Q(user_id=actor.user_id, read_at=None) | Q(user_id=None, id__not_in=mine_read))


async def mark_read(actor: Actor, notification_id: int) -> Notification:
    row = await inbox_of(actor).filter(id=notification_id).first()
    if row is None:
        raise NotFound(f"no notification {notification_id} in your inbox", field="id")
    await _mark([row], actor)
    return row


async def mark_all_read(actor: Actor) -> int:
    rows = await unread(inbox_of(actor), actor)
    await _mark(rows, actor)
    return len(rows)


async def _mark(rows: list[Notification], actor: Actor) -> None:
    now = datetime.now(UTC)
    own = [r.id for r in rows if r.user_id is not None and r.read_at is None]
    if own:
        await Notification.filter(id__in=own, read_at=None).update(read_at=now)
    for r in rows:
        if r.user_id is None:
            await NotificationRead.get_or_create(notification_id=r.id, user_id=actor.user_id)
        elif r.read_at is None:
            r.read_at = now


# --- the platform's own alerts ------------------------------------------------------------------


async def _assignee_users(case_id: int) -> set[int]:
    """The people handling a case: assigned users and the active users of assigned departments."""
    active = await Assignment.filter(case_id=case_id, returned_at=None, finished_at=None)
    users = {a.user_id for a in active if a.user_id}
    departments = [a.department_id for a in active if a.department_id]
    if departments:
        users |= set(
            await User.filter(department_id__in=departments, active=True).values_list("id", flat=True)
        )
    return users


async def _to_users(case: Case, kind: str, message: str, user_ids: set[int]) -> None:
    for uid in sorted(user_ids):
        await Notification.create(case_id=case.id, user_id=uid, kind=kind, message=message)


async def _to_role(case: Case, kind: str, message: str, role: Role) -> None:
    await Notification.create(
        case_id=case.id, role=str(role), center_id=case.center_id, kind=kind, message=message
    )


async def alert_for(case: Case, event: CaseEvent) -> None:
    """Write the inbox rows a platform event calls for (inside the event's transaction)."""
    head = f"{case.number} {case.title}"
    if event.type == "case.overdue":
        await _to_role(case, "overdue", f"{head}：已超期未办结", Role.leader)
        await _to_users(case, "overdue", f"{head}：已超期未办结", await _assignee_users(case.id))
    elif event.type == "case.supervised":
        note = event.payload.get("note", "")
        handlers = await _assignee_users(case.id)
        if handlers:
            await _to_users(case, "supervision", f"{head}：督办 {note}".strip(), handlers)
        else:
            await _to_role(case, "supervision", f"{head}：督办 {note}".strip(), Role.staff)
    elif event.type == "case.whistle":
        codes = event.payload.get("departments", [])
        rows = Whistle.filter(case_id=case.id, department__code__in=codes).values("department_id")
        users = await User.filter(department_id__in=Subquery(rows), active=True).values_list("id", flat=True)
        await _to_users(
            case, "whistle", f"{head}：吹哨报到，请于 {event.payload.get('due', '')} 前报到", set(users)
        )
    elif event.type == "case.returned":
        reason = event.payload.get("reason", "")
        await _to_role(case, "returned", f"{head}：被退回（{reason}），请重新分流", Role.staff)


ALERTS = frozenset({"case.overdue", "case.supervised", "case.whistle", "case.returned"})
