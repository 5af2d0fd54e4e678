"""访调对接 end to end over HTTP, with the petition office played by a real local HTTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from tests.casework import actor
from tests.gql import GraphQLErrors, gql
from tests.plugins.conftest import make_partner, post_signed
from zongzhi.platform import partners
from zongzhi.platform.base.codes import AssignmentMode, Role
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.models import Case, CaseEvent, Delivery, PartnerRecord
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.accounts import create_user
from zongzhi.plugins.petition_docking import plugin as petition

ITEMS = "/partners/petition_docking/items"
EXTEND = (
    "mutation($c: ID!, $r: String!) { extendPetitionDeadline(caseId: $c, reason: $r) { extended handleBy } }"
)


def china_day(at: datetime) -> date:
    """The day in China time: a deadline of N days runs to the end of the Nth day after receipt."""
    return at.astimezone(timezone(timedelta(hours=8))).date()


def item(number: str = "XF330110202611200042", **overrides) -> dict:
    return {
        "item_number": number,
        "item_type": "claim",
        "petitioner": {"name": "周一", "id_number": "11010519491231002X", "phone": "13800138000"},
        "respondent": {"name": "某物业公司"},
        "matter": "小区物业拒不退还装修押金，多次协商未果，请求退还押金3000元",
        "category": "property_management",
        "office": {"name": "甲镇信访办", "area_code": "330110001000"},
        "received_date": "2026-11-20",
    } | overrides


async def _mediate_to_follow_up(world, case_id: int) -> None:
    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case_id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case_id)
    await svc.resolve(mediator, case_id, "物业同意退还押金", "三日内退还押金3000元", "3000")
    await svc.close(staff, case_id)
    await svc.follow_up(staff, case_id, satisfaction=5, executed=True, note="押金已退")


async def test_claim_item_mediated_with_deadlines_result_and_satisfaction_sent_back(
    rules, client, partner_server
):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    r = await post_signed(client, ITEMS, key, secret, item())
    assert r.status_code == 201, r.text
    assert r.json()["refused"] is False
    case = await Case.get(number=r.json()["number"])
    assert case.channel == "petition" and case.center_id == world.centers["ta"].id, "the office's level"
    received = china_day(case.created_at)
    assert china_day(case.respond_by) == received + timedelta(days=15), "acceptance notice in 15 days"
    assert china_day(case.resolve_by) == received + timedelta(days=60), "handled in 60 days"

    await _mediate_to_follow_up(world, case.id)
    await partners.deliver_due()
    assert partner_server.kinds() == ["accepted", "result", "satisfaction"]
    assert all(c.signature_ok and c.key_id == key for c in partner_server.received)
    accepted, result, satisfaction = (c.body["payload"] for c in partner_server.received)
    assert accepted["item_number"] == "XF330110202611200042" and accepted["handle_by"]
    assert result == {
        "item_number": "XF330110202611200042",
        "zongzhi_number": case.number,
        "result": "mediated",
        "outcome": "物业同意退还押金",
        "agreement": "三日内退还押金3000元",
    }
    assert satisfaction["satisfaction"] == 5 and satisfaction["executed"] is True

    seen = await gql(
        client,
        world.tokens["a_staff"],
        "query($c: ID!) { petitionItem(caseId: $c) { itemNumber itemTypeLabel petitioner office taken "
        "refusalReason extended } }",
        {"c": to_global_id("Case", case.id)},
    )
    assert seen["petitionItem"] == {
        "itemNumber": "XF330110202611200042",
        "itemTypeLabel": "申诉求决类",
        "petitioner": "周一",
        "office": "甲镇信访办",
        "taken": True,
        "refusalReason": "",
        "extended": False,
    }
    now = datetime.now(UTC)
    figures = await petition.figures(None, now - timedelta(days=1), now + timedelta(days=1))
    assert figures == {
        "items_transferred": 1,
        "taken_for_mediation": 1,
        "mediated": 1,
        "mediation_success_rate": 1.0,
        "average_satisfaction": 5.0,
    }


async def test_other_items_are_refused_with_a_reason_that_goes_back(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    r = await post_signed(client, ITEMS, key, secret, item("XF-建议-1", item_type="suggestion"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["refused"] is True and body["status"] == "rejected" and "意见建议类" in body["reason"]
    case = await Case.get(number=body["number"])
    assert case.resolve_by is None and case.respond_by is None, "no statutory clock for a refused item"
    again = await post_signed(client, ITEMS, key, secret, item("XF-建议-1", item_type="suggestion"))
    assert again.status_code == 200 and again.json()["refused"] is True
    assert again.json()["case_id"] == body["case_id"]
    await partners.deliver_due()
    assert partner_server.kinds() == ["refused"]
    assert partner_server.received[0].body["payload"]["reason"] == body["reason"]
    await post_signed(client, ITEMS, key, secret, item("XF-求决-2"))
    now = datetime.now(UTC)
    figures = await petition.figures(None, now - timedelta(days=1), now + timedelta(days=1))
    assert (figures["items_transferred"], figures["taken_for_mediation"], figures["mediated"]) == (2, 1, 0)
    assert figures["mediation_success_rate"] is None


async def test_handling_deadline_extended_once_by_30_days_with_a_reason(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    r = await post_signed(client, ITEMS, key, secret, item())
    case = await Case.get(number=r.json()["number"])
    cid, before = r.json()["case_id"], case.resolve_by
    for token, reason, code in [
        (world.tokens["a_staff"], "  ", "VALIDATION"),
        (world.tokens["b_staff"], "需调取证据", "NOT_FOUND"),
        (world.tokens["a_mediator"], "需调取证据", "FORBIDDEN"),
    ]:
        try:
            await gql(client, token, EXTEND, {"c": cid, "r": reason})
            raise AssertionError("the extension should have been refused")
        except GraphQLErrors as err:
            assert err.code == code
    done = await gql(client, world.tokens["a_staff"], EXTEND, {"c": cid, "r": "需调取物业合同，情况复杂"})
    assert done["extendPetitionDeadline"]["extended"] is True
    after = (await Case.get(id=case.id)).resolve_by
    assert after - before == timedelta(days=30)
    event = await CaseEvent.get(case_id=case.id, type="petition.deadline_extended")
    assert event.payload["reason"] == "需调取物业合同，情况复杂"
    try:
        await gql(client, world.tokens["a_staff"], EXTEND, {"c": cid, "r": "再次延期"})
        raise AssertionError("a second extension")
    except GraphQLErrors as err:
        assert err.code == "INVALID_TRANSITION"
    assert (await Case.get(id=case.id)).resolve_by == after
    await partners.deliver_due()
    assert partner_server.kinds() == ["extended"]
    assert partner_server.received[0].body["payload"]["reason"] == "需调取物业合同，情况复杂"
    timeline = await gql(
        client,
        world.tokens["a_staff"],
        "query($c: ID!) { case(id: $c) { timeline { type label } } }",
        {"c": cid},
    )
    assert {"type": "petition.deadline_extended", "label": "信访事项延期办理"} in timeline["case"]["timeline"]


async def test_routed_to_the_center_at_the_office_level(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking", center="tb")
    placed = {}
    for number, area in [
        ("county", "330110000000"),
        ("village", "330110001001"),
        ("unknown", "330199999000"),
    ]:
        office = {"name": f"{number}信访", "area_code": area}
        r = await post_signed(client, ITEMS, key, secret, item(f"XF-{number}", office=office))
        assert r.status_code == 201, r.text
        placed[number] = (await Case.get(number=r.json()["number"])).center_id
    c = world.centers
    assert placed == {"county": c["county"].id, "village": c["va1"].id, "unknown": c["tb"].id}


async def test_bad_signature_stale_unknown_and_foreign_keys_get_401(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    police_key, police_secret = await make_partner(world, partner_server, "police_docking")
    cases = [
        await post_signed(client, ITEMS, key, "not-the-secret", item()),
        await post_signed(client, ITEMS, key, secret, item(), tamper=True),
        await post_signed(client, ITEMS, key, secret, item(), age=6 * 60),
        await post_signed(client, ITEMS, "petition-unknown", secret, item()),
        await post_signed(client, ITEMS, police_key, police_secret, item()),
        await client.post(ITEMS, json=item()),
    ]
    assert [r.status_code for r in cases] == [401] * 6
    police = await post_signed(client, "/partners/police_docking/incidents", key, secret, {"x": 1})
    assert police.status_code == 401, "an office's key does not open the police endpoint"
    court = await post_signed(client, "/partners/court_docking/referrals", key, secret, {"x": 1})
    assert court.status_code == 401
    assert await Case.all().count() == 0 and await PartnerRecord.all().count() == 0


async def test_malformed_payload_is_422_with_fields(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    bad = item(
        item_type="complaint", petitioner={}, office={"name": "x", "area_code": "3301"}, received_date="11/20"
    )
    del bad["matter"]
    r = await post_signed(client, ITEMS, key, secret, bad)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"matter", "item_type", "petitioner.name", "office.area_code", "received_date"} <= fields
    for overrides, field in [
        ({"received_date": "2026-02-30"}, "received_date"),
        ({"category": "gossip"}, "category"),
        ({"petitioner": {"name": "x", "id_number": "110105194912310021"}}, "parties[0].person.idNumber"),
    ]:
        r = await post_signed(client, ITEMS, key, secret, item(**overrides))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert await Case.all().count() == 0


async def test_duplicate_item_gives_the_same_case(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    first = await post_signed(client, ITEMS, key, secret, item())
    again = await post_signed(client, ITEMS, key, secret, item())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_id"] == again.json()["case_id"] and again.json()["created"] is False
    assert await Case.all().count() == 1 and await PartnerRecord.all().count() == 1


async def test_office_down_retries_then_fails_then_admin_retry(rules, client, partner_server, quick_retries):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    r = await post_signed(client, ITEMS, key, secret, item("XF-意见-9", item_type="other"))
    partner_server.stop()
    for _ in range(4):
        await partners.deliver_due()
    delivery = await Delivery.get(case__number=r.json()["number"])
    assert (delivery.kind, delivery.status, delivery.attempts) == ("refused", "failed", 3)
    listed = await gql(
        client,
        world.tokens["admin"],
        '{ deliveries(plugin: "petition_docking", status: "failed") { id attempts attemptLog { error } } }',
    )
    (row,) = listed["deliveries"]
    assert len(row["attemptLog"]) == 3 and all("ConnectError" in a["error"] for a in row["attemptLog"])
    partner_server.start()
    retried = await gql(
        client,
        world.tokens["admin"],
        "mutation($d: ID!) { retryDelivery(deliveryId: $d) { status attempts } }",
        {"d": row["id"]},
    )
    assert retried["retryDelivery"] == {"status": "sent", "attempts": 1}
    assert partner_server.kinds() == ["refused"] and partner_server.received[0].signature_ok


async def test_partner_token_cannot_use_general_graphql_or_the_extension(rules, client, partner_server):
    world = rules
    key, secret = await make_partner(world, partner_server, "petition_docking")
    cid = (await post_signed(client, ITEMS, key, secret, item())).json()["case_id"]
    user = await create_user("office_partner", "甲镇信访办", [str(Role.partner)], plugin="petition_docking")
    token = issue_jwt(user.id, user.username)
    for query, variables in [
        ('mutation { createCase(input: {title: "x", category: "neighbor"}) { created } }', {}),
        ('mutation($c: ID!) { resolveCase(caseId: $c, outcome: "x") { id } }', {"c": cid}),
        (EXTEND, {"c": cid, "r": "延期"}),
    ]:
        try:
            await gql(client, token, query, variables)
            raise AssertionError(f"a partner token ran {query}")
        except GraphQLErrors as err:
            assert err.code in ("FORBIDDEN", "NOT_FOUND"), err.errors
    seen = await gql(client, token, "query($c: ID!) { petitionItem(caseId: $c) { itemNumber } }", {"c": cid})
    assert seen["petitionItem"] is None
    assert not await CaseEvent.filter(type="petition.deadline_extended").exists()
    assert str((await Case.all().get()).status) == "received"
