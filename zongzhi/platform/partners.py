"""Partner credentials, signed webhooks and outbound deliveries: what every docking plugin relies on.

Plugins reach what they need of it through ``zongzhi.platform.plugin_api``.

Signing, both ways: ``X-Zongzhi-Key`` names the credential, ``X-Zongzhi-Timestamp`` is Unix
seconds, and ``X-Zongzhi-Signature`` is the hex HMAC-SHA256 of ``<timestamp>.<raw body>`` under the
partner's secret. Inbound requests outside the replay window, with a bad signature, an unknown or
revoked key, or a key of another plugin get 401 and store nothing.

Partners are isolated from each other: a credential finds and acts on exactly the cases it brought
in (their ids are scoped per credential: ``services.partner_intake``, which registers every
partner's case). Partner accounts (users with the ``partner`` role) see no cases over GraphQL at all
(``jurisdiction.is_partner``), whatever center they are attached to.

Deliveries are rows first: ``queue_delivery`` stores one (unique per event, partner and kind, so a
re-delivered event queues nothing new), then ``deliver_due`` sends what is due, retrying with
exponential backoff until it is sent or ``failed``; an admin can retry a failed one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.exceptions import IntegrityError

from zongzhi.platform.base import security
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.current import current
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.base.observability import metrics
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import resolve_ref, visible
from zongzhi.platform.models import (
    AuditLog,
    Case,
    CaseEvent,
    Center,
    Delivery,
    DeliveryAttempt,
    PartnerCredential,
)

log = logging.getLogger(__name__)

KEY_HEADER = "X-Zongzhi-Key"
TIMESTAMP_HEADER = "X-Zongzhi-Timestamp"
SIGNATURE_HEADER = "X-Zongzhi-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(key_id: str, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


# --- credentials ---------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not actor.has(Role.admin):
        raise Forbidden("partner credentials are managed by an admin")


async def create_credential(
    actor: Actor,
    plugin: str,
    name: str,
    callback_url: str = "",
    center_code: str | None = None,
) -> tuple[PartnerCredential, str]:
    """A new credential; the secret is returned once, stored only encrypted. A credential for a
    plugin the running platform did not load is refused."""
    _require_admin(actor)
    if plugin not in current().plugins.names():
        raise ValidationFailed(f"no plugin {plugin!r} is loaded", field="plugin")
    if callback_url and not callback_url.startswith(("http://", "https://")):
        raise ValidationFailed("the callback URL must be http(s)", field="callbackUrl")
    center = None
    if center_code:  # a reference like any ID: through the admin's jurisdiction
        center = await visible(actor, Center).get_or_none(code=center_code)
        if center is None:
            raise NotFound(f"no center {center_code} in your jurisdiction", field="centerCode")
    secret = secrets.token_urlsafe(32)
    credential = await PartnerCredential.create(
        plugin=plugin,
        name=name,
        key_id=f"{plugin[:12]}-{secrets.token_hex(6)}",
        secret_enc=security.cipher().encrypt(secret),
        callback_url=callback_url,
        center=center,
    )
    await AuditLog.create(actor_id=actor.user_id, action="partner.create", target=credential.key_id)
    return credential, secret


async def _credential(key_id: str) -> PartnerCredential:
    credential = await PartnerCredential.get_or_none(key_id=key_id)
    if credential is None:
        raise NotFound(f"no partner credential {key_id}", field="keyId")
    return credential


async def rotate_secret(actor: Actor, key_id: str) -> str:
    _require_admin(actor)
    credential = await _credential(key_id)
    secret = secrets.token_urlsafe(32)
    credential.secret_enc = security.cipher().encrypt(secret)
    credential.rotated_at = datetime.now(UTC)
    await credential.save(update_fields=["secret_enc", "rotated_at"])
    await AuditLog.create(actor_id=actor.user_id, action="partner.rotate", target=key_id)
    return secret


async def revoke(actor: Actor, key_id: str) -> None:
    _require_admin(actor)
    credential = await _credential(key_id)
    credential.active, credential.revoked_at = False, datetime.now(UTC)
    await credential.save(update_fields=["active", "revoked_at"])
    await AuditLog.create(actor_id=actor.user_id, action="partner.revoke", target=key_id)


def secret_of(credential: PartnerCredential) -> str:
    return security.cipher().decrypt(credential.secret_enc)


# --- inbound -------------------------------------------------------------------------------


class PartnerAuthError(Exception):
    """Refused before the body was trusted; ``status`` is the HTTP answer (401 unless said)."""

    status = 401


class PartnerRequestError(PartnerAuthError):
    """A request refused for its form, not its credential: too large (413), not JSON (415), unreadable."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


