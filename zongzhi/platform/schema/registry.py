"""The registry over GraphQL: houses, units, key-group tags and case links, within your grids.

A unit's contact phone is masked like a person's phone unless your role may see it; every answer
that showed one is audited (``schema.reveal_audit``). People linked to houses are ``Person``
objects, masked and audited as everywhere.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from tortoise.expressions import Q, Subquery

from zongzhi.platform import models
from zongzhi.platform.base import pii
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.base.registry_codes import HOUSE_ROLES, HOUSE_USES, KEY_GROUPS, UNIT_KINDS, may_see_tag
from zongzhi.platform.domain.jurisdiction import resolve_ref, visible
from zongzhi.platform.domain.jurisdiction_registry import visible_houses, visible_units
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.schema.nodes import ModelNode
from zongzhi.platform.services import registry as svc

CASES_MAX = 100


def _limit(info: Info, first: int) -> int:
    cap = info.context.settings.page_size_max
    if not 1 <= first <= cap:
        raise ValidationFailed(f"first must be between 1 and {cap}", field="first")
    return first


async def _grid(info: Info, grid_id: int) -> types.Grid:
    return types.Grid.of(await info.context.loaders.grid.load(grid_id))


@strawberry.type(description="A person linked to a house, as owner, occupant or tenant.")
class HouseMember:
    role: str = strawberry.field(description="owner, occupant or tenant.")
    relation: str = strawberry.field(description="Relation to the householder (户主, 配偶, 子女, ...).")
    row: strawberry.Private[models.Person]

    @strawberry.field(description="The role's Chinese label.")
    def role_label(self) -> str:
        return HOUSE_ROLES.get(self.role, self.role)

    @strawberry.field(description="The person (ID and phone masked unless your role may see them).")
    def person(self) -> types.Person:
        return types.Person.of(self.row)


@strawberry.type(description="房屋: a house or flat in a grid, with its owners and occupants.")
class House(ModelNode):
    model = models.House
    code: str = strawberry.field(description="The county's house code.")
    address: str = strawberry.field(description="Street address.")
    building: str = strawberry.field(description="楼栋 (building).")
    entrance: str = strawberry.field(description="单元 (building unit).")
    room: str = strawberry.field(description="Room number.")
    use: str = strawberry.field(description="residential, rental, business, vacant or other.")
    m: strawberry.Private[models.House]

    @strawberry.field(description="The use's Chinese label.")
    def use_label(self) -> str:
        return HOUSE_USES.get(self.use, self.use)

    @strawberry.field(description="The house's grid.")
    async def grid(self, info: Info) -> types.Grid:
        return await _grid(info, self.m.grid_id)

    @strawberry.field(description="Owners, occupants and tenants.")
    async def members(self, info: Info) -> list[HouseMember]:
        rows = await models.HouseMember.filter(house_id=self.m.id).select_related("person").order_by("id")
        return [HouseMember(role=r.role, relation=r.relation, row=r.person) for r in rows]

    @strawberry.field(description="Cases linked to this house that you may see, newest first.")
    async def cases(
        self, info: Info, first: Annotated[int, strawberry.argument(description="At most this many.")] = 20
    ) -> list[types.Case]:
        rows = await svc.cases_of_house(actor_of(info), self.m.id).limit(_limit(info, first))
        return [types.Case.of(c) for c in rows]


@strawberry.type(description="单位: an enterprise, shop, school or organisation in a grid.")
class OrgUnit(ModelNode):
    model = models.OrgUnit
    name: str = strawberry.field(description="Its name.")
    kind: str = strawberry.field(description="enterprise, shop, school, organisation or other.")
    credit_code: str = strawberry.field(description="统一社会信用代码 (unified social credit code).")
    address: str = strawberry.field(description="Its address.")
    contact_name: str = strawberry.field(description="Its contact person.")
    m: strawberry.Private[models.OrgUnit]

    @strawberry.field(description="The kind's Chinese label.")
    def kind_label(self) -> str:
        return UNIT_KINDS.get(self.kind, self.kind)

    @strawberry.field(
        description="Contact phone; masked (138****1234) unless your role may see it (audited)."
    )
    def contact_phone(self, info: Info) -> str | None:
        value = svc.contact_phone_of(self.m)
        if value is None:
            return None
        if actor_of(info).sees_pii:
            info.context.revealed_units.add(self.m.id)
            return value
        return pii.mask_phone(value)

    @strawberry.field(description="The unit's grid.")
    async def grid(self, info: Info) -> types.Grid:
        return await _grid(info, self.m.grid_id)

    @strawberry.field(description="Cases linked to this unit that you may see, newest first.")
    async def cases(
        self, info: Info, first: Annotated[int, strawberry.argument(description="At most this many.")] = 20
    ) -> list[types.Case]:
        rows = await svc.cases_of_unit(actor_of(info), self.m.id).limit(_limit(info, first))
        return [types.Case.of(c) for c in rows]


@strawberry.type(description="A key group (重点人群) and who may see its tags.")
class KeyGroup:
    code: str = strawberry.field(description="The tag's code.")
    label: str = strawberry.field(description="Its Chinese label, e.g. 独居老人.")
    roles: list[str] = strawberry.field(description="The roles that may see the tag.")


@strawberry.type(description="A person's key-group tag.")
class KeyGroupTag:
    code: str = strawberry.field(description="The tag's code.")
    label: str = strawberry.field(description="Its Chinese label.")
    note: str = strawberry.field(description="Why, in a few words.")


async def key_groups_of(info: Info, person_id: int) -> list[KeyGroupTag]:
    actor = actor_of(info)
    rows = await models.PersonTag.filter(person_id=person_id).order_by("tag")
    return [
        KeyGroupTag(code=r.tag, label=KEY_GROUPS[r.tag][0], note=r.note)
        for r in rows
        if r.tag in KEY_GROUPS and may_see_tag(actor.roles, r.tag, actor.system)
    ]


async def houses_of(info: Info, person_id: int) -> list[House]:
    rows = await visible_houses(actor_of(info)).filter(members__person_id=person_id).distinct()
    return [House.of(h) for h in rows]


@strawberry.input(description="A house: created, or updated when its code exists.")
class HouseInput:
    code: str = strawberry.field(description="The county's house code.")
    address: str = strawberry.field(description="Street address.")
    grid_id: strawberry.ID = strawberry.field(description="Its grid.")
    building: str = strawberry.field(default="", description="楼栋.")
    entrance: str = strawberry.field(default="", description="单元.")
    room: str = strawberry.field(default="", description="Room number.")
    use: str = strawberry.field(
        default="residential", description="residential, rental, business, vacant, other."
    )
    lat: float | None = strawberry.field(default=None, description="Latitude (WGS-84).")
    lng: float | None = strawberry.field(default=None, description="Longitude (WGS-84).")


@strawberry.input(description="A unit: created, or updated when its credit code exists.")
class OrgUnitInput:
    name: str = strawberry.field(description="Its name.")
    kind: str = strawberry.field(description="enterprise, shop, school, organisation or other.")
    credit_code: str = strawberry.field(description="统一社会信用代码; its check character is verified.")
    grid_id: strawberry.ID = strawberry.field(description="Its grid.")
    address: str = strawberry.field(default="", description="Its address.")
    contact_name: str = strawberry.field(default="", description="Contact person.")
    contact_phone: str | None = strawberry.field(
        default=None, description="Contact phone (stored encrypted)."
    )


async def _grid_filter(info: Info, query, grid_id: strawberry.ID | None):
    """Only one grid's rows; a grid outside the jurisdiction is ``NOT_FOUND`` like an unknown one."""
    if not grid_id:
        return query
    grid = await resolve_ref(actor_of(info), models.Grid, pk_of(grid_id, "Grid", "gridId"), "gridId")
    return query.filter(grid_id=grid.id)


