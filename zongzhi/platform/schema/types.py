"""GraphQL object types. Each wraps a model row; relations resolve through the request's loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import Private

from zongzhi.platform import models
from zongzhi.platform.base import codes, pii
from zongzhi.platform.schema import enums
from zongzhi.platform.schema.context import Info
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services.people import id_number_of, phone_of

if TYPE_CHECKING:
    from zongzhi.platform.schema.evidence import EvidenceFile
    from zongzhi.platform.schema.registry import House, KeyGroupTag, OrgUnit


@strawberry.type(description="A code from an extendable list, with its Chinese label.")
class Code:
    code: str
    label: str

    @classmethod
    def of(cls, code_list: codes.CodeList, code: str) -> Code:
        return cls(code=code, label=code_list.label(code))


@strawberry.type
class CodeLists:
    categories: list[Code]
    kinds: list[Code]
    channels: list[Code]


@strawberry.type(description="综治中心: a governance center at one of five levels.")
class Center(ModelNode):
    model = models.Center
    code: str = strawberry.field(description="12-digit statistical area code (统计用区划代码)")
    name: str
    level: enums.CenterLevel
    active: bool
    parent_id: Private[int | None]

    @strawberry.field
    def level_label(self) -> str:
        return codes.CenterLevel(self.level).label

    @strawberry.field(description="The center's GeoJSON boundary (WGS-84), if drawn.")
    async def boundary(self, info: Info) -> strawberry.scalars.JSON | None:
        row = await info.context.loaders.center.load(self.pk)
        return row.polygon if row else None

    @strawberry.field
    async def parent(self, info: Info) -> Center | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.center.load(self.parent_id)
        return Center.of(row) if row else None

    @strawberry.field(description="The centers directly below this one.")
    async def children(self, info: Info) -> list[Center]:
        return [Center.of(c) for c in await info.context.loaders.center_children.load(self.pk)]

    @strawberry.field(description="Grids under this center (village and community centers).")
    async def grids(self, info: Info) -> list[Grid]:
        return [Grid.of(g) for g in await info.context.loaders.center_grids.load(self.pk)]

    @strawberry.field(description="Departments present at this center and how.")
    async def departments(self, info: Info) -> list[CenterDepartment]:
        rows = await info.context.loaders.center_departments.load(self.pk)
        return [CenterDepartment(department=Department.of(r.department), residence=r.residence) for r in rows]


@strawberry.type(description="部门: an agency taking part in centers' work.")
class Department(ModelNode):
    model = models.Department
    code: str
    name: str
    kind: str


@strawberry.type
class CenterDepartment:
    department: Department
    residence: enums.Residence

    @strawberry.field
    def residence_label(self) -> str:
        return codes.Residence(self.residence).label


@strawberry.type(description="网格: the smallest management area.")
class Grid(ModelNode):
    model = models.Grid
    code: str
    name: str
    level: int
    polygon: strawberry.scalars.JSON | None = strawberry.field(description="GeoJSON geometry, if drawn")
    datum: str = strawberry.field(
        description="Datum the boundary arrived in (wgs84, gcj02, cgcs2000); it is stored as WGS-84"
    )
    center_id: Private[int]
    parent_id: Private[int | None]

    @strawberry.field
    async def center(self, info: Info) -> Center:
        return Center.of(await info.context.loaders.center.load(self.center_id))

    @strawberry.field
    async def parent(self, info: Info) -> Grid | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.grid.load(self.parent_id)
        return Grid.of(row) if row else None


#: What a person you cannot see is called (their record was linked by an ID number you gave).
UNSEEN_NAME = "***"


@strawberry.type(
    description="人员: a resident. ID and phone numbers are masked unless your role may see them; "
    "a person you cannot see (linked to your case by an ID number you gave) is masked throughout."
)
class Person(ModelNode):
    model = models.Person
    m: Private[models.Person]
    sighted: Private[bool]  # known to be visible to the asker (read through their jurisdiction)

    @classmethod
    def of(cls, m: models.Person, *, sighted: bool = False) -> Person:
        """``sighted``: the row was read through the asker's jurisdiction; otherwise it is checked."""
        return copy_of(cls, m, sighted=sighted)

    @classmethod
    async def from_visible(cls, m: models.Person, info: Info) -> Person:
        return cls.of(m, sighted=True)

    async def _seen(self, info: Info) -> bool:
        return self.sighted or await info.context.sees_person(self.m.id)

    async def _reveal(self, info: Info) -> bool:
        actor = info.context.require_actor()
        if actor.sees_pii and await self._seen(info):
            info.context.revealed_people.add(self.m.id)
            return True
        return False

    @strawberry.field(description="Name; `***` for a person you cannot see.")
    async def name(self, info: Info) -> str:
        return self.m.name if await self._seen(info) else UNSEEN_NAME

    @strawberry.field(description="Address; empty for a person you cannot see.")
    async def address(self, info: Info) -> str:
        return self.m.address if await self._seen(info) else ""

    @strawberry.field(description="Tags; empty for a person you cannot see.")
    async def tags(self, info: Info) -> list[str]:
        return self.m.tags if await self._seen(info) else []

    @strawberry.field(description="身份证号; masked (110101********4514) unless your role may see it.")
    async def id_number(self, info: Info) -> str | None:
        value = id_number_of(self.m)
        if value is None:
            return None
        return value if await self._reveal(info) else pii.mask_id_number(value)

    @strawberry.field(
        description="Phone number; masked (138****1234) unless your role may see it; "
        "null for a person you cannot see."
    )
    async def phone(self, info: Info) -> str | None:
        value = phone_of(self.m)
        if value is None or not await self._seen(info):
            return None
        return value if await self._reveal(info) else pii.mask_phone(value)

    @strawberry.field
    async def grid(self, info: Info) -> Grid | None:
        if self.m.grid_id is None or not await self._seen(info):
            return None
        row = await info.context.loaders.grid.load(self.m.grid_id)
        return Grid.of(row) if row else None

    @strawberry.field(description="The person's cases that you may see, newest first (at most 100).")
    async def cases(self, info: Info) -> list[Case]:
        from zongzhi.platform.services.registry import cases_of_person

        return [Case.of(c) for c in await cases_of_person(info.context.require_actor(), self.m.id).limit(100)]

    @strawberry.field(description="Key-group tags (独居老人, 重点人员, ...) that your role may see.")
    async def key_groups(
        self, info: Info
    ) -> list[Annotated[KeyGroupTag, strawberry.lazy("zongzhi.platform.schema.registry")]]:
        from zongzhi.platform.schema.registry import key_groups_of

        return await key_groups_of(info, self.m.id)

    @strawberry.field(description="Houses in your grids the person is linked to.")
    async def houses(
        self, info: Info
    ) -> list[Annotated[House, strawberry.lazy("zongzhi.platform.schema.registry")]]:
        from zongzhi.platform.schema.registry import houses_of

        return await houses_of(info, self.m.id)