#: Unix seconds have 10 digits until the year 2286; a longer timestamp is refused unread.
TIMESTAMP_DIGITS_MAX = 12
#: Deepest nesting of arrays and objects a partner payload may have.
PAYLOAD_DEPTH_MAX = 32


@dataclass
class VerifiedRequest:
    credential: PartnerCredential
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def unauthorized(reason: str) -> JSONResponse:
    return JSONResponse({"error": "unauthorized", "reason": reason}, status_code=401)


def invalid(errors: list[dict[str, str]]) -> JSONResponse:
    """422 with one ``{"field", "message"}`` per problem."""
    return JSONResponse({"error": "invalid payload", "errors": errors}, status_code=422)


async def verify_request(request: Request, plugin: str) -> VerifiedRequest:
    """Check headers, size, key, timestamp window and signature; raises ``PartnerAuthError``.

    The cheap checks come first and the body is read last, streamed and no further than
    ``ZONGZHI_WEBHOOK_MAX_BYTES``: a request without well-formed signature headers costs no
    database query, no signature and no body read; a larger body is refused with 413 as soon as
    its declared length or its streamed bytes pass the limit.
    """
    key_id = request.headers.get(KEY_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not (key_id and timestamp and signature):
        raise PartnerAuthError("missing signature headers")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= TIMESTAMP_DIGITS_MAX):
        raise PartnerAuthError("bad timestamp")
    if abs(time.time() - int(timestamp)) > security.settings().webhook_window_seconds:
        raise PartnerAuthError("timestamp outside the replay window")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise PartnerRequestError(415, "the body must be application/json")
    limit = security.settings().webhook_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise PartnerRequestError(413, f"the body is larger than {limit} bytes")
    credential = await PartnerCredential.get_or_none(key_id=key_id)
    if credential is None or not credential.active or credential.plugin != plugin:
        raise PartnerAuthError("unknown partner")
    body = await _read_body(request, limit)
    if not hmac.compare_digest(sign(secret_of(credential), timestamp, body), signature):
        raise PartnerAuthError("bad signature")
    return VerifiedRequest(credential=credential, body=body)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, streamed: refused with 413 at the first chunk past ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PartnerRequestError(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _depth_over(data: Any, limit: int) -> bool:
    """Whether ``data`` nests arrays and objects deeper than ``limit`` (iteratively: no recursion)."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


# --- outbound ------------------------------------------------------------------------------


async def queue_delivery(
    plugin: str,
    credential: PartnerCredential,
    kind: str,
    payload: dict,
    *,
    case: Case | None,
    event: CaseEvent | None,
) -> Delivery | None:
    """Store a delivery to the partner's callback (nothing if this event already queued one)."""
    if not credential.callback_url:
        return None
    try:
        delivery = await Delivery.create(
            plugin=plugin,
            credential=credential,
            case=case,
            event=event,
            kind=kind,
            payload=payload,
            next_attempt_at=datetime.now(UTC),
        )
    except IntegrityError:
        return None
    # The platform's kicker sends it now rather than at the next sweep.
    try:
        current().kicker()
    except Exception as exc:  # the periodic sweep sends it anyway
        log.warning("could not trigger delivery %s now: %s", delivery.id, exc)
    return delivery


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=security.settings().delivery_backoff_seconds * 2 ** max(attempts - 1, 0))


