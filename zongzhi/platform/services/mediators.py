"""Mediators' wall and 点单 (S4: 调解员墙，群众"点单"选调解员).

A profile adds to a mediator's account what the wall shows: organisation (a people's mediation
committee, a law firm), specialties, an introduction, a public contact and a photo kept in the
evidence store. Load, concluded cases and success rate are never stored: they are counted from
assignments and case events. A case asks for a mediator (at the window, or as the citizen chose);
the mediator accepts — and, when the case is not dispatched yet, is given it and takes it — or
declines with a reason. Each step is on the case's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from zongzhi.platform.base.codes import CATEGORIES, AssignmentMode, CaseStatus, Role
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope
from zongzhi.platform.models import Assignment, Case, CaseEvent, Center, MediatorChoice, MediatorProfile, User
from zongzhi.platform.services import cases as case_svc
from zongzhi.platform.services.outbox import change, record_event

ORG_KINDS = ("committee", "lawyer", "other")
PROFILE_ROLES = (Role.staff, Role.leader, Role.admin)
PHOTO_MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Figures:
    load: int
    concluded: int
    resolved: int
    requested: int
    accepted: int
    declined: int

    @property
    def success_rate(self) -> float | None:
        return self.resolved / self.concluded if self.concluded else None


async def _mediator(user_id: int) -> User:
    user = await User.get_or_none(id=user_id, active=True)
    if user is None or str(Role.mediator) not in user.roles:
        raise NotFound("no mediator with that id", field="userId")
    return user


async def _check_manager(actor: Actor, user: User) -> None:
    if actor.system or actor.user_id == user.id:
        return
    center = await Center.get_or_none(id=user.center_id) if user.center_id else None
    if not (actor.has(*PROFILE_ROLES) and center is not None and center_in_scope(actor, center.path)):
        raise Forbidden(
            "a mediator's profile is kept by the mediator or their center's staff", field="userId"
        )


async def save_profile(
    actor: Actor,
    user_id: int,
    *,
    organisation: str = "",
    org_kind: str = "committee",
    specialties: list[str] | None = None,
    intro: str = "",
    contact: str = "",
    available: bool = True,
    listed: bool = True,
) -> MediatorProfile:
    user = await _mediator(user_id)
    await _check_manager(actor, user)
    if org_kind not in ORG_KINDS:
        raise ValidationFailed(f"orgKind is one of {', '.join(ORG_KINDS)}", field="orgKind")
    if len(organisation) > 120:
        raise ValidationFailed("organisation is at most 120 characters", field="organisation")
    if len(intro) > 2000 or len(contact) > 60:
        raise ValidationFailed("intro is at most 2000 and contact 60 characters", field="intro")
    specialties = list(dict.fromkeys(specialties if specialties is not None else user.specialties))
    for i, s in enumerate(specialties):
        if s not in CATEGORIES:
            raise ValidationFailed(f"unknown category {s!r}", field=f"specialties[{i}]")
    profile, _ = await MediatorProfile.update_or_create(
        user_id=user.id,
        defaults=dict(
            organisation=organisation.strip(),
            org_kind=org_kind,
            specialties=specialties,
            intro=intro.strip(),
            contact=contact.strip(),
            available=available,
            listed=listed,
        ),
    )
    return profile


async def set_photo(
    actor: Actor, store, user_id: int, filename: str, content_type: str, data: bytes
) -> MediatorProfile:
    from zongzhi.platform.services.practice_files import put_checked

    user = await _mediator(user_id)
    await _check_manager(actor, user)
    if not content_type.startswith("image/"):
        raise ValidationFailed("a photo is an image", field="contentType")
    meta = await put_checked(
        store, f"mediators/{user.id}", filename, content_type, data, PHOTO_MAX_BYTES, "file"
    )
    profile, _ = await MediatorProfile.get_or_create(
        user_id=user.id, defaults={"specialties": user.specialties}
    )
    profile.photo_key, profile.photo_type = meta["key"], meta["content_type"]
    await profile.save(update_fields=["photo_key", "photo_type", "updated_at"])
    return profile


async def figures(user_ids: list[int]) -> dict[int, Figures]:
    """Load (cases held now), concluded and resolved cases (their events), and the 点单 counts."""
    out = {uid: Figures(0, 0, 0, 0, 0, 0) for uid in user_ids}
    for uid in await Assignment.filter(user_id__in=user_ids, finished_at=None, returned_at=None).values_list(
        "user_id", flat=True
    ):
        out[uid].load += 1
    rows = await CaseEvent.filter(
        actor_id__in=user_ids, type__in=["case.resolved", "case.failed"]
    ).values_list("actor_id", "type")
    for uid, kind in rows:
        out[uid].concluded += 1
        out[uid].resolved += kind == "case.resolved"
    for uid, status in await MediatorChoice.filter(mediator_id__in=user_ids).values_list(
        "mediator_id", "status"
    ):
        out[uid].requested += 1
        out[uid].accepted += status == "accepted"
        out[uid].declined += status == "declined"
    return out


async def wall(center_id: int) -> list[tuple[User, MediatorProfile]]:
    """The public list for a center: listed mediators of the center, the centers above and below it."""
    center = await Center.get_or_none(id=center_id, active=True)
    if center is None:
        raise NotFound("no such center", field="centerId")
    above = [int(x) for x in center.path.strip("/").split("/") if x]
    below = await Center.filter(path__startswith=center.path).values_list("id", flat=True)
    profiles = (
        await MediatorProfile.filter(
            listed=True, user__active=True, user__center_id__in=list({*above, *below})
        )
        .select_related("user")
        .order_by("user_id")
    )
    return [(p.user, p) for p in profiles if str(Role.mediator) in p.user.roles]


async def on_wall_of(mediator: User, center_path: str) -> bool:
    """Whether the mediator works at a center above, at or below the one at ``center_path``."""
    center = await Center.get_or_none(id=mediator.center_id) if mediator.center_id else None
    return center is not None and (center_path.startswith(center.path) or center.path.startswith(center_path))


async def request(actor: Actor, case_id: int, mediator_id: int, source: str = "window") -> MediatorChoice:
    """点单: the case asks for this mediator (staff at the window, or the citizen's choice they carry)."""
    if source not in ("window", "citizen"):
        raise ValidationFailed("source is window or citizen", field="source")
    if not actor.has(*PROFILE_ROLES):
        raise Forbidden("a mediator is requested for a case by center staff")
    mediator = await _mediator(mediator_id)
    profile = await MediatorProfile.get_or_none(user_id=mediator.id)
    if profile is not None and not profile.available:
        raise ValidationFailed("that mediator is not taking cases now", field="mediatorId")
    async with change():
        case = await case_svc.get_case(actor, case_id)
        if not await on_wall_of(mediator, case.center_path):
            raise ValidationFailed("that mediator works outside this case's area", field="mediatorId")
        if case.status not in (CaseStatus.received, CaseStatus.assessed, CaseStatus.dispatched):
            raise ValidationFailed("a mediator is chosen before the case is handled", field="caseId")
        if await MediatorChoice.filter(case_id=case.id, status="requested").exists():
            raise ValidationFailed("this case already waits for a mediator's answer", field="caseId")
        choice = await MediatorChoice.create(
            case=case, mediator=mediator, source=source, requested_by_id=actor.user_id
        )
        await case.save(update_fields=["updated_at"])
        await record_event(
            case,
            "case.mediator_requested",
            actor,
            {"choice_id": choice.id, "mediator_id": mediator.id, "source": source},
        )
    return choice


async def answer(actor: Actor, choice_id: int, accept: bool, reason: str = "") -> MediatorChoice:
    """The mediator accepts — and holds the case: given it if not dispatched yet, joining the unit
    that has it otherwise — or declines with a reason."""
    choice = await MediatorChoice.get_or_none(id=choice_id)
    if choice is None or actor.user_id != choice.mediator_id:
        raise NotFound("no such request for you", field="choiceId")
    if choice.status != "requested":
        raise ValidationFailed("this request is already answered", field="choiceId")
    if not accept and not reason.strip():
        raise ValidationFailed("say why you decline", field="reason")
    system = Actor.system_actor("点单")
    async with change():
        claimed = await MediatorChoice.filter(id=choice.id, status="requested").update(
            status="accepted" if accept else "declined", reason=reason.strip(), decided_at=datetime.now(UTC)
        )
        if not claimed:
            raise ValidationFailed("this request is already answered", field="choiceId")
        case = await Case.get(id=choice.case_id)
        await case.save(update_fields=["updated_at"])
        await record_event(
            case,
            "case.mediator_accepted" if accept else "case.mediator_declined",
            actor,
            {"choice_id": choice.id, "mediator_id": choice.mediator_id, "reason": reason.strip()},
        )
        if accept and case.status in (CaseStatus.received, CaseStatus.assessed):
            await case_svc.dispatch(
                system,
                case.id,
                AssignmentMode.self_handle,
                [case_svc.UnitInput(user_id=choice.mediator_id)],
                note="点单",
            )
            await case_svc.accept(actor, case.id, note="点单接单")
        elif accept and case.status in (CaseStatus.dispatched, CaseStatus.handling):
            # Already with a unit: the mediator joins it and holds the case too.
            await case_svc.add_assignment(
                system, case.id, AssignmentMode.joint, case_svc.UnitInput(user_id=choice.mediator_id)
            )
            if case.status == CaseStatus.dispatched:
                await case_svc.accept(actor, case.id, note="点单接单")
    return await MediatorChoice.get(id=choice.id)
