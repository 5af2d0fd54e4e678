"""The working-day calendar over GraphQL: an admin loads a year, a center adds local closures."""

from __future__ import annotations

from datetime import date

import strawberry

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.jurisdiction import center_in_scope, resolve_ref
from zongzhi.platform.domain.workdays import load_official_days, official_year
from zongzhi.platform.models import AuditLog, CalendarDay, Center
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(
        description="Load a year's official holidays and make-up workdays (admin). Returns days stored."
    )
    async def load_official_calendar(
        self, info: Info, year: int, holidays: list[date], workdays: list[date]
    ) -> int:
        actor = actor_of(info)
        if not actor.has(Role.admin):
            raise Forbidden("loading the official calendar needs the admin role")
        stored = await load_official_days(official_year(year, holidays, workdays))
        await AuditLog.create(
            actor_id=actor.user_id, action="calendar.load", target=str(year), details={"days": stored}
        )
        return stored

    @strawberry.mutation(
        description="A local closure (e.g. a typhoon day): no working day for this center and below."
    )
    async def add_local_closure(self, info: Info, center_id: strawberry.ID, day: date, note: str) -> bool:
        actor = actor_of(info)
        center = await resolve_ref(actor, Center, pk_of(center_id, "Center", "centerId"), "centerId")
        if not (actor.has(Role.leader, Role.staff, Role.admin) and center_in_scope(actor, center.path)):
            raise Forbidden("only the center's own staff or leaders add its closures")
        if not note.strip():
            raise ValidationFailed("say why the center is closed", field="note")
        await CalendarDay.update_or_create(
            day=day, center=center, defaults={"workday": False, "note": note.strip()}
        )
        return True
