"""The citizens' door: public HTTP endpoints, separate from the staff GraphQL API.

``/public/...`` is the door's own JSON API (code, session, report, status, rating, mediators' wall);
``/open311/v2/...`` is an Open311 GeoReport v2 facade over the same flow (JSON only), so existing 311
clients can file and follow requests. The ``api_key`` of GeoReport v2 carries the citizen's session
token (from ``POST /public/sessions``); ``jurisdiction_id`` is a center's 12-digit code. Every rule —
limits, checks, the review — lives in ``services.citizens``; nothing here reaches staff data.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zongzhi.platform.base.codes import CATEGORIES, CaseStatus
from zongzhi.platform.base.errors import ServiceError
from zongzhi.platform.models import Center, CitizenReport, MediatorProfile
from zongzhi.platform.services import citizens

BODY_MAX = 20 * 1024 * 1024
STATUS_CODES = {
    "VALIDATION": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "RATE_LIMITED": 429,
}


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _error(exc: ServiceError, open311: bool = False) -> JSONResponse:
    status = STATUS_CODES.get(exc.code, 400)
    headers = {"Retry-After": str(exc.details["retryAfter"])} if "retryAfter" in exc.details else None
    if open311:
        return JSONResponse([{"code": status, "description": exc.message}], status, headers=headers)
    body = {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
    return JSONResponse(body, status, headers=headers)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


async def _json(request: Request) -> dict:
    if int(request.headers.get("content-length") or 0) > 64 * 1024:
        raise citizens.ValidationFailed("the request is too large", field="body")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise citizens.ValidationFailed("the body is not JSON", field="body") from None
    if not isinstance(body, dict):
        raise citizens.ValidationFailed("the body is a JSON object", field="body")
    return body


def _float(value: Any, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise citizens.ValidationFailed("not a number", field=field) from None


def _int(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise citizens.ValidationFailed("not a whole number", field=field) from None


async def _center_by_code(code: Any, field: str = "center") -> Center:
    center = await Center.get_or_none(code=str(code or ""), active=True)
    if center is None:
        raise citizens.ValidationFailed("no center with that code", field=field)
    return center


def public_routes(store) -> list[Route]:
    async def send_code(request: Request) -> Response:
        try:
            body = await _json(request)
            await citizens.request_code(str(body.get("phone") or ""), _client(request))
        except ServiceError as exc:
            return _error(exc)
        return JSONResponse({"sent": True}, 202)

    async def open_session(request: Request) -> Response:
        try:
            body = await _json(request)
            token = await citizens.verify_code(str(body.get("phone") or ""), str(body.get("code") or ""))
        except ServiceError as exc:
            return _error(exc)
        return JSONResponse({"token": token, "expires_in": citizens.SESSION_SECONDS})

    async def file_report(request: Request) -> Response:
        try:
            if int(request.headers.get("content-length") or 0) > BODY_MAX:
                raise citizens.ValidationFailed("the request is too large", field="photos")
            photos = []
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                form = await request.form(max_files=citizens.PHOTOS_MAX + 1, max_fields=20)
                fields = {k: v for k, v in form.items() if isinstance(v, str)}
                for upload in form.getlist("photos"):
                    if isinstance(upload, str):
                        continue
                    data = await upload.read(citizens.PHOTO_MAX_BYTES + 1)
                    photos.append((upload.filename or "photo", upload.content_type or "", data))
            else:
                fields = await _json(request)
            center = await _center_by_code(fields.get("center"))
            report = await citizens.submit(
                _bearer(request),
                center_id=center.id,
                category=str(fields.get("category") or ""),
                description=str(fields.get("description") or ""),
                client_address=_client(request),
                lat=_float(fields.get("lat"), "lat"),
                lng=_float(fields.get("long"), "long"),
                address=str(fields.get("address") or ""),
                photos=photos,
                mediator_id=_int(fields.get("mediator"), "mediator"),
                store=store,
            )
        except ServiceError as exc:
            return _error(exc)
        return JSONResponse(await citizens.plain_status(report), 201)

    async def report_status(request: Request) -> Response:
        try:
            report = await citizens.own_report(_bearer(request), request.path_params["tracking"])
        except ServiceError as exc:
            return _error(exc)
        return JSONResponse(await citizens.plain_status(report))

    async def rate_report(request: Request) -> Response:
        try:
            body = await _json(request)
            stars = body.get("stars")
            report = await citizens.rate(
                _bearer(request),
                request.path_params["tracking"],
                stars if isinstance(stars, int) else 0,
                str(body.get("note") or ""),
            )
        except ServiceError as exc:
            return _error(exc)
        return JSONResponse(await citizens.plain_status(report))

    async def mediator_wall(request: Request) -> Response:
        from zongzhi.platform.services import mediators

        try:
            center = await _center_by_code(request.path_params["code"])
            pairs = await mediators.wall(center.id)
        except ServiceError as exc:
            return _error(exc)
        figs = await mediators.figures([u.id for u, _ in pairs])
        return JSONResponse(
            [
                {
                    "id": u.id,
                    "name": u.display_name,
                    "title": u.title,
                    "organisation": p.organisation,
                    "org_kind": p.org_kind,
                    "specialties": [{"code": s, "label": CATEGORIES.label(s)} for s in p.specialties],
                    "intro": p.intro,
                    "contact": p.contact,
                    "available": p.available,
                    "photo": f"/public/mediators/{u.id}/photo" if p.photo_key else None,
                    "load": figs[u.id].load,
                    "concluded": figs[u.id].concluded,
                    "resolved": figs[u.id].resolved,
                    "success_rate": figs[u.id].success_rate,
                }
                for u, p in pairs
            ]
        )

    async def mediator_photo(request: Request) -> Response:
        profile = await MediatorProfile.get_or_none(user_id=int(request.path_params["id"]), listed=True)
        if profile is None or not profile.photo_key:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "no photo"}}, 404)
        info = await store.stat(profile.photo_key)
        data = await store.head_bytes(profile.photo_key, info.size if info else 0)
        return Response(
            data,
            media_type=profile.photo_type or "application/octet-stream",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"},
        )

    async def categories(request: Request) -> Response:
        return JSONResponse([{"code": c, "label": label} for c, label in CATEGORIES.items()])

    return [
        Route("/public/codes", send_code, methods=["POST"]),
        Route("/public/sessions", open_session, methods=["POST"]),
        Route("/public/categories", categories, methods=["GET"]),
        Route("/public/reports", file_report, methods=["POST"]),
        Route("/public/reports/{tracking}", report_status, methods=["GET"]),
        Route("/public/reports/{tracking}/rating", rate_report, methods=["POST"]),
        Route("/public/centers/{code}/mediators", mediator_wall, methods=["GET"]),
        Route("/public/mediators/{id:int}/photo", mediator_photo, methods=["GET"]),
        *open311_routes(store),
    ]


# --- Open311 GeoReport v2 --------------------------------------------------------------------

OPEN311_CLOSED = {
    CaseStatus.resolved,
    CaseStatus.failed,
    CaseStatus.closed,
    CaseStatus.followed_up,
    CaseStatus.rejected,
    CaseStatus.withdrawn,
}


async def _open311_request(report: CitizenReport) -> dict:
    plain = await citizens.plain_status(report)
    closed = report.status == "rejected" or plain["state"] in {s.value for s in OPEN311_CLOSED}
    return {
        "service_request_id": report.tracking,
        "status": "closed" if closed else "open",
        "status_notes": plain["status"],
        "service_name": CATEGORIES.label(report.category),
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": (await Center.get(id=report.center_id)).name,
        "service_notice": "",
        "requested_datetime": report.created_at.isoformat(),
        "updated_datetime": plain["steps"][-1]["at"],
        "expected_datetime": None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lng,
        "media_url": None,
    }


def open311_routes(store) -> list[Route]:
    async def services(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "service_code": code,
                    "service_name": label,
                    "description": label,
                    "metadata": False,
                    "type": "realtime",
                    "keywords": "",
                    "group": "矛盾纠纷"
                    if code not in ("safety_hazard", "livelihood_service", "public_opinion")
                    else "随手拍",
                }
                for code, label in CATEGORIES.items()
            ]
        )

    async def post_request(request: Request) -> Response:
        try:
            if int(request.headers.get("content-length") or 0) > BODY_MAX:
                raise citizens.ValidationFailed("the request is too large", field="media")
            form = await request.form(max_files=citizens.PHOTOS_MAX + 1, max_fields=40)
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            photos = []
            for upload in form.getlist("media"):
                if not isinstance(upload, str):
                    data = await upload.read(citizens.PHOTO_MAX_BYTES + 1)
                    photos.append((upload.filename or "photo", upload.content_type or "", data))
            center = await _center_by_code(fields.get("jurisdiction_id"), "jurisdiction_id")
            lat, lng = _float(fields.get("lat"), "lat"), _float(fields.get("long"), "long")
            address = fields.get("address_string") or ""
            if (lat is None or lng is None) and not address:
                raise citizens.ValidationFailed("a location is lat and long, or address_string", field="lat")
            report = await citizens.submit(
                fields.get("api_key"),
                center_id=center.id,
                category=fields.get("service_code") or "",
                description=fields.get("description") or "",
                client_address=_client(request),
                lat=lat,
                lng=lng,
                address=address,
                photos=photos,
                store=store,
            )
        except ServiceError as exc:
            return _error(exc, open311=True)
        # Held for review: no case (service request) yet, so GeoReport's token form of the answer.
        return JSONResponse(
            [
                {
                    "token": report.tracking,
                    "service_request_id": report.tracking,
                    "service_notice": "已收到，工作人员审核后受理",
                    "account_id": None,
                }
            ],
            201,
        )

    async def get_requests(request: Request) -> Response:
        key = request.query_params.get("api_key")
        wanted = request.path_params.get("id") or request.query_params.get("service_request_id") or ""
        try:
            phone = citizens.session_phone(key)
            qs = CitizenReport.filter(phone_hash=phone)
            if wanted:
                qs = qs.filter(tracking__in=[w.strip().upper() for w in wanted.split(",")][:50])
            if code := request.query_params.get("service_code"):
                qs = qs.filter(category__in=code.split(","))
            rows = await qs.order_by("-created_at").limit(1000 if wanted else 100)
        except ServiceError as exc:
            return _error(exc, open311=True)
        if request.path_params.get("id") and not rows:
            return JSONResponse([{"code": 404, "description": "no such request from your phone"}], 404)
        return JSONResponse([await _open311_request(r) for r in rows])

    async def token(request: Request) -> Response:
        try:
            report = await citizens.own_report(
                request.query_params.get("api_key"), request.path_params["token"]
            )
        except ServiceError as exc:
            return _error(exc, open311=True)
        return JSONResponse([{"service_request_id": report.tracking, "token": report.tracking}])

    return [
        Route("/open311/v2/services.json", services, methods=["GET"]),
        Route("/open311/v2/requests.json", post_request, methods=["POST"]),
        Route("/open311/v2/requests.json", get_requests, methods=["GET"]),
        Route("/open311/v2/requests/{id}.json", get_requests, methods=["GET"]),
        Route("/open311/v2/tokens/{token}.json", token, methods=["GET"]),
    ]
