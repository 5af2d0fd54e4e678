"""Partners are isolated: a credential sees and acts on exactly what it brought in (issue 10, item 6).

External ids (a court's case number, a 110 incident number, a petition item number) are scoped per
credential; a partner account attached to a center reads none of that center's cases.
"""

from __future__ import annotations

import pytest

from tests.casework import new_case
from tests.gql import gql
from tests.plugins.conftest import make_partner, post_signed
from tests.plugins.court_docking.test_court import CONFIRMATIONS, REFERRALS, referral
from tests.plugins.petition_docking.test_petition import ITEMS, item
from tests.plugins.police_docking.test_police import INCIDENTS, incident
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.domain.actor import actor_for_user
from zongzhi.platform.models import Case, CaseEvent, PartnerCredential, PartnerRecord
from zongzhi.platform.pipeline import broadcast
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services.accounts import create_user
from zongzhi.platform.services.partner_intake import own_case

NUMBER = "(2026)浙0110民诉前调1234号"


async def test_another_courts_case_number_finds_nothing(client, world, partner_server):
    key_a, secret_a = await make_partner(world, partner_server, "court_docking", center="ta")
    key_b, secret_b = await make_partner(world, partner_server, "court_docking", center="tb")
    sent = await post_signed(client, REFERRALS, key_a, secret_a, referral(NUMBER))
    assert sent.status_code == 201, sent.text
    case_a = await Case.get(number=sent.json()["number"])
    events = await CaseEvent.filter(case_id=case_a.id).count()

    rejected = {"case_number": NUMBER, "result": "rejected", "reason": "伪造", "decided_at": "2026-11-25"}
    answer = await post_signed(client, CONFIRMATIONS, key_b, secret_b, rejected)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "case_number"
    assert case_a.number not in answer.text
    assert await CaseEvent.filter(case_id=case_a.id).count() == events
    assert not await CaseEvent.filter(type="court.confirmation_rejected").exists()

    # The same number from the other court is its own referral, not a way to the first one.
    again = await post_signed(client, REFERRALS, key_b, secret_b, referral(NUMBER, area_code="330110002000"))
    assert again.status_code == 201 and again.json()["number"] != case_a.number
    assert case_a.number not in again.text
    retried = await post_signed(client, REFERRALS, key_a, secret_a, referral(NUMBER))
    assert (retried.status_code, retried.json()["number"]) == (200, case_a.number)
    assert await Case.filter(channel="court").count() == 2

    accepted = {"case_number": NUMBER, "result": "confirmed", "decided_at": "2026-11-25"}
    assert (await post_signed(client, CONFIRMATIONS, key_a, secret_a, accepted)).status_code == 200
    assert await CaseEvent.filter(case_id=case_a.id, type="court.confirmed").count() == 1


@pytest.mark.parametrize(
    ("plugin", "path", "payload"),
    [("police_docking", INCIDENTS, incident()), ("petition_docking", ITEMS, item())],
    ids=["police", "petition"],
)
async def test_incident_and_item_numbers_are_per_credential(
    client, world, partner_server, plugin, path, payload
):
    key_a, secret_a = await make_partner(world, partner_server, plugin, center="ta")
    key_b, secret_b = await make_partner(world, partner_server, plugin, center="tb")
    first = await post_signed(client, path, key_a, secret_a, payload)
    other = await post_signed(client, path, key_b, secret_b, payload)
    assert first.status_code == other.status_code == 201, (first.text, other.text)
    assert first.json()["case_id"] != other.json()["case_id"]
    again = await post_signed(client, path, key_a, secret_a, payload)
    assert (again.status_code, again.json()["case_id"]) == (200, first.json()["case_id"])
    records = await PartnerRecord.filter(plugin=plugin).values_list("credential__key_id", flat=True)
    assert sorted(records) == sorted([key_a, key_b])


async def test_a_case_stored_before_scoping_is_found_by_its_own_credential_only(world, partner_server):
    key_a, _ = await make_partner(world, partner_server, "court_docking", center="ta")
    key_b, _ = await make_partner(world, partner_server, "court_docking", center="tb")
    a = await PartnerCredential.get(key_id=key_a)
    b = await PartnerCredential.get(key_id=key_b)
    case = await new_case(world)
    await Case.filter(id=case.id).update(external_channel="court", external_id=NUMBER)
    await PartnerRecord.create(case_id=case.id, plugin="court_docking", credential=a, data={})
    assert (await own_case(a, "court", NUMBER)).id == case.id
    assert await own_case(b, "court", NUMBER) is None


async def test_a_partner_account_with_a_center_reads_none_of_its_cases(client, world, partner_server):
    key, secret = await make_partner(world, partner_server, "court_docking", center="ta")
    sent = await post_signed(client, REFERRALS, key, secret, referral(NUMBER))
    own_center = await new_case(world)  # township A's, filed at the window
    user = await create_user(
        "court_account", "甲镇法庭", [str(Role.partner)], center=world.centers["ta"], plugin="court_docking"
    )
    token = issue_jwt(user.id, user.username)
    listed = await gql(client, token, "{ cases(first: 50) { totalCount edges { node { number } } } }")
    assert listed["cases"] == {"totalCount": 0, "edges": []}
    for case_id in (sent.json()["case_id"], to_global_id("Case", own_center.id)):
        seen = await gql(
            client,
            token,
            "query($c: ID!) { case(id: $c) { number } node(id: $c) { id } courtReferral(caseId: $c) { court } }",
            {"c": case_id},
        )
        assert seen == {"case": None, "node": None, "courtReferral": None}
    event = await CaseEvent.filter(case_id=own_center.id).first()
    message = broadcast.message_for(event, own_center)
    assert not await broadcast.visible_to(await actor_for_user(user), message), "nor its board messages"
