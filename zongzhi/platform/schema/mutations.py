"""Write side: one mutation per lifecycle step. Each calls its service and returns the case."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from zongzhi.platform.base import codes, limits
from zongzhi.platform.schema import enums, types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.people import PersonInput


@strawberry.input
class LocationInput:
    lat: float | None = None
    lng: float | None = None
    address: str = strawberry.field(default="", description=limits.ADDRESS_DOC)


@strawberry.input(description="A new person; if the ID number is known, the existing record is used.")
class NewPersonInput:
    name: str = strawberry.field(description=limits.NAME_DOC)
    id_number: str | None = strawberry.field(
        default=None,
        description="18-character resident ID number (GB 11643): valid checksum, a real area code and a "
        "real birth date, not in the future.",
    )
    phone: str | None = None
    address: str = strawberry.field(default="", description=limits.ADDRESS_DOC)
    grid_id: strawberry.ID | None = None


@strawberry.input
class PartyInput:
    role: enums.PartyRole
    person_id: strawberry.ID | None = None
    person: NewPersonInput | None = None


@strawberry.input(description="受理登记: a new case.")
class CreateCaseInput:
    title: str = strawberry.field(description=limits.TITLE_DOC)
    category: str = strawberry.field(description="A category code, see codeLists")
    kind: str = "dispute"
    channel: str = "window"
    description: str = strawberry.field(default="", description=limits.DESCRIPTION_DOC)
    severity: int = 2
    complexity: str = "simple"
    center_id: strawberry.ID | None = strawberry.field(
        default=None, description="Receiving center; default: the grid's center, else yours"
    )
    grid_id: strawberry.ID | None = None
    location: LocationInput | None = None
    tags: list[str] = strawberry.field(default_factory=list, description=limits.TAGS_DOC)
    parties: list[PartyInput] = strawberry.field(default_factory=list)
    client_request_id: str | None = strawberry.field(
        default=None, description="Set by a client that may retry: the same id returns the same case"
    )


@strawberry.type
class CreateCasePayload:
    case: types.Case
    created: bool = strawberry.field(description="False when this request repeated an earlier one")


@strawberry.input(description="Exactly one of centerId, departmentId, userId.")
class UnitInput:
    center_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    user_id: strawberry.ID | None = None
    lead: bool = False


def _case_pk(case_id: strawberry.ID) -> int:
    return pk_of(case_id, "Case", "caseId")


def _units(units: list[UnitInput]) -> list[svc.UnitInput]:
    out = []
    for i, u in enumerate(units):
        out.append(
            svc.UnitInput(
                center_id=pk_of(u.center_id, "Center", f"units[{i}].centerId") if u.center_id else None,
                department_id=pk_of(u.department_id, "Department", f"units[{i}].departmentId")
                if u.department_id
                else None,
                user_id=pk_of(u.user_id, "User", f"units[{i}].userId") if u.user_id else None,
                lead=u.lead,
            )
        )
    return out


def _to_case_input(data: CreateCaseInput) -> svc.CaseInput:
    parties = []
    for i, p in enumerate(data.parties):
        person = None
        if p.person is not None:
            person = PersonInput(
                name=p.person.name,
                id_number=p.person.id_number,
                phone=p.person.phone,
                address=p.person.address,
                grid_id=pk_of(p.person.grid_id, "Grid", f"parties[{i}].person.gridId")
                if p.person.grid_id
                else None,
            )
        parties.append(
            svc.PartyInput(
                role=codes.PartyRole(p.role),
                person_id=pk_of(p.person_id, "Person", f"parties[{i}].personId") if p.person_id else None,
                person=person,
            )
        )
    loc = data.location or LocationInput()
    return svc.CaseInput(
        title=data.title,
        category=data.category,
        kind=data.kind,
        channel=data.channel,
        description=data.description,
        severity=data.severity,
        complexity=data.complexity,
        center_id=pk_of(data.center_id, "Center", "centerId") if data.center_id else None,
        grid_id=pk_of(data.grid_id, "Grid", "gridId") if data.grid_id else None,
        lat=loc.lat,
        lng=loc.lng,
        address=loc.address,
        tags=list(data.tags),
        parties=parties,
        client_request_id=data.client_request_id,
    )


Note = Annotated[str, strawberry.argument(description=limits.NOTE_DOC)]
Agreement = Annotated[str, strawberry.argument(description=limits.DESCRIPTION_DOC)]
Deadline = Annotated[datetime, strawberry.argument(description=limits.DEADLINE_DOC)]
Amount = Annotated[Decimal, strawberry.argument(description=limits.AMOUNT_DOC)]
Tags = Annotated[list[str], strawberry.argument(description=limits.TAGS_DOC)]
SuperviseLevel = Annotated[
    str,
    strawberry.argument(description="The supervising level: PROVINCE, CITY, COUNTY, TOWNSHIP or VILLAGE."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="受理登记: register a case (idempotent on clientRequestId).")
    async def create_case(self, info: Info, input: CreateCaseInput) -> CreateCasePayload:
        case, created = await svc.intake(_to_case_input(input), actor_of(info))
        return CreateCasePayload(case=types.Case.of(case), created=created)

    @strawberry.mutation(description="分析研判: classify the case.")
    async def assess_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        category: str | None = None,
        kind: str | None = None,
        severity: int | None = None,
        complexity: str | None = None,
        risk: enums.Risk | None = None,
        note: Note = "",
    ) -> types.Case:
        case = await svc.assess(
            actor_of(info),
            _case_pk(case_id),
            category=category,
            kind=kind,
            severity=severity,
            complexity=complexity,
            risk=codes.Risk(risk) if risk else None,
            note=note,
        )
        return types.Case.of(case)

    @strawberry.mutation(description="不予受理: refuse an out-of-scope case, with a reason.")
    async def reject_case(self, info: Info, case_id: strawberry.ID, reason: Note) -> types.Case:
        return types.Case.of(await svc.reject(actor_of(info), _case_pk(case_id), reason))

    @strawberry.mutation(description="分流转办: assign the case (自办/转办/联办/督办).")
    async def dispatch_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        mode: enums.AssignmentMode,
        units: list[UnitInput],
        due: Deadline | None = None,
        note: Note = "",
    ) -> types.Case:
        case = await svc.dispatch(
            actor_of(info), _case_pk(case_id), codes.AssignmentMode(mode), _units(units), due=due, note=note
        )
        return types.Case.of(case)

    @strawberry.mutation(
        description="Add a unit to a case in hand (another 联办 department, or a 督办 unit)."
    )
    async def add_case_assignment(
        self, info: Info, case_id: strawberry.ID, mode: enums.AssignmentMode, unit: UnitInput
    ) -> types.Case:
        case = await svc.add_assignment(
            actor_of(info), _case_pk(case_id), codes.AssignmentMode(mode), _units([unit])[0]
        )
        return types.Case.of(case)

    @strawberry.mutation(description="接收: the assigned unit takes the case in hand.")
    async def accept_case(self, info: Info, case_id: strawberry.ID, note: Note = "") -> types.Case:
        return types.Case.of(await svc.accept(actor_of(info), _case_pk(case_id), note))

    @strawberry.mutation(description="退回: the assigned unit sends a mis-routed case back, with a reason.")
    async def return_case(self, info: Info, case_id: strawberry.ID, reason: Note) -> types.Case:
        return types.Case.of(await svc.return_case(actor_of(info), _case_pk(case_id), reason))

    @strawberry.mutation(description="办理进展: record progress.")
    async def add_case_progress(self, info: Info, case_id: strawberry.ID, note: Note) -> types.Case:
        return types.Case.of(await svc.add_progress(actor_of(info), _case_pk(case_id), note))

    @strawberry.mutation(description="督办: press for progress on a case.")
    async def supervise_case(
        self, info: Info, case_id: strawberry.ID, note: Note, level: SuperviseLevel | None = None
    ) -> types.Case:
        return types.Case.of(await svc.supervise(actor_of(info), _case_pk(case_id), note, level))

    @strawberry.mutation(description="调处成功: mediation reached an agreement.")
    async def resolve_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        outcome: Note,
        agreement: Agreement = "",
        amount: Amount | None = None,
    ) -> types.Case:
        return types.Case.of(await svc.resolve(actor_of(info), _case_pk(case_id), outcome, agreement, amount))

    @strawberry.mutation(description="调处失败: mediation failed; say where the parties go next.")
    async def fail_case(
        self, info: Info, case_id: strawberry.ID, outcome: Note, next_step: str = "other"
    ) -> types.Case:
        return types.Case.of(await svc.fail(actor_of(info), _case_pk(case_id), outcome, next_step))

    @strawberry.mutation(description="办结归档: close a concluded case.")
    async def close_case(self, info: Info, case_id: strawberry.ID, note: Note = "") -> types.Case:
        return types.Case.of(await svc.close(actor_of(info), _case_pk(case_id), note))

    @strawberry.mutation(description="回访: record the follow-up visit or call.")
    async def follow_up_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        satisfaction: int,
        executed: bool,
        method: enums.FollowUpMethod = codes.FollowUpMethod.call,
        note: Note = "",
    ) -> types.Case:
        case = await svc.follow_up(
            actor_of(info), _case_pk(case_id), satisfaction, executed, codes.FollowUpMethod(method), note
        )
        return types.Case.of(case)

    @strawberry.mutation(description="撤回: the applicant withdraws the case.")
    async def withdraw_case(self, info: Info, case_id: strawberry.ID, reason: Note) -> types.Case:
        return types.Case.of(await svc.withdraw(actor_of(info), _case_pk(case_id), reason))

    @strawberry.mutation(description="重新办理: reopen a finished case.")
    async def reopen_case(self, info: Info, case_id: strawberry.ID, reason: Note) -> types.Case:
        return types.Case.of(await svc.reopen(actor_of(info), _case_pk(case_id), reason))

    @strawberry.mutation(description="上报: move the case to the parent center.")
    async def escalate_case(self, info: Info, case_id: strawberry.ID, reason: Note = "") -> types.Case:
        return types.Case.of(await svc.escalate(actor_of(info), _case_pk(case_id), reason))

    @strawberry.mutation(description="属地流转: give the case to another center in your jurisdiction.")
    async def route_case(
        self, info: Info, case_id: strawberry.ID, center_id: strawberry.ID, reason: Note = ""
    ) -> types.Case:
        center_pk = pk_of(center_id, "Center", "centerId")
        return types.Case.of(await svc.route(actor_of(info), _case_pk(case_id), center_pk, reason))

    @strawberry.mutation(description="风险标记: set the case's risk level.")
    async def flag_case_risk(
        self, info: Info, case_id: strawberry.ID, level: enums.Risk, reason: Note
    ) -> types.Case:
        return types.Case.of(
            await svc.flag_risk(actor_of(info), _case_pk(case_id), codes.Risk(level), reason)
        )

    @strawberry.mutation
    async def tag_case(
        self, info: Info, case_id: strawberry.ID, add: Tags, remove: Tags | None = None
    ) -> types.Case:
        return types.Case.of(await svc.tag(actor_of(info), _case_pk(case_id), add, remove))

    @strawberry.mutation(description="设定期限: set the response and resolution deadlines.")
    async def set_case_deadline(
        self,
        info: Info,
        case_id: strawberry.ID,
        respond_by: Deadline | None = None,
        resolve_by: Deadline | None = None,
        note: Note = "",
    ) -> types.Case:
        case = await svc.set_deadline(
            actor_of(info), _case_pk(case_id), respond_by=respond_by, resolve_by=resolve_by, note=note
        )
        return types.Case.of(case)
