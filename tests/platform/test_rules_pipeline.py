"""The event pipeline in-process (embedded mode): rules fire on events through the services."""

from __future__ import annotations

from tests.casework import actor
from tests.gql import gql
from zongzhi.platform.base.codes import CaseStatus, Risk
from zongzhi.platform.models import Case, CaseEvent, Decision, Notification
from zongzhi.platform.rules import versions as rulesets
from zongzhi.platform.rules.evaluation import evaluate_event
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc


async def _window_case(world, **kw) -> Case:
    data = svc.CaseInput(
        title=kw.pop("title", "楼上漏水"),
        category=kw.pop("category", "neighbor"),
        channel="window",
        center_id=world.centers["ta"].id,
        grid_id=world.grids["a1g1"].id,
        **kw,
    )
    case, _ = await svc.intake(data, await actor(world, "a_staff"))
    return await Case.get(id=case.id)


async def test_core_rules_route_and_set_deadline(rules):
    world = rules
    case = await _window_case(world, complexity="complex")
    assert case.center_id == world.centers["va1"].id, "属地: routed to the village of the grid"
    assert case.resolve_by is not None and case.warn_at is not None
    types = [e.type for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
    assert types[:3] == ["case.received", "case.routed", "case.deadline_set"]
    decisions = await Decision.filter(case_id=case.id).order_by("id")
    assert {(d.rule_id, d.outcome) for d in decisions} == {
        ("route-to-village-of-grid", "ok"),
        ("deadline-complex", "ok"),
    }
    assert all(d.version == 1 and d.ruleset == "core" for d in decisions)


async def test_every_matching_rule_fires_and_redelivery_changes_nothing(rules):
    world = rules
    case = await _window_case(
        world, category="marriage_family", title="丈夫酒后殴打妻子", complexity="simple"
    )
    assert case.risk == Risk.high
    received = await CaseEvent.get(case_id=case.id, type="case.received")
    fired = {d.rule_id for d in await Decision.filter(event_id=received.id)}
    assert fired == {"route-to-village-of-grid", "deadline-simple", "marriage-family-violence"}
    assert await Notification.filter(case_id=case.id, role="leader").count() == 1
    before = (await Decision.all().count(), await CaseEvent.all().count())
    await evaluate_event(received.id)
    await evaluate_event(received.id)
    assert (await Decision.all().count(), await CaseEvent.all().count()) == before


async def test_failing_action_is_recorded_and_the_others_run(rules):
    world = rules
    source = """
ruleset: local
rules:
  - id: two-actions
    on: case.received
    then:
      - assign: {department: no-such-dept, mode: transfer}
      - tag: {add: [已登记]}
"""
    author = await actor(world, "rule_author")
    draft = await rulesets.save_draft(author, "local", source)
    await rulesets.activate(author, "local", draft.version)
    case = await _window_case(world)
    decisions = {d.action: d for d in await Decision.filter(case_id=case.id, ruleset="local")}
    assert decisions["assign"].outcome == "error" and "no-such-dept" in decisions["assign"].error
    assert decisions["tag"].outcome == "ok"
    assert (await Case.get(id=case.id)).tags == ["已登记"]


async def test_invalid_draft_is_refused_and_active_version_keeps_running(rules, client):
    world = rules
    bad = "ruleset: core\nrules:\n  - id: x\n    on: case.received\n    when: {category: {contians: a}}\n    then: [{tag: {add: [y]}}]\n"
    r = await client.post(
        "/graphql",
        json={
            "query": 'mutation($s: String!) { saveRulesetDraft(name: "core", source: $s) { version } }',
            "variables": {"s": bad},
        },
        headers={"Authorization": f"Bearer {world.tokens['rule_author']}"},
    )
    error = r.json()["errors"][0]
    assert error["extensions"]["code"] == "RULESET_INVALID"
    assert error["extensions"]["errors"][0]["rule"] == "x"
    assert "contians" in error["extensions"]["errors"][0]["field"]
    assert error["extensions"]["errors"][0]["line"] == 5
    case = await _window_case(world)
    assert case.center_id == world.centers["va1"].id, "the active core version still routes"


async def test_decisions_visible_over_graphql_and_scoped(rules, client):
    world = rules
    case = await _window_case(world)
    q = "query($id: ID!) { decisions(caseId: $id) { ruleset version ruleId action outcome eventType } }"
    data = await gql(client, world.tokens["a_staff"], q, {"id": to_global_id("Case", case.id)})
    assert {d["ruleId"] for d in data["decisions"]} == {"route-to-village-of-grid", "deadline-simple"}
    other = await gql(client, world.tokens["b_staff"], q, {"id": to_global_id("Case", case.id)})
    assert other["decisions"] == []


async def test_simulate_writes_nothing_and_rollback(rules, client):
    world = rules
    case = await _window_case(world)
    t = world.tokens["rule_author"]
    v2 = "ruleset: core\nrules:\n  - id: tag-all\n    on: case.received\n    then: [{tag: {add: [新规则]}}]\n"
    saved = await gql(
        client,
        t,
        'mutation($s: String!) { saveRulesetDraft(name: "core", source: $s) { version status } }',
        {"s": v2},
    )
    assert saved["saveRulesetDraft"] == {"version": 2, "status": "draft"}
    before = (await Decision.all().count(), await CaseEvent.all().count())
    sim = await gql(
        client,
        t,
        'mutation($c: [ID!]) { simulateRuleset(name: "core", version: 2, events: {caseIds: $c, eventType: "case.received"}) { eventType fired { ruleId actions { action params } } } }',
        {"c": [to_global_id("Case", case.id)]},
    )
    assert sim["simulateRuleset"] == [
        {
            "eventType": "case.received",
            "fired": [{"ruleId": "tag-all", "actions": [{"action": "tag", "params": {"add": ["新规则"]}}]}],
        }
    ]
    assert (await Decision.all().count(), await CaseEvent.all().count()) == before
    await gql(client, t, 'mutation { activateRulesetVersion(name: "core", version: 2) { status } }')
    tagged = await _window_case(world, title="第二件")
    assert tagged.tags == ["新规则"] and tagged.center_id == world.centers["ta"].id
    assert {d.version for d in await Decision.filter(case_id=tagged.id)} == {2}
    await gql(client, t, 'mutation { activateRulesetVersion(name: "core", version: 1) { status } }')
    back = await _window_case(world, title="第三件")
    assert back.center_id == world.centers["va1"].id and back.tags == []
    listing = await gql(client, t, "{ rulesets { name activeVersion versions { version status } } }")
    assert listing["rulesets"][0]["activeVersion"] == 1


async def test_rule_does_not_refire_on_its_own_consequence(rules):
    world = rules
    source = """
ruleset: loop
rules:
  - id: tag-on-tag
    on: [case.received, case.tagged]
    then:
      - tag: {add: [again]}
"""
    author = await actor(world, "rule_author")
    await rulesets.activate(author, "loop", (await rulesets.save_draft(author, "loop", source)).version)
    case = await _window_case(world)
    assert await CaseEvent.filter(case_id=case.id, type="case.tagged").count() == 1
    assert (await Case.get(id=case.id)).status == CaseStatus.received