@strawberry.type
class RegistryQuery:
    @strawberry.field(
        description="Houses in your grids, by code; optionally one grid's or matching an address."
    )
    async def houses(
        self,
        info: Info,
        grid_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this grid's.")] = None,
        text: Annotated[str | None, strawberry.argument(description="Part of the address or code.")] = None,
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 50,
    ) -> list[House]:
        query = await _grid_filter(info, visible_houses(actor_of(info)), grid_id)
        if text:
            query = query.filter(Q(address__icontains=text.strip()) | Q(code=text.strip()))
        return [House.of(h) for h in await query.order_by("code").limit(_limit(info, first))]

    @strawberry.field(description="One house in your grids (null if none or not yours).")
    async def house(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Its ID.")]
    ) -> House | None:
        row = await visible_houses(actor_of(info)).get_or_none(id=pk_of(id, "House", "id"))
        return House.of(row) if row else None

    @strawberry.field(description="Units in your grids, by name.")
    async def org_units(
        self,
        info: Info,
        grid_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this grid's.")] = None,
        kind: Annotated[str | None, strawberry.argument(description="Only this kind.")] = None,
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 50,
    ) -> list[OrgUnit]:
        query = await _grid_filter(info, visible_units(actor_of(info)), grid_id)
        if kind:
            query = query.filter(kind=kind)
        return [OrgUnit.of(u) for u in await query.order_by("name").limit(_limit(info, first))]

    @strawberry.field(description="One unit in your grids (null if none or not yours).")
    async def org_unit(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Its ID.")]
    ) -> OrgUnit | None:
        row = await visible_units(actor_of(info)).get_or_none(id=pk_of(id, "OrgUnit", "id"))
        return OrgUnit.of(row) if row else None

    @strawberry.field(description="The key groups (重点人群) and who may see each.")
    def key_groups(self) -> list[KeyGroup]:
        return [
            KeyGroup(code=c, label=label, roles=sorted(roles)) for c, (label, roles) in KEY_GROUPS.items()
        ]

    @strawberry.field(description="People of a key group in your grids (only if your role may see the tag).")
    async def key_group_people(
        self,
        info: Info,
        tag: Annotated[str, strawberry.argument(description="The key group's code.")],
        grid_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this grid's.")] = None,
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 50,
    ) -> list[types.Person]:
        actor = actor_of(info)
        if tag not in KEY_GROUPS:
            raise ValidationFailed(f"tag is one of {', '.join(KEY_GROUPS)}", field="tag")
        tagged = Subquery(visible(actor, models.PersonTag).filter(tag=tag).values("person_id"))
        query = models.Person.filter(id__in=tagged)
        query = await _grid_filter(info, query, grid_id)
        return [types.Person.of(p) for p in await query.order_by("name").limit(_limit(info, first))]


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(description="Create or update a house in a grid you keep (audited).")
    async def save_house(
        self, info: Info, input: Annotated[HouseInput, strawberry.argument(description="The house.")]
    ) -> House:
        data = svc.HouseInput(
            code=input.code.strip(),
            address=input.address.strip(),
            grid_id=pk_of(input.grid_id, "Grid", "input.gridId"),
            building=input.building,
            entrance=input.entrance,
            room=input.room,
            use=input.use,
            lat=input.lat,
            lng=input.lng,
        )
        return House.of(await svc.save_house(actor_of(info), data))

    @strawberry.mutation(
        description="Link a person to a house (owner/occupant/tenant), or unlink with role null."
    )
    async def link_house_member(
        self,
        info: Info,
        house_id: Annotated[strawberry.ID, strawberry.argument(description="The house.")],
        person_id: Annotated[strawberry.ID, strawberry.argument(description="The person.")],
        role: Annotated[
            str | None, strawberry.argument(description="owner, occupant or tenant; null unlinks.")
        ],
        relation: Annotated[str, strawberry.argument(description="Relation to the householder.")] = "",
    ) -> House:
        hid = pk_of(house_id, "House", "houseId")
        await svc.link_person(actor_of(info), hid, pk_of(person_id, "Person", "personId"), role, relation)
        return House.of(await models.House.get(id=hid))

    @strawberry.mutation(description="Create or update a unit in a grid you keep (audited).")
    async def save_org_unit(
        self, info: Info, input: Annotated[OrgUnitInput, strawberry.argument(description="The unit.")]
    ) -> OrgUnit:
        data = svc.UnitInput(
            name=input.name,
            kind=input.kind,
            credit_code=input.credit_code,
            grid_id=pk_of(input.grid_id, "Grid", "input.gridId"),
            address=input.address,
            contact_name=input.contact_name,
            contact_phone=input.contact_phone,
        )
        return OrgUnit.of(await svc.save_unit(actor_of(info), data))

    @strawberry.mutation(
        description="Put a person in a key group or take them out (audited). Returns the person."
    )
    async def tag_person(
        self,
        info: Info,
        person_id: Annotated[strawberry.ID, strawberry.argument(description="The person.")],
        tag: Annotated[str, strawberry.argument(description="The key group's code (see keyGroups).")],
        on: Annotated[bool, strawberry.argument(description="false takes the tag off.")] = True,
        note: Annotated[str, strawberry.argument(description="Why, in a few words.")] = "",
    ) -> types.Person:
        pid = pk_of(person_id, "Person", "personId")
        await svc.tag_person(actor_of(info), pid, tag, note, on)
        return types.Person.of(await models.Person.get(id=pid))

    @strawberry.mutation(
        description="Link a case you may see to a house or a unit (audited). Returns the case."
    )
    async def link_case(
        self,
        info: Info,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The case.")],
        house_id: Annotated[strawberry.ID | None, strawberry.argument(description="A house.")] = None,
        unit_id: Annotated[strawberry.ID | None, strawberry.argument(description="Or a unit.")] = None,
    ) -> types.Case:
        case = await svc.link_case(
            actor_of(info),
            pk_of(case_id, "Case", "caseId"),
            pk_of(house_id, "House", "houseId") if house_id else None,
            pk_of(unit_id, "OrgUnit", "unitId") if unit_id else None,
        )
        return types.Case.of(case)