@strawberry.type(description="用户: an account.")
class User(ModelNode):
    model = models.User
    username: str
    display_name: str
    roles: list[enums.Role]
    specialties: list[str]
    title: str
    m: Private[models.User]

    @classmethod
    def of(cls, m: models.User) -> User:
        return copy_of(cls, m, roles=[codes.Role(r) for r in m.roles])

    @strawberry.field
    async def center(self, info: Info) -> Center | None:
        if self.m.center_id is None:
            return None
        return Center.of(await info.context.loaders.center.load(self.m.center_id))

    @strawberry.field(description="Whether the account may sign in (false: disabled by an admin).")
    def active(self) -> bool:
        return self.m.active

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        if self.m.department_id is None:
            return None
        return Department.of(await info.context.loaders.department.load(self.m.department_id))

    @strawberry.field
    async def grids(self) -> list[Grid]:
        rows = await models.Grid.filter(worker_links__user_id=self.m.id)
        return [Grid.of(g) for g in rows]


@strawberry.type
class CaseParty:
    role: enums.PartyRole
    row: Private[models.Person]  # read with the party (one statement for a page's parties and people)
    blind: Private[bool] = False  # linked by an ID number its filer could not see (CaseParty.blind)

    @strawberry.field
    def role_label(self) -> str:
        return codes.PartyRole(self.role).label

    @strawberry.field
    def person(self) -> Person:
        # A party of a case the asker can see shows its person, unless the link was blind.
        return Person.of(self.row, sighted=not self.blind)


@strawberry.type(description="One entry of a timeline event's payload, with its Chinese label.")
class EventDetail:
    key: str = strawberry.field(description="The payload key (stable, English), e.g. from.")
    key_label: str = strawberry.field(description="The key's Chinese label, e.g. 原状态.")
    value: strawberry.scalars.JSON | None = strawberry.field(description="The value as stored.")
    value_label: str | None = strawberry.field(
        description="When the value is a code (status, category, mode...), its Chinese label."
    )


