"""Directory queries: users by role, center, department and specialty; mediators; departments."""

from __future__ import annotations

from typing import Annotated

import strawberry

from zongzhi.platform.schema import enums, types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.services import directory as svc


def _pk(value: strawberry.ID | None, kind: str, field: str) -> int | None:
    return pk_of(value, kind, field) if value else None


@strawberry.type(description="A mediator with their current load and past results.")
class MediatorEntry:
    user: types.User = strawberry.field(description="The mediator's account (specialties, title, center).")
    open_cases: int = strawberry.field(description="Open cases given to them now (current load).")
    resolved: int = strawberry.field(description="Cases given to them that were mediated successfully.")
    failed: int = strawberry.field(description="Cases given to them whose mediation failed.")


@strawberry.type(description="Where a department is stationed.")
class Stationing:
    center: types.Center = strawberry.field(description="The center.")
    residence: enums.Residence = strawberry.field(description="How it is present there.")


@strawberry.type(description="A department and where it is stationed, within your tree.")
class DepartmentEntry:
    department: types.Department = strawberry.field(description="The department.")
    stationed: list[Stationing] = strawberry.field(description="Its stationings, by center.")


@strawberry.type
class DirectoryQuery:
    @strawberry.field(
        description="Active accounts in your tree by role, center (subtree), department, specialty."
    )
    async def directory(
        self,
        info: Info,
        role: Annotated[enums.Role | None, strawberry.argument(description="Only this role.")] = None,
        center_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="This center's subtree.")
        ] = None,
        department_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="This department.")
        ] = None,
        specialty: Annotated[str | None, strawberry.argument(description="A mediator specialty.")] = None,
        first: Annotated[int, strawberry.argument(description="At most this many (1-200).")] = 100,
    ) -> list[types.User]:
        rows = await svc.users(
            actor_of(info),
            role=str(role) if role else None,
            center_id=_pk(center_id, "Center", "centerId"),
            department_id=_pk(department_id, "Department", "departmentId"),
            specialty=specialty,
            limit=max(1, min(first, 200)),
        )
        return [types.User.of(u) for u in rows]

    @strawberry.field(
        description="Mediators in your tree with specialties, current load and results; least loaded first."
    )
    async def mediators(
        self,
        info: Info,
        center_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="This center's subtree.")
        ] = None,
        specialty: Annotated[str | None, strawberry.argument(description="Only with this specialty.")] = None,
    ) -> list[MediatorEntry]:
        rows = await svc.mediators(
            actor_of(info), center_id=_pk(center_id, "Center", "centerId"), specialty=specialty
        )
        return [
            MediatorEntry(
                user=types.User.of(r.user), open_cases=r.open_cases, resolved=r.resolved, failed=r.failed
            )
            for r in rows
        ]

    @strawberry.field(description="Departments with where they are stationed, in your tree and above it.")
    async def department_directory(
        self,
        info: Info,
        center_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="This center's subtree.")
        ] = None,
    ) -> list[DepartmentEntry]:
        rows = await svc.departments(actor_of(info), center_id=_pk(center_id, "Center", "centerId"))
        return [
            DepartmentEntry(
                department=types.Department.of(d),
                stationed=[
                    Stationing(center=types.Center.of(link.center), residence=link.residence)
                    for link in links
                ],
            )
            for d, links in rows
        ]
