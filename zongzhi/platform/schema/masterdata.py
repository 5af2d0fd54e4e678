"""Master data over GraphQL: centers, departments and stationing, grids with boundaries, accounts.

Every mutation is scoped to the tree the admin manages and audited by its service. Disabling and
enabling accounts are ``disableUser`` / ``enableUser`` (schema.accounts).
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from zongzhi.platform.schema import enums, types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.services import masterdata as svc

DATUM_HELP = (
    "Datum of the coordinates: wgs84 (default), gcj02 (Chinese web maps) or cgcs2000; stored as WGS-84."
)


def _opt_pk(value: strawberry.ID | None, kind: str, field: str) -> int | None:
    return pk_of(value, kind, field) if value is not None else None


@strawberry.input(description="A new grid (网格) under a village or community center.")
class NewGridInput:
    code: str = strawberry.field(description="The grid's code, unique in the database.")
    name: str = strawberry.field(description="The grid's name.")
    center_id: strawberry.ID = strawberry.field(description="The village or community center it belongs to.")
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The grid it nests in, if any."
    )
    polygon: JSON | None = strawberry.field(
        default=None,
        description="GeoJSON Polygon or MultiPolygon: closed, valid, within the parent, "
        "not overlapping siblings.",
    )
    datum: str = strawberry.field(default="wgs84", description=DATUM_HELP)


@strawberry.input(description="A new account in a center of your tree.")
class NewUserInput:
    username: str = strawberry.field(description="Sign-in name: 2-60 letters, digits, '-', '_' or '.'.")
    display_name: str = strawberry.field(description="The name others see.")
    roles: list[enums.Role] = strawberry.field(description="What the account may do.")
    center_id: strawberry.ID | None = strawberry.field(
        default=None, description="Its center (scope); only a county-wide admin makes accounts without one."
    )
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Its department, if any."
    )
    specialties: list[str] = strawberry.field(
        default_factory=list, description="Mediator specialties (category codes)."
    )
    title: str = strawberry.field(default="", description="Title, e.g. 人民调解员.")


@strawberry.type
class MasterDataMutation:
    @strawberry.mutation(description="Create a center under one in your tree (admin, audited).")
    async def create_center(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="12-digit area code (统计用区划代码).")],
        name: Annotated[str, strawberry.argument(description="The center's name.")],
        level: Annotated[
            enums.CenterLevel, strawberry.argument(description="Its level; below its parent's.")
        ],
        parent_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The parent center (none: a root, county-wide admins only)."),
        ] = None,
    ) -> types.Center:
        row = await svc.create_center(
            actor_of(info), code, name, str(level), _opt_pk(parent_id, "Center", "parentId")
        )
        return types.Center.of(row)

    @strawberry.mutation(description="Rename a center in your tree (admin, audited).")
    async def rename_center(
        self,
        info: Info,
        center_id: Annotated[strawberry.ID, strawberry.argument(description="The center.")],
        name: Annotated[str, strawberry.argument(description="Its new name.")],
    ) -> types.Center:
        return types.Center.of(
            await svc.rename_center(actor_of(info), pk_of(center_id, "Center", "centerId"), name)
        )

    @strawberry.mutation(
        description="Deactivate or reactivate a center: it keeps its cases and history (admin, audited)."
    )
    async def set_center_active(
        self,
        info: Info,
        center_id: Annotated[strawberry.ID, strawberry.argument(description="The center.")],
        active: Annotated[bool, strawberry.argument(description="false deactivates, true reactivates.")],
    ) -> types.Center:
        row = await svc.set_center_active(actor_of(info), pk_of(center_id, "Center", "centerId"), active)
        return types.Center.of(row)

    @strawberry.mutation(description="Set or clear a center's boundary (admin, audited).")
    async def set_center_boundary(
        self,
        info: Info,
        center_id: Annotated[strawberry.ID, strawberry.argument(description="The center.")],
        polygon: Annotated[
            JSON | None, strawberry.argument(description="GeoJSON Polygon or MultiPolygon; null clears it.")
        ],
        datum: Annotated[str, strawberry.argument(description=DATUM_HELP)] = "wgs84",
    ) -> types.Center:
        row = await svc.set_center_boundary(
            actor_of(info), pk_of(center_id, "Center", "centerId"), polygon, datum
        )
        return types.Center.of(row)

    @strawberry.mutation(description="List a new department (county-level admin, audited).")
    async def create_department(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="The department's code.")],
        name: Annotated[str, strawberry.argument(description="Its name, e.g. 县住建局.")],
        kind: Annotated[str, strawberry.argument(description="Its kind, e.g. 住建.")],
    ) -> types.Department:
        return types.Department.of(await svc.create_department(actor_of(info), code, name, kind))

    @strawberry.mutation(
        description="Station a department at a center (resident/rotating/on call), change how, or "
        "withdraw it "
        "with residence null (admin, audited). Returns the center."
    )
    async def station_department(
        self,
        info: Info,
        center_id: Annotated[strawberry.ID, strawberry.argument(description="The center.")],
        department_id: Annotated[strawberry.ID, strawberry.argument(description="The department.")],
        residence: Annotated[
            enums.Residence | None, strawberry.argument(description="How it is present; null withdraws it.")
        ],
    ) -> types.Center:
        actor = actor_of(info)
        cid = pk_of(center_id, "Center", "centerId")
        await svc.station_department(
            actor,
            cid,
            pk_of(department_id, "Department", "departmentId"),
            str(residence) if residence else None,
        )
        return types.Center.of(await svc._center(actor, cid))

    @strawberry.mutation(description="Create a grid with an optional validated boundary (admin, audited).")
    async def create_grid(
        self, info: Info, input: Annotated[NewGridInput, strawberry.argument(description="The grid.")]
    ) -> types.Grid:
        row = await svc.create_grid(
            actor_of(info),
            input.code,
            input.name,
            pk_of(input.center_id, "Center", "input.centerId"),
            _opt_pk(input.parent_id, "Grid", "input.parentId"),
            input.polygon,
            input.datum,
        )
        return types.Grid.of(row)

    @strawberry.mutation(description="Rename a grid or redraw its boundary (admin, audited).")
    async def update_grid(
        self,
        info: Info,
        grid_id: Annotated[strawberry.ID, strawberry.argument(description="The grid.")],
        name: Annotated[str | None, strawberry.argument(description="A new name.")] = None,
        polygon: Annotated[JSON | None, strawberry.argument(description="A new GeoJSON boundary.")] = None,
        datum: Annotated[str, strawberry.argument(description=DATUM_HELP)] = "wgs84",
    ) -> types.Grid:
        row = await svc.update_grid(actor_of(info), pk_of(grid_id, "Grid", "gridId"), name, polygon, datum)
        return types.Grid.of(row)

    @strawberry.mutation(description="Assign a grid worker to a grid, or take them off it (admin, audited).")
    async def assign_grid_worker(
        self,
        info: Info,
        grid_id: Annotated[strawberry.ID, strawberry.argument(description="The grid.")],
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The grid worker's account.")],
        assigned: Annotated[bool, strawberry.argument(description="false takes them off the grid.")] = True,
    ) -> types.User:
        row = await svc.assign_grid_worker(
            actor_of(info), pk_of(grid_id, "Grid", "gridId"), pk_of(user_id, "User", "userId"), assigned
        )
        return types.User.of(row)

    @strawberry.mutation(description="Create an account in a center of your tree (admin, audited).")
    async def create_user(
        self, info: Info, input: Annotated[NewUserInput, strawberry.argument(description="The account.")]
    ) -> types.User:
        row = await svc.create_user(
            actor_of(info),
            input.username,
            input.display_name,
            [str(r) for r in input.roles],
            center_id=_opt_pk(input.center_id, "Center", "input.centerId"),
            department_id=_opt_pk(input.department_id, "Department", "input.departmentId"),
            specialties=input.specialties,
            title=input.title,
        )
        return types.User.of(row)

    @strawberry.mutation(description="Replace an account's roles (admin of its tree, audited).")
    async def set_user_roles(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The account.")],
        roles: Annotated[list[enums.Role], strawberry.argument(description="Its roles from now on.")],
    ) -> types.User:
        row = await svc.set_user_roles(
            actor_of(info), pk_of(user_id, "User", "userId"), [str(r) for r in roles]
        )
        return types.User.of(row)

    @strawberry.mutation(description="Move an account to another center of your tree (admin, audited).")
    async def move_user(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The account.")],
        center_id: Annotated[strawberry.ID, strawberry.argument(description="Its new center.")],
    ) -> types.User:
        row = await svc.move_user(
            actor_of(info), pk_of(user_id, "User", "userId"), pk_of(center_id, "Center", "centerId")
        )
        return types.User.of(row)