@strawberry.type(description="事件流水: one fact on a case's timeline.")
class CaseEvent(ModelNode):
    model = models.CaseEvent
    type: str = strawberry.field(description="Stable event type, e.g. case.dispatched.")
    label: str = strawberry.field(description="The event type's Chinese label, e.g. 分流转办.")
    at: datetime = strawberry.field(description="When it happened.")
    actor_label: str = strawberry.field(description="Who acted: a user's name, a rule or a plugin.")
    payload: strawberry.scalars.JSON = strawberry.field(description="The stored facts (English keys, codes).")
    depth: int = strawberry.field(description="0 for a person's action, n for the nth rule consequence")

    @strawberry.field(description="The payload's entries with Chinese labels for keys and coded values.")
    def details(self) -> list[EventDetail]:
        from zongzhi.platform.base.event_labels import details

        return [
            EventDetail(key=k, key_label=kl, value=v, value_label=vl)
            for k, kl, v, vl in details(self.type, self.payload or {})
        ]

    @classmethod
    def of(cls, m: models.CaseEvent) -> CaseEvent:
        from zongzhi.platform.base import event_types

        return copy_of(cls, m, label=event_types.label(m.type))


@strawberry.type(description="分派: a unit given the case.")
class Assignment(ModelNode):
    model = models.Assignment
    unit_kind: enums.UnitKind
    mode: enums.AssignmentMode
    lead: bool
    due: datetime | None
    created_at: datetime
    accepted_at: datetime | None
    returned_at: datetime | None
    return_reason: str
    finished_at: datetime | None
    m: Private[models.Assignment]

    @strawberry.field
    def mode_label(self) -> str:
        return codes.AssignmentMode(self.mode).label

    @strawberry.field
    async def center(self, info: Info) -> Center | None:
        return (
            Center.of(await info.context.loaders.center.load(self.m.center_id)) if self.m.center_id else None
        )

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        if not self.m.department_id:
            return None
        return Department.of(await info.context.loaders.department.load(self.m.department_id))

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        return User.of(await info.context.loaders.user.load(self.m.user_id)) if self.m.user_id else None


@strawberry.type(description="回访: a follow-up after closing.")
class FollowUp:
    method: enums.FollowUpMethod
    satisfaction: int
    executed: bool
    note: str
    at: datetime


@strawberry.type
class Location:
    lat: float | None
    lng: float | None
    address: str


@strawberry.type
class Deadlines:
    respond_by: datetime | None
    resolve_by: datetime | None
    overdue: bool = strawberry.field(description="Open and past its resolve-by deadline.")


