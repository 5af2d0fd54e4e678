"""The audit log: every reveal of full numbers on every transport, the hash chain, the auditor role.

Reveals: GraphQL over HTTP, each message a graphql-transport-ws subscription pushes, and
``zongzhi report --people full`` each write one ``pii.read`` row naming the people and the
transport. The chain: ``audit.verify`` and ``zongzhi audit verify`` pass on an untouched log and
name the first row that was changed, deleted or slipped in directly in the database. The auditor:
only that role reads the audit and evidence-access logs (an admin cannot), it can do nothing
else, and one with a center reads only its subtree's users (decided in ``schema.audit``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.casework import new_case
from tests.gql import GraphQLErrors, gql
from tests.platform.test_subscriptions import connect, serving
from tests.security.support import ID_NUMBER, PHONE, repeated_party, zongzhi
from tests.security.townships import valid_id_number
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.domain import audit
from zongzhi.platform.models import AuditChainHead, AuditLog, Case, Evidence, EvidenceAccess
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services.accounts import create_user
from zongzhi.platform.stats.period import TZ

WARNING_FULL = "{ earlyWarning { repeatedParties { person { idNumber phone } count } } }"
WARNING_SUB = (
    "subscription { earlyWarning(minSeconds: 0) { repeatedParties { person { id idNumber phone } count } } }"
)
AUDIT_LOG = """query($filter: AuditLogFilter, $first: Int!, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id seq action target details actor { username } } }
    pageInfo { hasNextPage endCursor } } }"""


async def reveals(via: str | None = None) -> list[AuditLog]:
    rows = await AuditLog.filter(action=audit.REVEAL_ACTION).order_by("id")
    return [r for r in rows if via is None or r.details.get("via") == via]


async def auditor(world, username: str = "auditor", center=None) -> str:
    user = await create_user(username, username, ["auditor"], center=center)
    return issue_jwt(user.id, user.username)


# --- every reveal on every transport ------------------------------------------------------------


async def test_http_reveal_writes_one_row_naming_the_people(client, world):
    person = await repeated_party(world)
    data = await gql(client, world.tokens["a_staff"], WARNING_FULL)
    assert data["earlyWarning"]["repeatedParties"][0]["person"] == {"idNumber": ID_NUMBER, "phone": PHONE}
    [row] = await reveals()
    assert row.actor_id == world.users["a_staff"].id
    assert row.details["people"] == [person] and row.details["via"] == "http"

    masked = await gql(client, world.tokens["a1_grid"], WARNING_FULL)
    assert masked["earlyWarning"]["repeatedParties"][0]["person"]["idNumber"] != ID_NUMBER
    await gql(client, world.tokens["a_staff"], "{ earlyWarning { repeatedParties { count } } }")
    assert len(await reveals()) == 1, "masked numbers, or none asked for, are not a reveal"


async def test_every_subscription_message_that_reveals_is_audited(settings, world):
    person = await repeated_party(world)
    async with serving(replace(settings, redis_url="", event_mode="inline")) as url:
        ws = await connect(url, world.tokens["a_staff"])
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "w", "type": "subscribe", "payload": {"query": WARNING_SUB}}))
        first = await _next(ws)
        assert first["earlyWarning"]["repeatedParties"][0]["person"]["idNumber"] == ID_NUMBER
        [row] = await reveals()
        assert row.details == {"people": [person], "via": "websocket"}
        assert row.actor_id == world.users["a_staff"].id

        await new_case(world, title="又一件")  # a relevant event: the lists are pushed again
        second = await _next(ws)
        assert second["earlyWarning"]["repeatedParties"][0]["person"]["phone"] == PHONE
        assert [r.details["via"] for r in await reveals()] == ["websocket", "websocket"]
        await ws.close()

        masked = await connect(url, world.tokens["a1_grid"])
        assert json.loads(await masked.recv())["type"] == "connection_ack"
        await masked.send(json.dumps({"id": "m", "type": "subscribe", "payload": {"query": WARNING_SUB}}))
        shown = await _next(masked)
        assert shown["earlyWarning"]["repeatedParties"][0]["person"]["idNumber"] != ID_NUMBER
        await masked.close()
    assert len(await reveals()) == 2, "a grid worker's masked numbers are no reveal"


async def _next(ws, timeout: float = 15.0) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "next":
            assert not message["payload"].get("errors"), message
            return message["payload"]["data"]
        assert message["type"] in ("ping", "pong"), message


async def test_cli_report_with_full_numbers_is_audited(settings, world):
    person = await repeated_party(world)
    period = datetime.now(TZ).strftime("%Y-%m")
    args = ("report", "--center", "330110001000", "--period", period, "--format", "csv", "-o", "-")
    masked = zongzhi(settings, *args, "--people", "masked")
    assert masked.returncode == 0, masked.stderr
    assert (
        "赵六" in masked.stdout and ID_NUMBER not in masked.stdout and "110101********4514" in masked.stdout
    )
    assert await reveals() == []

    full = zongzhi(settings, *args, "--people", "full")
    assert full.returncode == 0, full.stderr
    assert ID_NUMBER in full.stdout and PHONE in full.stdout
    [row] = await reveals()
    assert row.actor_id is None
    assert row.details["people"] == [person] and row.details["via"] == "cli"
    assert row.details["command"] == "report" and row.details["by"].startswith("命令行 cli:")

    plain = zongzhi(settings, *args)
    assert plain.returncode == 0 and "赵六" not in plain.stdout, "people only when asked for"


# --- the hash chain ----------------------------------------------------------------------------


async def _some_rows(n: int = 5) -> list[AuditLog]:
    return [await audit.record("test.act", f"thing:{i}", details={"i": i, "名": "值"}) for i in range(n)]


async def test_chain_verifies_and_names_a_changed_row(settings, world):
    rows = await _some_rows()
    result = await audit.verify()
    assert result.ok and result.checked == 5 and result.last_seq == 5
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[1].prev_hash == rows[0].hash and rows[0].prev_hash == ""

    ok = zongzhi(settings, "audit", "verify")
    assert ok.returncode == 0 and "intact: 5 row(s)" in ok.stdout, ok.stdout + ok.stderr

    await AuditLog.filter(id=rows[2].id).update(target="thing:forged")  # straight SQL, no save()
    result = await audit.verify()
    assert not result.ok and result.broken_id == rows[2].id and result.checked == 2
    assert "changed" in result.problem
    broken = zongzhi(settings, "audit", "verify")
    assert broken.returncode == 1
    assert f"BROKEN at row id {rows[2].id} (seq 3)" in broken.stderr


async def test_a_rehashed_row_without_the_key_breaks_the_next_link(world):
    rows = await _some_rows(3)
    await AuditLog.filter(id=rows[1].id).update(details={"i": 99}, hash="0" * 64)
    result = await audit.verify()
    assert not result.ok and result.broken_id == rows[1].id


async def test_a_deleted_row_is_detected(world):
    rows = await _some_rows()
    await AuditLog.filter(id=rows[1].id).delete()
    result = await audit.verify()
    assert not result.ok and result.broken_id == rows[2].id and "missing" in result.problem


async def test_cutting_off_the_end_is_detected(world):
    rows = await _some_rows()
    await AuditLog.filter(id=rows[-1].id).delete()
    result = await audit.verify()
    assert not result.ok and "missing" in result.problem
    # Rewinding the head to the new last row as well needs the key for its MAC.
    await AuditChainHead.filter(id=audit.HEAD_ID).update(seq=rows[-2].seq, hash=rows[-2].hash)
    result = await audit.verify()
    assert not result.ok and "head" in result.problem


async def test_a_row_slipped_in_without_a_place_in_the_chain_is_detected(world):
    await _some_rows(2)
    # Model.save would chain it: a raw bulk insert bypasses that, as direct SQL would.
    await AuditLog.bulk_create([AuditLog(action="test.act", target="forged", details={})])
    result = await audit.verify()
    assert not result.ok and "inserted" in result.problem


async def test_rows_are_append_only_through_the_orm(world):
    [row] = await _some_rows(1)
    row.target = "changed"
    with pytest.raises(TypeError):
        await row.save()


async def test_concurrent_writers_keep_one_chain(world):
    await asyncio.gather(*(audit.record("test.concurrent", str(i)) for i in range(40)))
    result = await audit.verify()
    assert result.ok and result.checked == 40
    seqs = sorted(await AuditLog.all().values_list("seq", flat=True))
    assert seqs == list(range(1, 41))


async def test_a_row_written_inside_a_rolled_back_transaction_leaves_no_gap(world):
    from tortoise.transactions import in_transaction

    await _some_rows(2)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await audit.record("test.rolled_back", "x")
            raise RuntimeError("abort")
    await _some_rows(1)
    result = await audit.verify()
    assert result.ok and result.checked == 3


# --- the auditor, kept apart from the admin ------------------------------------------------------


async def test_only_auditors_read_the_audit_log(client, world):
    await repeated_party(world)
    await gql(client, world.tokens["a_staff"], WARNING_FULL)
    token = await auditor(world)
    data = await gql(client, token, AUDIT_LOG, {"first": 10, "filter": {"action": "pii.read"}})
    [edge] = data["auditLog"]["edges"]
    assert edge["node"]["actor"]["username"] == "a_staff" and edge["node"]["seq"] >= 1
    for who in ("admin", "a_staff", "county_leader"):
        with pytest.raises(GraphQLErrors) as refused:
            await gql(client, world.tokens[who], AUDIT_LOG, {"first": 10})
        assert refused.value.code == "FORBIDDEN", who
    reads = await AuditLog.filter(action="audit.read").count()
    assert reads == 1, "reading the audit log is itself audited (refused reads write nothing)"


async def test_an_auditor_can_do_nothing_an_admin_does(client, world):
    token = await auditor(world)
    staff_id = to_global_id("User", world.users["a_staff"].id)
    for query, variables in [
        ("mutation($u: ID!) { disableUser(userId: $u) { active } }", {"u": staff_id}),
        ("query($u: ID!) { apiTokens(userId: $u) { id } }", {"u": staff_id}),
        ("{ partnerCredentials { keyId } }", {}),
        ("{ plugins { name } }", {}),
    ]:
        with pytest.raises(GraphQLErrors) as refused:
            await gql(client, token, query, variables)
        assert refused.value.code == "FORBIDDEN", query
    me = await gql(client, token, "{ me { roles } }")
    assert me["me"]["roles"] == ["AUDITOR"]


async def test_auditor_is_a_role_of_its_own(world):
    with pytest.raises(ValidationFailed) as bad:
        await create_user("both", "both", ["admin", "auditor"])
    assert bad.value.field == "roles"


async def test_audit_log_filters_and_pages(client, world):
    person = await repeated_party(world)
    for who in ("a_staff", "b_staff", "a_staff"):
        await gql(client, world.tokens[who], WARNING_FULL)
    await audit.record("test.other", "t", actor_id=world.users["admin"].id)
    token = await auditor(world)

    async def read(first: int = 10, after: str | None = None, **f) -> dict:
        variables = {"first": first, "after": after, "filter": f}
        return (await gql(client, token, AUDIT_LOG, variables))["auditLog"]

    by_a = await read(actorId=to_global_id("User", world.users["a_staff"].id))
    assert [e["node"]["actor"]["username"] for e in by_a["edges"]] == ["a_staff", "a_staff"]
    about = await read(personId=to_global_id("Person", person))
    assert len(about["edges"]) == 2, "b_staff cannot see township A's party, so only A's reveals name it"
    assert [e["node"]["target"] for e in (await read(action="test.other"))["edges"]] == ["t"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await read(**{"from": later}))["edges"] == []
    assert len((await read(to=later, action="pii.read"))["edges"]) == 2

    page1 = await read(first=1, action="pii.read")
    page2 = await read(first=1, after=page1["pageInfo"]["endCursor"], action="pii.read")
    assert page1["pageInfo"]["hasNextPage"] and not page2["pageInfo"]["hasNextPage"]
    assert page1["edges"][0]["node"]["id"] != page2["edges"][0]["node"]["id"]

    with pytest.raises(GraphQLErrors) as too_many:
        await read(first=100_000)
    assert too_many.value.code == "VALIDATION" and too_many.value.field == "first"
    with pytest.raises(GraphQLErrors) as naive:
        await read(**{"from": "2026-01-01T00:00:00"})
    assert naive.value.code == "VALIDATION" and naive.value.field == "filter.from"


async def test_an_auditor_with_a_center_reads_its_subtree_only(client, world):
    await repeated_party(world)
    # Another resident: filing a case with A's resident's ID number in B would link that record
    # blind, and B's staff would see no numbers to reveal.
    b_resident = ("钱七", valid_id_number("33011019850505123"), "13955550777")
    await repeated_party(world, grid="b1g1", filer="b1_grid", who=b_resident)
    for who in ("a_staff", "b_staff", "county_staff"):
        await gql(client, world.tokens[who], WARNING_FULL)
    await audit.record("test.cli", "t")  # no user: the command line
    township = await auditor(world, "a_auditor", world.centers["ta"])
    county = await auditor(world, "c_auditor")
    seen = await gql(client, township, AUDIT_LOG, {"first": 50})
    assert {e["node"]["actor"]["username"] for e in seen["auditLog"]["edges"]} == {"a_staff"}
    everything = await gql(client, county, AUDIT_LOG, {"first": 50, "filter": {"action": "pii.read"}})
    users = {e["node"]["actor"]["username"] for e in everything["auditLog"]["edges"]}
    assert users == {"a_staff", "b_staff", "county_staff"}


EVIDENCE_LOG = """query($filter: EvidenceAccessFilter) { evidenceAccesses(filter: $filter, first: 20) {
  edges { node { at filename caseId evidenceId user { username } } } } }"""


async def test_evidence_access_log_is_for_auditors(client, world):
    in_a = await new_case(world, grid="a1g1", filer="a1_grid")
    in_b = await new_case(world, grid="b1g1", filer="b1_grid")
    for case, name, user in ((in_a, "a.jpg", "a_staff"), (in_b, "b.jpg", "b_staff")):
        evidence = await Evidence.create(
            case=case, key=f"k/{name}", filename=name, content_type="image/jpeg", size=1, sha256="0" * 64
        )
        await EvidenceAccess.create(evidence=evidence, user=world.users[user])
    county = await auditor(world)
    township = await auditor(world, "b_auditor", world.centers["tb"])
    data = await gql(client, county, EVIDENCE_LOG)
    assert {e["node"]["filename"] for e in data["evidenceAccesses"]["edges"]} == {"a.jpg", "b.jpg"}
    only_b = await gql(client, township, EVIDENCE_LOG)
    assert [e["node"]["user"]["username"] for e in only_b["evidenceAccesses"]["edges"]] == ["b_staff"]
    by_case = await gql(client, county, EVIDENCE_LOG, {"filter": {"caseId": to_global_id("Case", in_a.id)}})
    assert [e["node"]["filename"] for e in by_case["evidenceAccesses"]["edges"]] == ["a.jpg"]
    for who in ("admin", "a_staff"):
        with pytest.raises(GraphQLErrors) as refused:
            await gql(client, world.tokens[who], EVIDENCE_LOG)
        assert refused.value.code == "FORBIDDEN"
    assert await Case.all().count() == 2


async def test_audit_rows_written_the_old_way_are_chained_too(world):
    """Code that calls ``AuditLog.create`` (partners, rulesets, calendar) joins the chain."""
    await audit.record("test.first", "a")
    row = await AuditLog.create(action="partner.create", target="court-1", details={"case": 7})
    assert row.seq == 2 and row.hash
    assert (await audit.verify()).ok
    found = await AuditLog.filter(subjects__kind="case", subjects__ref=7).values_list("id", flat=True)
    assert list(found) == [row.id], "details naming a case make it searchable by case"


async def test_rows_from_before_the_chain_are_counted_not_failed(settings, world):
    await AuditLog.bulk_create([AuditLog(action="legacy", target=str(i), details={}) for i in range(2)])
    await _some_rows(2)
    result = await audit.verify()
    assert result.ok and result.unchained == 2 and result.checked == 2
    out = zongzhi(settings, "audit", "verify")
    assert out.returncode == 0 and "2 row(s) from before the chain began" in out.stdout
