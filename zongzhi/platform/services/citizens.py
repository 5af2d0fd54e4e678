"""A door for citizens (群众端口 / 上报通 / 随手拍): report, prove the phone, follow, rate.

A citizen proves a phone number with a one-time code (sent through ``zongzhi.platform.base.sms``) and gets
a signed session token bound to that phone's keyed hash. A report is held for staff review; only
accepted reports become cases (through intake, channel ``online``), with the photos added as case
evidence. The citizen follows a report by its tracking number in plain words: statuses and dates,
never a staff member's name or another party's data, and only for reports filed from the same phone.
Abuse control: rate limits per phone and per client address, size limits, and the staff review.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import string
import time
from datetime import UTC, datetime, timedelta

from zongzhi.platform.base import security
from zongzhi.platform.base.codes import CATEGORIES, CaseStatus, PartyRole, Role
from zongzhi.platform.base.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from zongzhi.platform.base.pii import normalise_phone
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import REPORT_REVIEW_ROLES, center_in_scope
from zongzhi.platform.models import Case, CaseEvent, Center, CitizenCode, CitizenReport, User
from zongzhi.platform.services.practice_files import put_checked, read_back

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_INTERVAL = timedelta(seconds=60)
CODES_PER_PHONE_HOUR = 5
SESSION_SECONDS = 2 * 3600
DESCRIPTION_MAX = 2000
PHOTOS_MAX = 3
PHOTO_MAX_BYTES = 5 * 1024 * 1024
REVIEW_ROLES = REPORT_REVIEW_ROLES
_MOBILE = "0123456789"


class RateLimited(ServiceError):
    """Too many requests from this phone or address; ``retry_after`` seconds until the next is allowed."""

    code = "RATE_LIMITED"


def now() -> datetime:
    return datetime.now(UTC)


def _phone(value: str) -> str:
    phone = normalise_phone(value or "")
    if len(phone) != 11 or not phone.startswith("1") or any(c not in _MOBILE for c in phone):
        raise ValidationFailed("a mobile number of 11 digits", field="phone")
    return phone


def _phone_hash(phone: str) -> str:
    return security.cipher().lookup_hash(phone)


def _mac(payload: str) -> str:
    key = hashlib.sha256(("citizen-session:" + security.settings().secret_key).encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _code_hash(phone_hash: str, code: str) -> str:
    return _mac(f"code:{phone_hash}:{code}")


# --- phone proof -----------------------------------------------------------------------------


async def request_code(phone: str, client_address: str) -> None:
    """Send a one-time code, within the limits per phone (1 a minute, 5 an hour) and per address."""
    from zongzhi.platform.base import sms

    phone = _phone(phone)
    ph = _phone_hash(phone)
    at = now()
    hour = at - timedelta(hours=1)
    latest = await CitizenCode.filter(phone_hash=ph).order_by("-created_at").first()
    if latest is not None and latest.created_at > at - CODE_INTERVAL:
        raise RateLimited("a code was sent less than a minute ago", field="phone", details={"retryAfter": 60})
    if await CitizenCode.filter(phone_hash=ph, created_at__gt=hour).count() >= CODES_PER_PHONE_HOUR:
        raise RateLimited(
            "too many codes for this phone; try again later", field="phone", details={"retryAfter": 3600}
        )
    await _check_address(client_address, hour)
    code = "".join(secrets.choice(string.digits) for _ in range(6))
    await CitizenCode.create(
        phone_hash=ph,
        code_hash=_code_hash(ph, code),
        client_address=client_address[:64],
        expires_at=at + CODE_TTL,
    )
    await sms.sender(security.settings()).send(phone, f"【综治中心】验证码 {code}，10分钟内有效。")


async def _check_address(client_address: str, since: datetime) -> None:
    limit = security.settings().public_requests_per_address_hour
    used = await CitizenCode.filter(client_address=client_address, created_at__gt=since).count()
    used += await CitizenReport.filter(client_address=client_address, created_at__gt=since).count()
    if used >= limit:
        raise RateLimited(
            "too many requests from your address; try again later", details={"retryAfter": 3600}
        )


async def verify_code(phone: str, code: str) -> str:
    """A session token for the phone when ``code`` is its latest unexpired, unused code."""
    phone = _phone(phone)
    ph = _phone_hash(phone)
    row = await CitizenCode.filter(phone_hash=ph, used_at=None).order_by("-created_at").first()
    if row is None or row.expires_at < now() or row.attempts >= CODE_ATTEMPTS:
        raise ValidationFailed("no valid code for this phone; ask for a new one", field="code")
    if not hmac.compare_digest(row.code_hash, _code_hash(ph, (code or "").strip())):
        await CitizenCode.filter(id=row.id).update(attempts=row.attempts + 1)
        raise ValidationFailed("the code is wrong", field="code")
    claimed = await CitizenCode.filter(id=row.id, used_at=None).update(used_at=now())
    if not claimed:
        raise ValidationFailed("the code was already used", field="code")
    claims = {"p": ph, "c": security.cipher().encrypt(phone), "e": int(time.time()) + SESSION_SECONDS}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode())
    return f"{payload.decode()}.{_mac(payload.decode())}"


def session_phone(token: str | None) -> str:
    """The phone hash a session token proves, or ``Unauthenticated``."""
    return str(_claims(token)["p"])


def _claims(token: str | None) -> dict:
    """A session token's claims: the phone's hash, the phone encrypted, the expiry."""
    from zongzhi.platform.base.errors import Unauthenticated

    try:
        payload, mac = (token or "").rsplit(".", 1)
        if not hmac.compare_digest(mac, _mac(payload)):
            raise ValueError
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
        if claims["e"] < time.time():
            raise ValueError
        str(claims["p"]), str(claims["c"])
        return claims
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("prove your phone number first (a one-time code)") from None


# --- reports ---------------------------------------------------------------------------------


def _tracking() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "QZ" + now().strftime("%y%m%d") + "".join(secrets.choice(alphabet) for _ in range(6))


async def submit(
    session: str | None,
    *,
    center_id: int,
    category: str,
    description: str,
    client_address: str,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    photos: list[tuple[str, str, bytes]] | None = None,
    mediator_id: int | None = None,
    store=None,
) -> CitizenReport:
    """File a report (held for review). Returns it with its tracking number."""
    ph = session_phone(session)
    center = await Center.get_or_none(id=center_id, active=True)
    if center is None:
        raise ValidationFailed("no such center", field="center")
    if category not in CATEGORIES:
        raise ValidationFailed("unknown category", field="category")
    description = (description or "").strip()
    if not description or len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(
            f"describe the matter in 1 to {DESCRIPTION_MAX} characters", field="description"
        )
    if len(address) > 255:
        raise ValidationFailed("the address is at most 255 characters", field="address")
    if lat is not None and not -90 <= lat <= 90:
        raise ValidationFailed("latitude is between -90 and 90", field="lat")
    if lng is not None and not -180 <= lng <= 180:
        raise ValidationFailed("longitude is between -180 and 180", field="long")
    photos = photos or []
    if len(photos) > PHOTOS_MAX:
        raise ValidationFailed(f"at most {PHOTOS_MAX} photos", field="photos")
    if mediator_id is not None:
        from zongzhi.platform.services.mediators import on_wall_of

        mediator = await User.get_or_none(id=mediator_id, active=True)
        if (
            mediator is None
            or str(Role.mediator) not in mediator.roles
            or not await on_wall_of(mediator, center.path)
        ):
            raise ValidationFailed("no such mediator on this center's wall", field="mediator")
    at = now()
    settings = security.settings()
    if await CitizenReport.filter(phone_hash=ph, created_at__gt=at - timedelta(days=1)).count() >= (
        settings.public_reports_per_phone_day
    ):
        raise RateLimited(
            "this phone has filed the most reports allowed today", details={"retryAfter": 86400}
        )
    await _check_address(client_address, at - timedelta(hours=1))
    stored = []
    for i, (filename, content_type, data) in enumerate(photos):
        if not content_type.startswith("image/"):
            raise ValidationFailed("photos are images", field=f"photos[{i}].contentType")
        stored.append(
            await put_checked(
                store, "citizens", filename, content_type, data, PHOTO_MAX_BYTES, f"photos[{i}]"
            )
        )
    return await CitizenReport.create(
        tracking=_tracking(),
        center=center,
        phone_hash=ph,
        phone_enc=session_phone_enc(session),
        client_address=client_address[:64],
        category=category,
        description=description,
        lat=lat,
        lng=lng,
        address=address.strip(),
        photos=stored,
        mediator_id=mediator_id,
    )


def session_phone_enc(session: str | None) -> str:
    """The phone, encrypted as PII at rest is, for staff to call back (never shown to the public)."""
    return str(_claims(session)["c"])


async def own_report(session: str | None, tracking: str) -> CitizenReport:
    """The report with this tracking number filed from the session's phone; anything else is not found."""
    ph = session_phone(session)
    report = await CitizenReport.get_or_none(tracking=(tracking or "").strip().upper())
    if report is None or not hmac.compare_digest(report.phone_hash, ph):
        raise NotFound("no report with that tracking number from your phone", field="tracking")
    return report