@strawberry.type(description="案件: one dispute, complaint or hazard.")
class Case(ModelNode):
    model = models.Case
    number: str
    title: str
    description: str
    severity: int
    complexity: str
    risk: enums.Risk
    status: enums.CaseStatus
    tags: list[str]
    outcome: str
    agreement: str
    amount: Decimal | None
    satisfaction: int | None
    executed: bool | None = strawberry.field(description="执行到位: the agreement was carried out")
    reject_reason: str
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    concluded_at: datetime | None
    closed_at: datetime | None
    m: Private[models.Case]

    @strawberry.field
    def status_label(self) -> str:
        return codes.CaseStatus(self.status).label

    @strawberry.field
    def risk_label(self) -> str:
        return codes.Risk(self.risk).label

    @strawberry.field
    def category(self) -> Code:
        return Code.of(codes.CATEGORIES, self.m.category)

    @strawberry.field
    def kind(self) -> Code:
        return Code.of(codes.KINDS, self.m.kind)

    @strawberry.field
    def channel(self) -> Code:
        return Code.of(codes.CHANNELS, self.m.channel)

    @strawberry.field
    def location(self) -> Location:
        return copy_of(Location, self.m)

    @strawberry.field
    def deadlines(self) -> Deadlines:
        from zongzhi.platform.services.lifecycle import OPEN

        overdue = bool(
            self.m.resolve_by
            and self.m.status in OPEN
            and self.m.resolve_by < datetime.now(self.m.resolve_by.tzinfo)
        )
        return copy_of(Deadlines, self.m, overdue=overdue)

    @strawberry.field(description="The partner's own reference, for cases that came from a docking channel.")
    def external_id(self) -> str | None:
        return self.m.external_id

    @strawberry.field(description="The center that owns the case now.")
    async def center(self, info: Info) -> Center:
        return Center.of(await info.context.loaders.center.load(self.m.center_id))

    @strawberry.field
    async def grid(self, info: Info) -> Grid | None:
        if self.m.grid_id is None:
            return None
        return Grid.of(await info.context.loaders.grid.load(self.m.grid_id))

    @strawberry.field
    async def parties(self, info: Info) -> list[CaseParty]:
        rows = await info.context.loaders.parties.load(self.m.id)
        return [CaseParty(role=r.role, row=r.person, blind=r.blind) for r in rows]

    @strawberry.field
    async def assignments(self, info: Info) -> list[Assignment]:
        return [Assignment.of(a) for a in await info.context.loaders.assignments.load(self.m.id)]

    @strawberry.field(description="The whole timeline, oldest first.")
    async def timeline(self, info: Info) -> list[CaseEvent]:
        return [CaseEvent.of(e) for e in await info.context.loaders.events.load(self.m.id)]

    @strawberry.field
    async def last_event(self, info: Info) -> CaseEvent | None:
        if self.m.last_event_id is None:
            return None
        row = await info.context.loaders.event.load(self.m.last_event_id)
        return CaseEvent.of(row) if row else None

    @strawberry.field(description="Stored evidence, oldest first; withdrawn files are hidden.")
    async def evidence(
        self, info: Info
    ) -> list[Annotated[EvidenceFile, strawberry.lazy("zongzhi.platform.schema.evidence")]]:
        from zongzhi.platform.schema.evidence import EvidenceFile

        return [EvidenceFile.of(e) for e in await info.context.loaders.evidence.load(self.m.id)]

    @strawberry.field(description="Houses the case is linked to, in your grids.")
    async def houses(
        self, info: Info
    ) -> list[Annotated[House, strawberry.lazy("zongzhi.platform.schema.registry")]]:
        from zongzhi.platform.domain.jurisdiction_registry import visible_houses
        from zongzhi.platform.schema.registry import House

        rows = (
            await visible_houses(info.context.require_actor())
            .filter(case_links__case_id=self.m.id)
            .distinct()
        )
        return [House.of(h) for h in rows]

    @strawberry.field(description="Units the case is linked to, in your grids.")
    async def org_units(
        self, info: Info
    ) -> list[Annotated[OrgUnit, strawberry.lazy("zongzhi.platform.schema.registry")]]:
        from zongzhi.platform.domain.jurisdiction_registry import visible_units
        from zongzhi.platform.schema.registry import OrgUnit

        rows = (
            await visible_units(info.context.require_actor()).filter(case_links__case_id=self.m.id).distinct()
        )
        return [OrgUnit.of(u) for u in rows]

    @strawberry.field(description="Departments summoned to the case (吹哨报到).")
    async def whistles(self, info: Info) -> list[Whistle]:
        return [Whistle.of(w) for w in await info.context.loaders.whistles.load(self.m.id)]

    @strawberry.field(description="When the case must have had its follow-up visit, if a rule asked for one.")
    def followup_due(self) -> datetime | None:
        return self.m.followup_due

    @strawberry.field(description="Why the deadline is what it is (e.g. a calendar fallback).")
    def deadline_note(self) -> str:
        return self.m.deadline_note

    @strawberry.field(
        description="Every lifecycle step with whether you may take it on this case now, and why not "
        "when not (from the same table and role rules the mutations check)."
    )
    async def allowed_actions(self, info: Info) -> list[AllowedAction]:
        from zongzhi.platform.services.allowed import LABELS, MUTATIONS, decide

        actor = info.context.require_actor()
        loaders = info.context.loaders
        active = [
            a
            for a in await loaders.assignments.load(self.m.id)
            if a.returned_at is None and a.finished_at is None
        ]
        centers = [await loaders.center.load(a.center_id) for a in active if a.center_id]
        paths = {c.id: c.path for c in centers if c is not None}
        summoned = actor.department_id is not None and any(
            w.department_id == actor.department_id and w.answered_at is None
            for w in await loaders.whistles.load(self.m.id)
        )
        return [
            AllowedAction(
                step=a.step,
                label=LABELS[a.step],
                mutation=MUTATIONS[a.step],
                allowed=a.allowed,
                reason=a.reason,
            )
            for a in decide(actor, self.m, active, paths, summoned)
        ]

    @strawberry.field
    async def followups(self, info: Info) -> list[FollowUp]:
        return [copy_of(FollowUp, f) for f in await info.context.loaders.followups.load(self.m.id)]


@strawberry.type(description="One lifecycle step on a case: whether you may take it now, and why not.")
class AllowedAction:
    step: str = strawberry.field(description="Stable code of the step, e.g. dispatch, follow_up.")
    label: str = strawberry.field(description="The step's Chinese label, e.g. 分流转办.")
    mutation: str = strawberry.field(description="The mutation that takes it, e.g. dispatchCase.")
    allowed: bool = strawberry.field(description="You may take it now.")
    reason: str | None = strawberry.field(description="Why not, when not allowed (in Chinese).")


@strawberry.type(description="吹哨报到: a department summoned to the case and whether it reported in.")
class Whistle(ModelNode):
    model = models.Whistle
    due: datetime
    answered_at: datetime | None
    answer: str
    department_id: Private[int]

    @strawberry.field
    async def department(self, info: Info) -> Department:
        return Department.of(await info.context.loaders.department.load(self.department_id))


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class CaseEdge:
    cursor: str
    node: Case


@strawberry.type(description="A page of cases (Relay connection), newest first.")
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo
    count: Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        # Counted only when asked for (``cases`` starts it beside its page queries when selected).
        return await self.count()


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