async def attempt(delivery: Delivery, client: httpx.AsyncClient | None = None) -> bool:
    """One try at sending ``delivery``; records the attempt and schedules the next one."""
    credential = await PartnerCredential.get(id=delivery.credential_id)
    body = json.dumps(
        {"delivery_id": delivery.id, "kind": delivery.kind, "payload": delivery.payload}, ensure_ascii=False
    ).encode()
    started = time.monotonic()
    status_code, error = None, ""
    try:
        own = client is None
        client = client or httpx.AsyncClient(timeout=10)
        try:
            response = await client.post(
                credential.callback_url,
                content=body,
                headers=signed_headers(credential.key_id, secret_of(credential), body),
            )
        finally:
            if own:
                await client.aclose()
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    await DeliveryAttempt.create(
        delivery=delivery,
        status_code=status_code,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    delivery.attempts += 1
    now = datetime.now(UTC)
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = (
            "sent",
            now,
            None,
            "",
        )
    elif delivery.attempts >= security.settings().delivery_max_attempts:
        delivery.status, delivery.next_attempt_at, delivery.last_error = "failed", None, error
    else:
        delivery.next_attempt_at, delivery.last_error = now + _backoff(delivery.attempts), error
    await delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at", "last_error"])
    metrics.DELIVERY_ATTEMPTS.labels("retry" if delivery.status == "pending" else delivery.status).inc()
    return not error


async def deliver_due(limit: int = 100) -> int:
    """Send every pending delivery whose time has come; returns how many were sent."""
    now = datetime.now(UTC)
    due = await Delivery.filter(status="pending", next_attempt_at__lte=now).order_by("id").limit(limit)
    sent = 0
    async with httpx.AsyncClient(timeout=10) as client:
        for delivery in due:
            claimed = await Delivery.filter(
                id=delivery.id, status="pending", attempts=delivery.attempts
            ).update(next_attempt_at=now + timedelta(minutes=5))
            if claimed:
                sent += await attempt(delivery, client)
    return sent


async def retry_delivery(actor: Actor, delivery_id: int) -> Delivery:
    """An admin sends a failed delivery again, from a fresh count of attempts."""
    _require_admin(actor)
    delivery = await resolve_ref(actor, Delivery, delivery_id, "deliveryId")
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, datetime.now(UTC)
    await delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    await AuditLog.create(actor_id=actor.user_id, action="delivery.retry", target=str(delivery_id))
    await attempt(delivery)
    return await Delivery.get(id=delivery_id)


# --- shared intake -------------------------------------------------------------------------


def payload_errors(schema: dict, data: Any) -> list[dict[str, str]]:
    """Field errors of ``data`` against a JSON Schema, with dotted field paths (``parties[0].name``)."""
    import jsonschema

    errors = []
    for error in sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path)
    ):
        path = ""
        for part in error.absolute_path:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        if error.validator == "required":
            missing = error.message.split("'")[1]
            path = f"{path}.{missing}" if path else missing
        errors.append({"field": path or "(body)", "message": error.message})
    return errors


async def read_payload(request: Request, plugin: str, schema: dict) -> VerifiedRequest | JSONResponse:
    """The verified, schema-valid request, or the 401/422 response to send instead."""
    try:
        verified = await verify_request(request, plugin)
    except PartnerRequestError as exc:
        return JSONResponse({"error": "refused", "reason": str(exc)}, status_code=exc.status)
    except PartnerAuthError as exc:
        return unauthorized(str(exc))
    try:
        data = verified.json()
    except (ValueError, RecursionError):
        return invalid([{"field": "(body)", "message": "the body is not UTF-8 JSON (or nests too deeply)"}])
    if _depth_over(data, PAYLOAD_DEPTH_MAX):
        too_deep = f"the body nests deeper than {PAYLOAD_DEPTH_MAX} levels"
        return invalid([{"field": "(body)", "message": too_deep}])
    problems = payload_errors(schema, data)
    if problems:
        return invalid(problems)
    return verified


#: A person as partners send one; plugins use it inside their payload schemas.
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 60},
        "id_number": {"type": "string"},
        "phone": {"type": "string"},
        "address": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}

#: A party: a person with a role in the case.
PARTY_SCHEMA: dict[str, Any] = {
    **PERSON_SCHEMA,
    "required": ["name", "role"],
    "properties": {**PERSON_SCHEMA["properties"], "role": {"enum": ["applicant", "respondent", "other"]}},
}


async def receiving_center(credential: PartnerCredential, area_code: str | None) -> Center | None:
    """The center whose area code the partner gave, else the partner's own center, else ``None``."""
    center = await Center.get_or_none(code=area_code) if area_code else None
    if center is None and credential.center_id:
        center = await Center.get_or_none(id=credential.center_id)
    return center