PLAIN: dict[str, str] = {
    "held": "已收到，等待工作人员审核",
    "accepted": "已受理",
    "rejected": "未予受理",
    CaseStatus.received.value: "已受理，正在分析研判",
    CaseStatus.assessed.value: "已受理，正在分析研判",
    CaseStatus.dispatched.value: "已转交承办单位",
    CaseStatus.handling.value: "正在办理",
    CaseStatus.resolved.value: "调解成功",
    CaseStatus.failed.value: "调解未成功，已告知后续途径",
    CaseStatus.closed.value: "已办结",
    CaseStatus.followed_up.value: "已办结并回访",
    CaseStatus.rejected.value: "不予受理",
    CaseStatus.withdrawn.value: "已撤回",
}
#: Timeline steps a citizen sees (by event type), in plain words; all others stay internal.
PLAIN_STEPS = {
    "case.received": "受理登记",
    "case.dispatched": "转交承办单位",
    "case.accepted": "承办单位接收办理",
    "case.mediator_accepted": "调解员已接单",
    "case.resolved": "调解成功",
    "case.failed": "调解未成功",
    "case.closed": "办结",
    "case.followed_up": "回访",
    "case.rated": "您的评价",
}
RATEABLE = {CaseStatus.resolved, CaseStatus.failed, CaseStatus.closed, CaseStatus.followed_up}


