"""GraphQL for the mediators' wall and 点单. The rules live in ``services.mediators``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from zongzhi.platform import models
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import Forbidden
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services import mediators as svc
from zongzhi.platform.services.cases import get_case


@strawberry.type(description="A mediator on the wall (调解员墙), with figures counted from case events.")
class MediatorCard:
    user_id: strawberry.ID = strawberry.field(description="The mediator's User ID")
    name: str = strawberry.field(description="Display name")
    title: str = strawberry.field(description="Title (e.g. 金牌调解员)")
    organisation: str = strawberry.field(description="People's mediation committee, law firm, ...")
    org_kind: str = strawberry.field(description="committee, lawyer or other")
    specialties: list[str] = strawberry.field(description="Category codes")
    intro: str = strawberry.field(description="Introduction")
    contact: str = strawberry.field(description="Public contact (an office line)")
    available: bool = strawberry.field(description="Taking cases now")
    photo_url: str | None = strawberry.field(description="Public URL of the photo")
    load: int = strawberry.field(description="Cases held now")
    concluded: int = strawberry.field(description="Cases concluded (resolved or failed)")
    resolved: int = strawberry.field(description="Cases resolved (调解成功)")
    success_rate: float | None = strawberry.field(description="resolved / concluded; null without any")
    chosen: int = strawberry.field(description="Times chosen (点单)")
    accepted: int = strawberry.field(description="Choices accepted")
    declined: int = strawberry.field(description="Choices declined")


async def cards(pairs: list[tuple[models.User, models.MediatorProfile | None]]) -> list[MediatorCard]:
    figs = await svc.figures([u.id for u, _ in pairs])
    out = []
    for u, p in pairs:
        f = figs[u.id]
        out.append(
            MediatorCard(
                user_id=strawberry.ID(to_global_id("User", u.id)),
                name=u.display_name,
                title=u.title,
                organisation=p.organisation if p else "",
                org_kind=p.org_kind if p else "other",
                specialties=(p.specialties if p else None) or list(u.specialties),
                intro=p.intro if p else "",
                contact=p.contact if p else "",
                available=p.available if p else True,
                photo_url=f"/public/mediators/{u.id}/photo" if p and p.photo_key else None,
                load=f.load,
                concluded=f.concluded,
                resolved=f.resolved,
                success_rate=f.success_rate,
                chosen=f.requested,
                accepted=f.accepted,
                declined=f.declined,
            )
        )
    return out


@strawberry.type(description="点单: a case's request for a mediator and the answer.")
class MediatorChoice(ModelNode):
    model = models.MediatorChoice
    case_id: strawberry.ID = strawberry.field(description="The case")
    mediator_id: strawberry.ID = strawberry.field(description="The mediator asked")
    source: str = strawberry.field(description="window or citizen")
    status: str = strawberry.field(description="requested, accepted or declined")
    reason: str = strawberry.field(description="Why declined")
    created_at: datetime = strawberry.field(description="When asked")
    decided_at: datetime | None = strawberry.field(description="When answered")

    @classmethod
    def of(cls, m: models.MediatorChoice) -> MediatorChoice:
        return copy_of(
            cls,
            m,
            case_id=strawberry.ID(to_global_id("Case", m.case_id)),
            mediator_id=strawberry.ID(to_global_id("User", m.mediator_id)),
        )


def _user_pk(user_id: strawberry.ID, field: str = "userId") -> int:
    return pk_of(user_id, "User", field)


@strawberry.type
class MediatorsQuery:
    @strawberry.field(description="The mediators' wall of a center (the same list the public door shows).")
    async def mediator_wall(
        self,
        info: Info,
        center_id: Annotated[
            strawberry.ID, strawberry.argument(description="A center (global ID) in the asker's jurisdiction")
        ],
    ) -> list[MediatorCard]:
        actor_of(info)
        return await cards(await svc.wall(pk_of(center_id, "Center", "centerId")))

    @strawberry.field(description="A case's mediator requests (点单), for whoever may see the case.")
    async def mediator_choices(
        self,
        info: Info,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The case (global ID)")],
    ) -> list[MediatorChoice]:
        case = await get_case(actor_of(info), pk_of(case_id, "Case", "caseId"))
        rows = await models.MediatorChoice.filter(case_id=case.id).order_by("id")
        return [MediatorChoice.of(r) for r in rows]

    @strawberry.field(description="Requests waiting for the asking mediator's answer.")
    async def my_mediator_requests(self, info: Info) -> list[MediatorChoice]:
        actor = actor_of(info)
        if not actor.has(Role.mediator):
            raise Forbidden("only mediators receive requests")
        rows = await models.MediatorChoice.filter(mediator_id=actor.user_id, status="requested").order_by(
            "id"
        )
        return [MediatorChoice.of(r) for r in rows]


@strawberry.type
class MediatorsMutation:
    @strawberry.mutation(
        description="Create or change a mediator's profile (the mediator or their center's staff)."
    )
    async def save_mediator_profile(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The person (User global ID)")],
        organisation: Annotated[
            str, strawberry.argument(description="People's mediation committee, law firm, ...")
        ] = "",
        org_kind: Annotated[str, strawberry.argument(description="committee, lawyer or other")] = "committee",
        specialties: Annotated[
            list[str] | None, strawberry.argument(description="Category codes; default: the account's")
        ] = None,
        intro: Annotated[str, strawberry.argument(description="Introduction shown on the wall")] = "",
        contact: Annotated[
            str, strawberry.argument(description="Public contact (an office line, never a private number)")
        ] = "",
        available: Annotated[bool, strawberry.argument(description="Taking cases now")] = True,
        listed: Annotated[bool, strawberry.argument(description="Shown on the public wall")] = True,
    ) -> MediatorCard:
        pk = _user_pk(user_id)
        await svc.save_profile(
            actor_of(info),
            pk,
            organisation=organisation,
            org_kind=org_kind,
            specialties=specialties,
            intro=intro,
            contact=contact,
            available=available,
            listed=listed,
        )
        user = await models.User.get(id=pk)
        return (await cards([(user, await models.MediatorProfile.get(user_id=pk))]))[0]

    @strawberry.mutation(description="Set a mediator's photo (an image, checked like evidence).")
    async def set_mediator_photo(
        self,
        info: Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The person (User global ID)")],
        file: Annotated[Upload, strawberry.argument(description="The file (GraphQL multipart upload)")],
        content_type: Annotated[
            str, strawberry.argument(description="The file's declared type (checked against its bytes)")
        ],
    ) -> MediatorCard:
        pk = _user_pk(user_id)
        data = await file.read()
        name = getattr(file, "filename", None) or "photo"
        store = info.context.request.app.state.store
        profile = await svc.set_photo(actor_of(info), store, pk, name, content_type, data)
        return (await cards([(await models.User.get(id=pk), profile)]))[0]

    @strawberry.mutation(description="点单 at the window: the case asks for this mediator (center staff).")
    async def request_mediator(
        self,
        info: Info,
        case_id: Annotated[strawberry.ID, strawberry.argument(description="The case (global ID)")],
        mediator_id: Annotated[
            strawberry.ID, strawberry.argument(description="The mediator (User global ID)")
        ],
    ) -> MediatorChoice:
        choice = await svc.request(
            actor_of(info), pk_of(case_id, "Case", "caseId"), _user_pk(mediator_id, "mediatorId")
        )
        return MediatorChoice.of(choice)

    @strawberry.mutation(description="The mediator accepts (and takes the case) or declines with a reason.")
    async def answer_mediator_request(
        self,
        info: Info,
        choice_id: Annotated[
            strawberry.ID, strawberry.argument(description="The request (MediatorChoice global ID)")
        ],
        accept: Annotated[bool, strawberry.argument(description="True to accept, false to decline")],
        reason: Annotated[str, strawberry.argument(description="Why (required to decline or reject)")] = "",
    ) -> MediatorChoice:
        choice = await svc.answer(
            actor_of(info), pk_of(choice_id, "MediatorChoice", "choiceId"), accept, reason
        )
        return MediatorChoice.of(choice)
