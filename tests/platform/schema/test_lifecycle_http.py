"""A case walked through every lifecycle step over GraphQL, as the front ends do it."""

from __future__ import annotations

import pytest

from tests.gql import GraphQLErrors, gql
from zongzhi.platform.models import CaseEvent
from zongzhi.platform.schema.ids import to_global_id

DETAIL = """query($id: ID!) { case(id: $id) { status statusLabel risk tags outcome agreement amount satisfaction
  executed deadlines { resolveBy overdue } assignments { mode modeLabel lead acceptedAt returnedAt returnReason
  user { username } department { name } } timeline { type label actorLabel payload } followups { satisfaction } } }"""


async def test_walk_a_case_through_every_step(client, world):
    t = world.tokens
    created = await gql(
        client,
        t["a1_grid"],
        "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id status } } }",
        {
            "i": {
                "title": "工地拖欠工资",
                "category": "labor",
                "channel": "grid",
                "gridId": to_global_id("Grid", world.grids["a1g1"].id),
            }
        },
    )
    cid = created["createCase"]["case"]["id"]
    mediator = to_global_id("User", world.users["a_mediator"].id)
    labor = to_global_id("Department", world.departments["labor"].id)
    police = to_global_id("Department", world.departments["police"].id)

    async def step(token: str, mutation: str, **variables):
        return await gql(client, token, mutation, {"id": cid, **variables})

    await step(
        t["a_staff"],
        'mutation($id: ID!) { assessCase(caseId: $id, severity: 3, complexity: "complex") { status } }',
    )
    await step(
        t["a_staff"],
        'mutation($id: ID!) { setCaseDeadline(caseId: $id, resolveBy: "2030-01-01T00:00:00+08:00") { id } }',
    )
    await step(
        t["a_staff"],
        "mutation($id: ID!, $u: ID!) { dispatchCase(caseId: $id, mode: TRANSFER, units: [{departmentId: $u}]) { status } }",
        u=labor,
    )
    with pytest.raises(GraphQLErrors) as err:
        await step(t["housing_officer"], "mutation($id: ID!) { acceptCase(caseId: $id) { status } }")
    assert err.value.code == "NOT_FOUND", "another department cannot even see it"
    await step(
        t["a_staff"],
        "mutation($id: ID!, $u: ID!) { addCaseAssignment(caseId: $id, mode: JOINT, unit: {departmentId: $u}) { status } }",
        u=police,
    )
    await step(
        t["a_staff"],
        "mutation($id: ID!, $m: ID!) { addCaseAssignment(caseId: $id, mode: SELF, unit: {userId: $m}) { status } }",
        m=mediator,
    )
    accepted = await step(
        t["a_mediator"], 'mutation($id: ID!) { acceptCase(caseId: $id, note: "收到") { status } }'
    )
    assert accepted["acceptCase"]["status"] == "HANDLING"
    await step(
        t["a_mediator"],
        'mutation($id: ID!) { addCaseProgress(caseId: $id, note: "已约谈包工头") { status } }',
    )
    await step(
        t["county_leader"],
        'mutation($id: ID!) { superviseCase(caseId: $id, note: "春节前务必兑付") { status } }',
    )
    await step(
        t["a_staff"],
        'mutation($id: ID!) { flagCaseRisk(caseId: $id, level: MEDIUM, reason: "人数较多") { risk } }',
    )
    await step(t["a_staff"], 'mutation($id: ID!) { tagCase(caseId: $id, add: ["欠薪"]) { tags } }')
    resolved = await step(
        t["a_mediator"],
        'mutation($id: ID!) { resolveCase(caseId: $id, outcome: "达成还款协议", agreement: "分两期支付", amount: "36000.00") { status amount } }',
    )
    assert resolved["resolveCase"] == {"status": "RESOLVED", "amount": "36000.00"}
    await step(t["a_staff"], "mutation($id: ID!) { closeCase(caseId: $id) { status closedAt } }")
    await step(
        t["a1_grid"],
        "mutation($id: ID!) { followUpCase(caseId: $id, satisfaction: 5, executed: true, method: VISIT) { status } }",
    )

    detail = (await gql(client, t["a_staff"], DETAIL, {"id": cid}))["case"]
    assert detail["status"] == "FOLLOWED_UP" and detail["statusLabel"] == "已回访"
    assert detail["risk"] == "MEDIUM" and detail["tags"] == ["欠薪"]
    assert detail["satisfaction"] == 5 and detail["executed"] is True
    assert [a["mode"] for a in detail["assignments"]] == ["TRANSFER", "JOINT", "SELF"]
    assert all(a["acceptedAt"] is None for a in detail["assignments"][:2])
    assert [e["type"] for e in detail["timeline"]] == [
        "case.received",
        "case.assessed",
        "case.deadline_set",
        "case.dispatched",
        "case.assigned",
        "case.assigned",
        "case.accepted",
        "case.progress",
        "case.supervised",
        "case.risk_flagged",
        "case.tagged",
        "case.resolved",
        "case.closed",
        "case.followed_up",
    ]
    assert detail["timeline"][0]["label"] == "受理登记"

    reopened = await step(
        t["county_leader"],
        'mutation($id: ID!) { reopenCase(caseId: $id, reason: "当事人反映未履行") { status } }',
    )
    assert reopened["reopenCase"]["status"] == "RECEIVED"