async def plain_status(report: CitizenReport) -> dict:
    """What a citizen may see: status words, dates, and whether a rating is possible. No names."""
    steps = [{"at": report.created_at.isoformat(), "step": "提交上报"}]
    state = report.status
    words = PLAIN.get(state, "已受理")
    if report.status == "rejected":
        words = f"未予受理：{report.reject_reason}"
    case = await Case.get_or_none(id=report.case_id) if report.case_id else None
    if case is not None:
        state = case.status.value
        words = PLAIN.get(state, "正在办理")
        for at, kind in (
            await CaseEvent.filter(case_id=case.id, type__in=list(PLAIN_STEPS))
            .order_by("at", "id")
            .values_list("at", "type")
        ):
            steps.append({"at": at.isoformat(), "step": PLAIN_STEPS[kind]})
    return {
        "tracking": report.tracking,
        "status": words,
        "state": state,
        "category": CATEGORIES.label(report.category),
        "submitted_at": report.created_at.isoformat(),
        "steps": steps,
        "can_rate": case is not None and case.status in RATEABLE and report.rating is None,
        "rating": report.rating,
    }


async def rate(session: str | None, tracking: str, stars: int, note: str = "") -> CitizenReport:
    """评价: 1-5 stars once the matter is concluded; recorded on the case's timeline."""
    from zongzhi.platform.services.outbox import change, record_event

    report = await own_report(session, tracking)
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationFailed("stars are 1 to 5", field="stars")
    if len(note) > 500:
        raise ValidationFailed("a note is at most 500 characters", field="note")
    case = await Case.get_or_none(id=report.case_id) if report.case_id else None
    if case is None or case.status not in RATEABLE:
        raise ValidationFailed("a matter is rated once it is concluded", field="tracking")
    async with change():
        claimed = await CitizenReport.filter(id=report.id, rating=None).update(
            rating=stars, rating_note=note.strip()
        )
        if not claimed:
            raise ValidationFailed("this matter is already rated", field="tracking")
        await case.save(update_fields=["updated_at"])
        await record_event(
            case, "case.rated", Actor.system_actor("群众评价"), {"stars": stars, "note": note.strip()}
        )
    return await CitizenReport.get(id=report.id)


