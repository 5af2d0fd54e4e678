"""警调对接 end to end over HTTP, with the police station played by a real local HTTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.casework import actor
from tests.gql import GraphQLErrors, gql
from tests.plugins.conftest import make_partner, post_signed
from zongzhi.platform import partners
from zongzhi.platform.base.codes import AssignmentMode, Role
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.models import (
    Assignment,
    Case,
    Decision,
    Delivery,
    Notification,
    PartnerCredential,
    PartnerRecord,
)
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.accounts import create_user
from zongzhi.plugins.police_docking import plugin as police

INCIDENTS = "/partners/police_docking/incidents"


def incident(number: str = "J3301100120261120000123", **overrides) -> dict:
    return {
        "incident_number": number,
        "reported_at": "2026-11-20T21:14:00+08:00",
        "location": {"lat": 30.05, "lng": 120.05, "address": "甲一村12号"},
        "incident_type": "neighbor",
        "persons": [
            {"name": "周一", "role": "applicant", "phone": "13800138000"},
            {"name": "吴二", "role": "respondent"},
        ],
        "officer_note": "楼上装修噪音引发口角，民警现场劝离，建议调解",
        "police_station": {"code": "ga-a", "name": "甲镇派出所"},
    } | overrides


async def test_incident_routed_to_township_mediated_and_result_sent_back(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    r = await post_signed(client, INCIDENTS, key, secret, incident())
    assert r.status_code == 201, r.text
    case = await Case.get(number=r.json()["number"])
    assert case.channel == "police" and case.external_id == "J3301100120261120000123"
    assert case.grid_id == world.grids["a1g1"].id, "point-in-polygon found the grid"
    assert case.center_id == world.centers["ta"].id, "the rule routed it to the grid's township"
    assert str(case.risk) == "none" and str(case.status) == "received", "an ordinary dispute"
    record = await PartnerRecord.get(case_id=case.id, plugin="police_docking")
    assert record.data["located_by"] == "polygon"

    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case.id)
    await svc.resolve(mediator, case.id, "双方达成谅解", "楼上装修限定在工作日白天")
    await partners.deliver_due()
    assert partner_server.kinds() == ["mediation_succeeded"]
    (sent,) = partner_server.received
    assert sent.signature_ok and sent.key_id == key
    assert sent.body["payload"] == {
        "incident_number": "J3301100120261120000123",
        "police_station": "ga-a",
        "zongzhi_number": case.number,
        "outcome": "双方达成谅解",
        "agreement": "楼上装修限定在工作日白天",
        "resolved_at": sent.body["payload"]["resolved_at"],
    }

    cid = to_global_id("Case", case.id)
    seen = await gql(
        client,
        world.tokens["a_staff"],
        "query($c: ID!) { policeIncident(caseId: $c) { incidentNumber locatedBy stationCode address "
        "addressCalls30d violence } }",
        {"c": cid},
    )
    assert seen["policeIncident"] == {
        "incidentNumber": "J3301100120261120000123",
        "locatedBy": "polygon",
        "stationCode": "ga-a",
        "address": "甲一村12号",
        "addressCalls30d": 0,
        "violence": False,
    }
    hidden = await gql(
        client,
        world.tokens["b_staff"],
        "query($c: ID!) { policeIncident(caseId: $c) { incidentNumber } }",
        {"c": cid},
    )
    assert hidden["policeIncident"] is None, "another township does not see it"

    now = datetime.now(UTC)
    figures = await police.figures(None, now - timedelta(days=1), now + timedelta(days=1))
    assert figures == {"incidents_received": 1, "pushed_to_centers": 1, "resolved": 1, "resolution_rate": 1.0}


async def test_violence_is_high_risk_joint_with_the_station_and_the_station_is_alerted(
    rules, client, partner_server
):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    r = await post_signed(client, INCIDENTS, key, secret, incident(violence=True, incident_type="family"))
    assert r.status_code == 201, r.text
    case = await Case.get(number=r.json()["number"])
    assert str(case.risk) == "high" and case.category == "marriage_family"
    assert str(case.status) == "dispatched"
    units = await Assignment.filter(case_id=case.id).order_by("id")
    assert [(str(a.mode), a.center_id, a.department_id, a.lead) for a in units] == [
        ("joint", world.centers["ta"].id, None, True),
        ("joint", None, world.departments["police"].id, False),
    ]
    assert await Notification.filter(
        case_id=case.id, role="leader", center_id=world.centers["ta"].id
    ).exists()
    assert not await Decision.filter(case_id=case.id, outcome="error").exists()
    await partners.deliver_due()
    assert partner_server.kinds() == ["risk_alert"]
    assert partner_server.received[0].body["payload"]["risk"] == "high"
    assert partner_server.received[0].signature_ok

    mediator = await actor(world, "a_mediator")
    await svc.accept(mediator, case.id)
    await svc.fail(mediator, case.id, "双方分歧较大", "litigation")
    await partners.deliver_due()
    assert partner_server.kinds() == ["risk_alert", "mediation_failed"]
    assert partner_server.received[1].body["payload"]["next_step"] == "litigation"
    now = datetime.now(UTC)
    figures = await police.figures(None, now - timedelta(days=1), now + timedelta(days=1))
    assert figures["pushed_to_centers"] == 1 and figures["resolution_rate"] == 0.0


async def test_third_call_from_the_same_address_within_30_days_is_high_risk(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    quiet = {"lat": 30.05, "lng": 120.05, "address": "甲一村8号"}
    risks = []
    for n in range(3):
        r = await post_signed(client, INCIDENTS, key, secret, incident(f"J-2026-{n}", location=quiet))
        assert r.status_code == 201, r.text
        risks.append(str((await Case.get(number=r.json()["number"])).risk))
    assert risks == ["none", "none", "high"]
    third = await Case.get(external_id="J-2026-2")
    assert (await PartnerRecord.get(case_id=third.id)).data["address_calls_30d"] == 2
    old = await Case.get(external_id="J-2026-0")
    await Case.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=31))
    r = await post_signed(client, INCIDENTS, key, secret, incident("J-2026-3", location=quiet))
    assert (await Case.get(number=r.json()["number"])).risk == "high", "still two calls in 30 days"
    elsewhere = {"address": "乙一村1号", "area_code": "330110002001"}
    r = await post_signed(client, INCIDENTS, key, secret, incident("J-2026-4", location=elsewhere))
    assert (await Case.get(number=r.json()["number"])).risk == "none"


async def test_routing_falls_back_to_grid_code_area_code_then_the_station(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="tb")
    outside = {"lat": 31.5, "lng": 121.5, "grid_code": "A2-G1"}
    placed = {}
    for number, location in [
        ("by-grid", outside),
        ("by-area", {"address": "乙一村3号", "area_code": "330110002001"}),
        ("by-county-area", {"area_code": "330110000000"}),
        ("by-station", {"lat": 31.5, "lng": 121.5}),
    ]:
        r = await post_signed(client, INCIDENTS, key, secret, incident(number, location=location))
        assert r.status_code == 201, r.text
        case = await Case.get(number=r.json()["number"])
        placed[number] = (case.center_id, (await PartnerRecord.get(case_id=case.id)).data["located_by"])
    c = world.centers
    assert placed == {
        "by-grid": (c["ta"].id, "grid_code"),
        "by-area": (c["tb"].id, "area_code"),
        "by-county-area": (c["county"].id, "area_code"),
        "by-station": (c["tb"].id, "station"),
    }


async def test_bad_signature_stale_unknown_and_foreign_keys_get_401(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    court_key, court_secret = await make_partner(world, partner_server, "court_docking")
    token = world.tokens["court_partner"]
    cases = [
        await post_signed(client, INCIDENTS, key, "not-the-secret", incident()),
        await post_signed(client, INCIDENTS, key, secret, incident(), tamper=True),
        await post_signed(client, INCIDENTS, key, secret, incident(), age=6 * 60),
        await post_signed(client, INCIDENTS, key, secret, incident(), age=-6 * 60),
        await post_signed(client, INCIDENTS, "police-unknown", secret, incident()),
        await post_signed(client, INCIDENTS, court_key, court_secret, incident()),
        await client.post(INCIDENTS, json=incident(), headers={"Authorization": f"Bearer {token}"}),
    ]
    assert [r.status_code for r in cases] == [401] * 7
    assert cases[2].json()["reason"] == "timestamp outside the replay window"
    court = await post_signed(client, "/partners/court_docking/referrals", key, secret, {"case_number": "x"})
    assert court.status_code == 401, "a station's key does not open the court's endpoint"
    petition = await post_signed(client, "/partners/petition_docking/items", key, secret, {})
    assert petition.status_code in (401, 404)
    assert await Case.all().count() == 0 and await PartnerRecord.all().count() == 0


async def test_malformed_payload_is_422_with_fields(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    bad = incident(
        reported_at="yesterday",
        incident_type="murder",
        location={"lat": 95, "grid_code": ""},
        persons=[{"role": "suspect"}],
        police_station={"code": "ga-a"},
    )
    del bad["incident_number"]
    r = await post_signed(client, INCIDENTS, key, secret, bad)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {
        "incident_number",
        "reported_at",
        "incident_type",
        "location.lat",
        "location.lng",
        "location.grid_code",
        "persons[0].name",
        "persons[0].role",
        "police_station.name",
    } <= fields
    unknown_station = incident(police_station={"code": "ga-x", "name": "某派出所"})
    r = await post_signed(client, INCIDENTS, key, secret, unknown_station)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "police_station.code"
    bad_date = await post_signed(client, INCIDENTS, key, secret, incident(reported_at="2026-13-45T25:00:00Z"))
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "reported_at"
    bad_id = incident(persons=[{"name": "x", "role": "applicant", "id_number": "110105194912310021"}])
    r = await post_signed(client, INCIDENTS, key, secret, bad_id)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parties[0].person.idNumber"
    r = await post_signed(client, INCIDENTS, key, secret, [1, 2])
    assert r.status_code == 422
    assert await Case.all().count() == 0


async def test_duplicate_incident_gives_the_same_case(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    first = await post_signed(client, INCIDENTS, key, secret, incident(violence=True))
    again = await post_signed(client, INCIDENTS, key, secret, incident(violence=True))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_id"] == again.json()["case_id"] and again.json()["created"] is False
    assert await Case.all().count() == 1 and await PartnerRecord.all().count() == 1
    await partners.deliver_due()
    assert partner_server.kinds() == ["risk_alert"], "one alert, not one per delivery"


async def test_station_down_retries_then_fails_then_admin_retry(rules, client, partner_server, quick_retries):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    r = await post_signed(client, INCIDENTS, key, secret, incident())
    case = await Case.get(number=r.json()["number"])
    partner_server.stop()
    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case.id)
    await svc.resolve(mediator, case.id, "达成谅解")
    for _ in range(4):
        await partners.deliver_due()
    delivery = await Delivery.get(case_id=case.id)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "ConnectError" in delivery.last_error
    listed = await gql(
        client,
        world.tokens["admin"],
        '{ deliveries(plugin: "police_docking") { id kind status attempts attemptLog { error } } }',
    )
    (row,) = listed["deliveries"]
    assert (row["kind"], row["status"], len(row["attemptLog"])) == ("mediation_succeeded", "failed", 3)
    partner_server.start()
    retried = await gql(
        client,
        world.tokens["admin"],
        "mutation($d: ID!) { retryDelivery(deliveryId: $d) { status attempts } }",
        {"d": row["id"]},
    )
    assert retried["retryDelivery"] == {"status": "sent", "attempts": 1}
    assert partner_server.kinds() == ["mediation_succeeded"] and partner_server.received[0].signature_ok


async def test_partner_token_cannot_use_general_graphql(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "police_docking", center="ta")
    r = await post_signed(client, INCIDENTS, key, secret, incident())
    cid = r.json()["case_id"]
    user = await create_user("police_partner", "甲镇派出所", [str(Role.partner)], plugin="police_docking")
    token = issue_jwt(user.id, user.username)
    for query, variables in [
        ('mutation { createCase(input: {title: "x", category: "neighbor"}) { created } }', {}),
        ('mutation($c: ID!) { resolveCase(caseId: $c, outcome: "x") { id } }', {"c": cid}),
        ("mutation($d: ID!) { retryDelivery(deliveryId: $d) { status } }", {"d": "RGVsaXZlcnk6MQ=="}),
    ]:
        try:
            await gql(client, token, query, variables)
            raise AssertionError(f"a partner token ran {query}")
        except GraphQLErrors as err:
            assert err.code in ("FORBIDDEN", "NOT_FOUND", "GRAPHQL_VALIDATION_FAILED"), err.errors
    seen = await gql(
        client, token, "query($c: ID!) { policeIncident(caseId: $c) { incidentNumber } }", {"c": cid}
    )
    assert seen["policeIncident"] is None, "a partner token sees no cases over GraphQL"
    assert await Case.all().count() == 1
    assert await PartnerCredential.filter(plugin="police_docking").count() == 1