async def test_return_and_redispatch(client, world):
    t = world.tokens
    created = await gql(
        client,
        t["a_staff"],
        "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }",
        {
            "i": {
                "title": "房屋漏水",
                "category": "housing_homestead",
                "gridId": to_global_id("Grid", world.grids["a1g2"].id),
            }
        },
    )
    cid = created["createCase"]["case"]["id"]
    housing = to_global_id("Department", world.departments["housing"].id)
    await gql(
        client,
        t["a_staff"],
        "mutation($id: ID!, $u: ID!) { dispatchCase(caseId: $id, mode: TRANSFER, units: [{departmentId: $u}]) { status } }",
        {"id": cid, "u": housing},
    )
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            t["housing_officer"],
            'mutation($id: ID!) { returnCase(caseId: $id, reason: "") { status } }',
            {"id": cid},
        )
    assert (err.value.code, err.value.field) == ("VALIDATION", "reason")
    returned = await gql(
        client,
        t["housing_officer"],
        'mutation($id: ID!) { returnCase(caseId: $id, reason: "属物业管理范畴") { status } }',
        {"id": cid},
    )
    assert returned["returnCase"]["status"] == "ASSESSED"
    again = await gql(
        client,
        t["a_staff"],
        "mutation($id: ID!) { dispatchCase(caseId: $id, mode: SELF, units: []) { status } }",
        {"id": cid},
    )
    assert again["dispatchCase"]["status"] == "DISPATCHED"


async def test_invalid_step_is_refused_with_a_code_and_no_change(client, world):
    t = world.tokens
    created = await gql(
        client,
        t["a_staff"],
        "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }",
        {"i": {"title": "x", "category": "neighbor", "gridId": to_global_id("Grid", world.grids["a1g1"].id)}},
    )
    cid = created["createCase"]["case"]["id"]
    before = await CaseEvent.all().count()
    for mutation in [
        "mutation($id: ID!) { closeCase(caseId: $id) { id } }",
        'mutation($id: ID!) { resolveCase(caseId: $id, outcome: "x") { id } }',
        "mutation($id: ID!) { followUpCase(caseId: $id, satisfaction: 5, executed: true) { id } }",
        "mutation($id: ID!) { acceptCase(caseId: $id) { id } }",
    ]:
        with pytest.raises(GraphQLErrors) as err:
            await gql(client, t["a_staff"], mutation, {"id": cid})
        assert err.value.code == "INVALID_TRANSITION", mutation
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            t["a1_grid"],
            'mutation($id: ID!) { rejectCase(caseId: $id, reason: "x") { id } }',
            {"id": cid},
        )
    assert err.value.code == "FORBIDDEN"
    assert await CaseEvent.all().count() == before
