"""诉调对接 end to end over HTTP, with the court played by a real local HTTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx

from tests.casework import actor
from tests.gql import GraphQLErrors, gql
from tests.platforms import running
from tests.plugins.conftest import make_partner, post_signed
from zongzhi.platform import partners
from zongzhi.platform.base.codes import AssignmentMode
from zongzhi.platform.models import Case, Delivery, PartnerRecord
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.wiring import runtime
from zongzhi.platform.wiring.platform import Platform

REFERRALS = "/partners/court_docking/referrals"
CONFIRMATIONS = "/partners/court_docking/confirmations"


def referral(number: str = "(2026)浙0110民诉前调1234号", **overrides) -> dict:
    return {
        "case_number": number,
        "court": "示范县人民法院",
        "claim": "装修款支付纠纷，原告请求支付剩余工程款",
        "amount": "52000.00",
        "referral_date": "2026-11-20",
        "area_code": "330110001000",
        "parties": [
            {"name": "周一", "role": "applicant", "id_number": "11010519491231002X", "phone": "13800138000"},
            {"name": "吴二", "role": "respondent"},
        ],
    } | overrides


async def test_referral_to_agreement_to_confirmation(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    r = await post_signed(client, REFERRALS, key, secret, referral())
    assert r.status_code == 201, r.text
    case = await Case.get(number=r.json()["number"])
    assert case.channel == "court" and case.center_id == world.centers["ta"].id, "the parties' township"
    assert case.resolve_by is not None and case.resolve_by - case.created_at > timedelta(days=29), (
        "30-day rule"
    )
    assert (await PartnerRecord.get(case_id=case.id)).data["court"] == "示范县人民法院"

    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case.id)
    await svc.resolve(mediator, case.id, "双方达成调解协议", "被告分两期支付52000元", "52000")
    await partners.deliver_due()
    assert partner_server.kinds() == ["mediation_succeeded"]
    sent = partner_server.received[0]
    assert sent.signature_ok and sent.body["payload"]["case_number"] == "(2026)浙0110民诉前调1234号"
    assert sent.body["payload"]["amount"] == "52000.00"

    cid = to_global_id("Case", case.id)
    asked = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($c: ID!) { requestJudicialConfirmation(caseId: $c) { confirmation } }",
        {"c": cid},
    )
    assert asked["requestJudicialConfirmation"]["confirmation"] == "requested"
    await partners.deliver_due()
    assert partner_server.kinds() == ["mediation_succeeded", "confirmation_request"]

    answer = {"case_number": "(2026)浙0110民诉前调1234号", "result": "confirmed", "decided_at": "2026-11-25"}
    assert (await post_signed(client, CONFIRMATIONS, key, secret, answer)).status_code == 200
    seen = await gql(
        client,
        world.tokens["a_staff"],
        "query($c: ID!) { courtReferral(caseId: $c) { caseNumber court amount confirmation } "
        "case(id: $c) { timeline { type label } } }",
        {"c": cid},
    )
    assert seen["courtReferral"] == {
        "caseNumber": "(2026)浙0110民诉前调1234号",
        "court": "示范县人民法院",
        "amount": "52000.00",
        "confirmation": "confirmed",
    }
    assert {"type": "court.confirmed", "label": "司法确认"} in seen["case"]["timeline"]


async def test_failed_mediation_goes_back_for_fast_track_trial(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    r = await post_signed(client, REFERRALS, key, secret, referral())
    case = await Case.get(number=r.json()["number"])
    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case.id)
    await svc.fail(mediator, case.id, "双方对欠款数额无争议，对违约金有争议", "court_fast_track")
    await partners.deliver_due()
    (sent,) = partner_server.received
    assert sent.body["kind"] == "returned_for_trial"
    assert sent.body["payload"]["undisputed_facts"] == "双方对欠款数额无争议，对违约金有争议"


async def test_bad_signature_stale_unknown_and_foreign_keys_get_401(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    cases = [
        await post_signed(client, REFERRALS, key, "not-the-secret", referral()),
        await post_signed(client, REFERRALS, key, secret, referral(), tamper=True),
        await post_signed(client, REFERRALS, key, secret, referral(), age=6 * 60),
        await post_signed(client, REFERRALS, "court-unknown", secret, referral()),
        await client.post(REFERRALS, json=referral()),
    ]
    assert [r.status_code for r in cases] == [401] * 5
    other = await partners.PartnerCredential.create(
        plugin="police_docking",
        name="派出所",
        key_id="police-x",
        secret_enc=partners.security.cipher().encrypt(secret),
    )
    assert (await post_signed(client, REFERRALS, other.key_id, secret, referral())).status_code == 401
    await partners.revoke(partners.Actor.system_actor("admin"), key)
    assert (await post_signed(client, REFERRALS, key, secret, referral())).status_code == 401
    assert await Case.all().count() == 0


async def test_malformed_payload_is_422_with_fields(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    bad = referral(amount="lots", parties=[{"role": "judge"}])
    del bad["claim"]
    r = await post_signed(client, REFERRALS, key, secret, bad)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"claim", "amount", "parties[0].name", "parties[0].role"} <= fields
    bad_id = referral(parties=[{"name": "x", "role": "applicant", "id_number": "110105194912310021"}])
    r = await post_signed(client, REFERRALS, key, secret, bad_id)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parties[0].person.idNumber"
    assert await Case.all().count() == 0


async def test_duplicate_referral_gives_the_same_case(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    first = await post_signed(client, REFERRALS, key, secret, referral())
    again = await post_signed(client, REFERRALS, key, secret, referral())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_id"] == again.json()["case_id"] and again.json()["created"] is False
    assert await Case.all().count() == 1


async def test_partner_down_retries_then_fails_then_admin_retry(rules, client, partner_server, quick_retries):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    r = await post_signed(client, REFERRALS, key, secret, referral())
    case = await Case.get(number=r.json()["number"])
    partner_server.stop()
    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case.id)
    await svc.resolve(mediator, case.id, "达成协议", "分期付款")
    for _ in range(4):
        await partners.deliver_due()
    delivery = await Delivery.get(case_id=case.id)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "ConnectError" in delivery.last_error
    listed = await gql(
        client,
        world.tokens["admin"],
        '{ deliveries(plugin: "court_docking") { id status attempts attemptLog { error } } }',
    )
    assert listed["deliveries"][0]["status"] == "failed" and len(listed["deliveries"][0]["attemptLog"]) == 3
    try:
        await gql(
            client,
            world.tokens["a_staff"],
            "mutation($d: ID!) { retryDelivery(deliveryId: $d) { status } }",
            {"d": listed["deliveries"][0]["id"]},
        )
        raise AssertionError("only admins retry deliveries")
    except GraphQLErrors as err:
        assert err.code == "FORBIDDEN"
    partner_server.start()
    retried = await gql(
        client,
        world.tokens["admin"],
        "mutation($d: ID!) { retryDelivery(deliveryId: $d) { status attempts } }",
        {"d": listed["deliveries"][0]["id"]},
    )
    assert retried["retryDelivery"] == {"status": "sent", "attempts": 1}
    assert partner_server.kinds() == ["mediation_succeeded"]


async def test_partner_token_cannot_use_general_mutations(rules, client):
    world = rules
    r = await client.post(
        "/graphql",
        json={"query": 'mutation { createCase(input: {title: "x", category: "neighbor"}) { created } }'},
        headers={"Authorization": f"Bearer {world.tokens['court_partner']}"},
    )
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_disabling_the_plugin_removes_routes_fields_and_rules(rules, settings, client, partner_server):
    world = rules
    from zongzhi.platform.wiring.app import create_app

    key, secret = await make_partner(world, partner_server, "court_docking")
    await post_signed(client, REFERRALS, key, secret, referral())
    disabled = Platform.build(replace(settings, disabled_plugins=("court_docking",)))
    disabled.publishers = [runtime.inline_publisher]
    app = create_app(platform=disabled, manage_db=False)
    with running(disabled):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            assert (await post_signed(c, REFERRALS, key, secret, referral("(2026)另一号"))).status_code == 404
            r = await c.post(
                "/graphql",
                json={"query": '{ courtReferral(caseId: "x") { court } }'},
                headers={"Authorization": f"Bearer {world.tokens['a_staff']}"},
            )
            assert "Cannot query field 'courtReferral'" in r.json()["errors"][0]["message"]
        assert "court_docking" not in {name for name, _ in await disabled.active_versions.get()}


async def test_court_figures_reach_the_statistics(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "court_docking")
    await post_signed(client, REFERRALS, key, secret, referral())
    await post_signed(client, REFERRALS, key, secret, referral("(2026)浙0110民诉前调9999号"))
    data = await gql(
        client,
        world.tokens["county_staff"],
        'query($c: ID!) { statistics(centerId: $c, period: "2026") { docking { source figures { key value } } } }',
        {"c": to_global_id("Center", world.centers["county"].id)},
    )
    court = next(d for d in data["statistics"]["docking"] if d["source"] == "court_docking")
    figures = {f["key"]: f["value"] for f in court["figures"]}
    assert figures["referred"] == 2 and figures["diversion_rate"] == 1.0