# --- staff review ----------------------------------------------------------------------------


def reviewable(actor: Actor):
    """The reports the actor may review: their center subtree's, for staff, leaders and admins."""
    from zongzhi.platform.domain.jurisdiction import visible

    return visible(actor, CitizenReport)


async def review(
    actor: Actor, report_id: int, accept: bool, reason: str = "", *, title: str | None = None, store=None
) -> CitizenReport:
    """Accept into a case (intake, photos as evidence, the chosen mediator asked), or reject (reason)."""
    from zongzhi.platform.services import cases as case_svc
    from zongzhi.platform.services import mediators
    from zongzhi.platform.services.evidence import EvidenceService
    from zongzhi.platform.services.people import PersonInput

    if not actor.has(*REVIEW_ROLES):
        raise Forbidden("citizen reports are reviewed by center staff")
    report = await reviewable(actor).get_or_none(id=report_id).select_related("center")
    if report is None:
        raise NotFound("no such report in your jurisdiction", field="reportId")
    if report.status != "held":
        raise ValidationFailed("this report is already reviewed", field="reportId")
    if not accept:
        if not reason.strip():
            raise ValidationFailed("say why the report is not accepted", field="reason")
        claimed = await CitizenReport.filter(id=report.id, status="held").update(
            status="rejected", reject_reason=reason.strip(), reviewed_by_id=actor.user_id
        )
        if not claimed:
            raise ValidationFailed("this report is already reviewed", field="reportId")
        return await CitizenReport.get(id=report.id)
    if not center_in_scope(actor, report.center.path):
        raise Forbidden("that center is outside your jurisdiction", field="reportId")
    data = case_svc.CaseInput(
        title=(title or report.description.splitlines()[0])[:200],
        description=report.description,
        category=report.category,
        kind="hazard" if report.category == "safety_hazard" else "dispute",
        channel="online",
        center_id=report.center_id,
        lat=report.lat,
        lng=report.lng,
        address=report.address,
        client_request_id=f"citizen-{report.tracking}",
        parties=[
            case_svc.PartyInput(
                role=PartyRole.applicant,
                person=PersonInput(name="网上上报群众", phone=security.cipher().decrypt(report.phone_enc)),
            )
        ],
        extra_payload={"citizen_report": report.tracking},
    )
    case, _ = await case_svc.intake(data, actor)
    claimed = await CitizenReport.filter(id=report.id, status="held").update(
        status="accepted", case_id=case.id, reviewed_by_id=actor.user_id
    )
    if claimed and store is not None and report.photos:
        evidence = EvidenceService(store, security.settings())
        for photo in report.photos:
            data_bytes = await read_back(store, photo)
            await evidence.add_evidence_bytes(
                Actor.system_actor("群众上报"), case.id, photo["filename"], photo["content_type"], data_bytes
            )
    if claimed and report.mediator_id:
        # A mediator who stopped taking cases is skipped: staff then choose one at the window.
        with contextlib.suppress(ValidationFailed):
            await mediators.request(actor, case.id, report.mediator_id, source="citizen")
    return await CitizenReport.get(id=report.id)
