"""The citizens' door: code → session → report → review → status → rating; limits; privacy; Open311."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.casework import actor, take_to
from tests.gql import gql
from zongzhi.platform.base import security, sms
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.models import Case, CaseEvent, CitizenReport, Evidence
from zongzhi.platform.services import citizens

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64
VILLAGE = "330110001001"  # 甲一村


def _last_code(phone: str) -> str:
    sent = sms.sender(security.settings()).sent
    text = next(t for p, t in reversed(sent) if p == phone)
    return re.search(r"\d{6}", text).group(0)


async def _session(client, phone: str) -> str:
    r = await client.post("/public/codes", json={"phone": phone})
    assert r.status_code == 202, r.text
    r = await client.post("/public/sessions", json={"phone": phone, "code": _last_code(phone)})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_citizen_flow_from_code_to_rating(client, world):
    phone = "13800138000"
    r = await client.post("/public/codes", json={"phone": phone})
    assert r.status_code == 202
    r = await client.post("/public/sessions", json={"phone": phone, "code": "000000"})
    wrong = r.json()["error"]
    assert r.status_code == 400 and wrong["field"] == "code"
    r = await client.post("/public/sessions", json={"phone": phone, "code": _last_code(phone)})
    token = r.json()["token"]
    # A used code does not open a second session.
    again = await client.post("/public/sessions", json={"phone": phone, "code": _last_code(phone)})
    assert again.status_code == 400
    assert (await client.post("/public/reports", json={"center": VILLAGE})).status_code == 401
    r = await client.post(
        "/public/reports",
        data={
            "center": VILLAGE,
            "category": "environment",
            "description": "河边有人倾倒垃圾\n请处理",
            "lat": "30.05",
            "long": "120.05",
            "address": "甲一村河边",
        },
        files=[("photos", ("river.png", PNG, "image/png"))],
        headers=_auth(token),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    tracking = body["tracking"]
    assert body["status"] == "已收到，等待工作人员审核" and not body["can_rate"]
    # Staff see it held and accept it into a case through intake; the photo becomes evidence.
    held = await gql(client, world.tokens["a1_staff"], "{ citizenReports { id tracking photos } }")
    assert [(x["tracking"], x["photos"]) for x in held["citizenReports"]] == [(tracking, 1)]
    assert (await gql(client, world.tokens["b_staff"], "{ citizenReports { id } }"))["citizenReports"] == []
    accepted = await gql(
        client,
        world.tokens["a1_staff"],
        "mutation($r: ID!) { reviewCitizenReport(reportId: $r, accept: true) { status caseId } }",
        {"r": held["citizenReports"][0]["id"]},
    )
    assert accepted["reviewCitizenReport"]["status"] == "accepted"
    report = await CitizenReport.get(tracking=tracking)
    case = await Case.get(id=report.case_id)
    assert case.channel == "online" and case.title == "河边有人倾倒垃圾"
    assert await Evidence.filter(case_id=case.id, status="stored").count() == 1
    # The case is handled by township A's mediator; the citizen sees plain words, no names.
    await take_to(world, case, CaseStatus.resolved, staff="a_staff")
    r = await client.get(f"/public/reports/{tracking}", headers=_auth(token))
    status = r.json()
    assert status["status"] == "调解成功" and status["can_rate"]
    shown = r.text
    for name in ("a_mediator", "a_staff", "a1_staff", "张三"):
        assert name not in shown
    assert [s["step"] for s in status["steps"]][:2] == ["提交上报", "受理登记"]
    r = await client.post(f"/public/reports/{tracking}/rating", json={"stars": 6}, headers=_auth(token))
    assert r.status_code == 400 and r.json()["error"]["field"] == "stars"
    r = await client.post(
        f"/public/reports/{tracking}/rating", json={"stars": 4, "note": "满意"}, headers=_auth(token)
    )
    assert r.status_code == 200 and r.json()["rating"] == 4
    assert await CaseEvent.filter(case_id=case.id, type="case.rated").count() == 1
    r = await client.post(f"/public/reports/{tracking}/rating", json={"stars": 1}, headers=_auth(token))
    assert r.status_code == 400


async def test_a_citizen_never_sees_another_citizens_report(client, world):
    mine = await _session(client, "13800138001")
    theirs = await _session(client, "13900139002")
    r = await client.post(
        "/public/reports",
        json={"center": VILLAGE, "category": "neighbor", "description": "邻居装修噪音"},
        headers=_auth(mine),
    )
    tracking = r.json()["tracking"]
    other = await client.get(f"/public/reports/{tracking}", headers=_auth(theirs))
    assert other.status_code == 404 and "邻居" not in other.text
    forged = mine[:-2] + ("00" if not mine.endswith("00") else "11")
    assert (await client.get(f"/public/reports/{tracking}", headers=_auth(forged))).status_code == 401
    listed = await client.get("/open311/v2/requests.json", params={"api_key": theirs})
    assert listed.json() == []


async def test_rate_limits_per_phone_and_address(client, world, settings):
    phone = "13700137000"
    assert (await client.post("/public/codes", json={"phone": phone})).status_code == 202
    r = await client.post("/public/codes", json={"phone": phone})
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    token = await _session(client, "13700137001")
    for i in range(settings.public_reports_per_phone_day):
        r = await client.post(
            "/public/reports",
            json={"center": VILLAGE, "category": "other", "description": f"第{i}件"},
            headers=_auth(token),
        )
        assert r.status_code == 201
    r = await client.post(
        "/public/reports",
        json={"center": VILLAGE, "category": "other", "description": "再一件"},
        headers=_auth(token),
    )
    assert r.status_code == 429
    # The address limit counts codes and reports from one client address in the hour.
    platform = client.app.state.platform
    platform.settings = replace(settings, public_requests_per_address_hour=7)  # 2 codes and 5 reports so far
    r = await client.post("/public/codes", json={"phone": "13600136000"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"


async def test_size_limits_and_photo_checks(client, world):
    token = await _session(client, "13500135000")
    r = await client.post(
        "/public/reports",
        json={"center": VILLAGE, "category": "other", "description": "长" * 2001},
        headers=_auth(token),
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "description"
    r = await client.post(
        "/public/reports",
        data={"center": VILLAGE, "category": "other", "description": "照片"},
        files=[("photos", ("x.png", b"%PDF-1.4 fake", "image/png"))],
        headers=_auth(token),
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "photos[0].contentType"
    assert await CitizenReport.all().count() == 0


async def test_rejected_report_and_review_rights(client, world):
    token = await _session(client, "13400134000")
    r = await client.post(
        "/public/reports",
        json={"center": VILLAGE, "category": "other", "description": "广告"},
        headers=_auth(token),
    )
    report = await CitizenReport.get(tracking=r.json()["tracking"])
    with pytest.raises(Exception) as err:
        await citizens.review(await actor(world, "b_staff"), report.id, False, "无关")
    assert err.value.code == "NOT_FOUND"
    with pytest.raises(Exception) as err:
        await citizens.review(await actor(world, "a1_staff"), report.id, False, "")
    assert err.value.field == "reason"
    await citizens.review(await actor(world, "a1_staff"), report.id, False, "不属于受理范围")
    status = (await client.get(f"/public/reports/{report.tracking}", headers=_auth(token))).json()
    assert status["status"] == "未予受理：不属于受理范围"
    assert await Case.all().count() == 0


# --- Open311 GeoReport v2 ---------------------------------------------------------------------

# Keys of the GeoReport v2 examples (wiki.open311.org/GeoReport_v2): GET services, POST requests
# (the token form), GET requests and GET tokens.
SERVICE_KEYS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_KEYS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


async def test_open311_facade_follows_the_georeport_v2_examples(client, world):
    services = (await client.get("/open311/v2/services.json")).json()
    assert all(set(s) == SERVICE_KEYS for s in services)
    assert {"service_code": "environment", "type": "realtime", "metadata": False}.items() <= next(
        s for s in services if s["service_code"] == "environment"
    ).items()
    token = await _session(client, "13300133000")
    # The example POST: form-encoded, with jurisdiction_id, service_code, lat/long and description.
    r = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": token,
            "jurisdiction_id": VILLAGE,
            "service_code": "environment",
            "lat": "30.05",
            "long": "120.05",
            "address_string": "甲一村河边",
            "email": "ignored@example.com",
            "first_name": "ignored",
            "description": "河边有人倾倒垃圾",
        },
    )
    assert r.status_code == 201, r.text
    (answer,) = r.json()
    assert {"token", "service_request_id", "service_notice", "account_id"} == set(answer)
    request_id = answer["service_request_id"]
    tokens = (
        await client.get(f"/open311/v2/tokens/{answer['token']}.json", params={"api_key": token})
    ).json()
    assert tokens == [{"service_request_id": request_id, "token": answer["token"]}]
    listed = (await client.get("/open311/v2/requests.json", params={"api_key": token})).json()
    assert len(listed) == 1 and set(listed[0]) == REQUEST_KEYS
    assert listed[0]["status"] == "open" and listed[0]["long"] == 120.05
    one = (await client.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": token})).json()
    assert one[0]["service_request_id"] == request_id and one[0]["status_notes"] == "已收到，等待工作人员审核"
    # Errors in the GeoReport v2 form: a list of {code, description}.
    bad = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": token,
            "jurisdiction_id": VILLAGE,
            "service_code": "nope",
            "lat": "30",
            "long": "120",
            "description": "x",
        },
    )
    assert bad.status_code == 400 and set(bad.json()[0]) == {"code", "description"}
    nokey = await client.get("/open311/v2/requests.json")
    assert nokey.status_code == 401 and nokey.json()[0]["code"] == 401
    # Accepted and concluded, the request is closed.
    report = await CitizenReport.get(tracking=request_id)
    await citizens.review(await actor(world, "a1_staff"), report.id, True)
    case = await Case.get(id=(await CitizenReport.get(id=report.id)).case_id)
    await take_to(world, case, CaseStatus.closed, staff="a_staff")
    closed = (await client.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": token})).json()
    assert closed[0]["status"] == "closed" and closed[0]["status_notes"] == "已办结"


async def test_citizen_chooses_a_mediator_from_the_wall(client, world):
    from zongzhi.platform.models import MediatorChoice
    from zongzhi.platform.services import mediators
    from zongzhi.platform.services.accounts import create_user

    mediator = world.users["a_mediator"]
    await mediators.save_profile(await actor(world, "a_staff"), mediator.id, organisation="甲镇人调委")
    wall = (await client.get(f"/public/centers/{VILLAGE}/mediators")).json()
    assert [(m["id"], m["organisation"]) for m in wall] == [(mediator.id, "甲镇人调委")]
    assert "phone" not in wall[0] and "username" not in wall[0]
    far = await create_user("b_mediator", "乙镇调解员", ["mediator"], center=world.centers["tb"])
    token = await _session(client, "13200132000")
    r = await client.post(
        "/public/reports",
        json={"center": VILLAGE, "category": "neighbor", "description": "邻里纠纷", "mediator": far.id},
        headers=_auth(token),
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "mediator"
    r = await client.post(
        "/public/reports",
        json={"center": VILLAGE, "category": "neighbor", "description": "邻里纠纷", "mediator": mediator.id},
        headers=_auth(token),
    )
    report = await CitizenReport.get(tracking=r.json()["tracking"])
    await citizens.review(await actor(world, "a1_staff"), report.id, True)
    (choice,) = await MediatorChoice.filter(mediator_id=mediator.id)
    assert choice.source == "citizen" and choice.status == "requested"
    await mediators.answer(await actor(world, "a_mediator"), choice.id, True)
    status = (await client.get(f"/public/reports/{report.tracking}", headers=_auth(token))).json()
    assert status["status"] == "正在办理" and "调解员已接单" in [s["step"] for s in status["steps"]]
