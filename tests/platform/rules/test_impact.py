"""Impact before activation, version diffs, activation's who and why, switching a ruleset off.

Through the public surfaces: GraphQL over HTTP as a rule author, and ``zongzhi rules impact`` in a
subprocess on the same database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.gql import GraphQLErrors, gql
from tests.platform.test_rules_pipeline import _window_case
from zongzhi.platform.models import AuditLog, Case
from zongzhi.platform.wiring.runtime import core_rules_source

IMPACT = """mutation($s: String!, $since: DateTime!, $until: DateTime!) {
  simulateRulesetImpact(name: "core", source: $s, since: $since, until: $until) {
    activeVersion candidateVersion events truncated casesConsidered casesChanged
    byKind { kind cases }
    byRule { ruleId kind change cases events }
    examples { caseNumber eventType ruleId kind change before after }
    diff { added removed changed { ruleId fields } examplesChanged }
  }
}"""
SAVE = 'mutation($s: String!) { saveRulesetDraft(name: "core", source: $s) { version } }'
ACTIVATE = """mutation($v: Int!, $r: String!) {
  activateRulesetVersion(name: "core", version: $v, reason: $r) { version status activatedBy activationReason }
}"""
SWITCH = """mutation($on: Boolean!) {
  setRulesetEnabled(name: "core", enabled: $on, reason: "演练") { name enabled activeVersion }
}"""
DIFF = (
    '{ rulesetDiff(name: "core", oldVersion: 1, newVersion: 2) { added removed changed { ruleId fields } } }'
)

NEW_RULE = """
  - id: labor-to-labor-bureau
    on: case.received
    when: {category: labor}
    then:
      - tag: {add: [劳动争议]}
"""


def _candidate() -> str:
    """The core rules with simple cases given one working day, and a rule for labour disputes."""
    source = core_rules_source().replace(
        "      - deadline: {resolve_in: {working_days: 0}}",
        "      - deadline: {resolve_in: {working_days: 1}}",
    )
    return source.replace("\n# Examples:", NEW_RULE + "\n# Examples:", 1)


async def test_impact_diff_activation_and_switching_off(rules, client, settings):
    world = rules
    author = world.tokens["rule_author"]
    simple = [await _window_case(world, complexity="simple", title=f"小事{i}") for i in range(3)]
    labor = await _window_case(world, complexity="complex", category="labor", title="欠薪")
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    data = await gql(client, author, IMPACT, {"s": _candidate(), "since": since, "until": until})
    impact = data["simulateRulesetImpact"]
    assert (impact["activeVersion"], impact["candidateVersion"], impact["truncated"]) == (1, None, False)
    assert impact["casesConsidered"] == 4 and impact["casesChanged"] == 4
    rows = {(r["ruleId"], r["kind"], r["change"]): (r["cases"], r["events"]) for r in impact["byRule"]}
    assert rows == {
        ("deadline-simple", "dated", "changed"): (3, 3),
        ("labor-to-labor-bureau", "flagged", "added"): (1, 1),
    }
    assert {k["kind"]: k["cases"] for k in impact["byKind"]} == {
        "routed": 0, "dated": 3, "flagged": 1, "notified": 0, "rejected": 0, "other": 0
    }  # fmt: skip
    example = next(x for x in impact["examples"] if x["ruleId"] == "deadline-simple")
    assert example["caseNumber"] in {c.number for c in simple} and example["eventType"] == "case.received"
    assert example["before"] == [["deadline", {"resolve_in": {"working_days": 0}}]]
    assert example["after"] == [["deadline", {"resolve_in": {"working_days": 1}}]]
    assert impact["diff"] == {
        "added": ["labor-to-labor-bureau"],
        "removed": [],
        "changed": [{"ruleId": "deadline-simple", "fields": ["then"]}],
        "examplesChanged": False,
    }

    # The CLI prints the same counts, on the same database.
    candidate_file = settings.data_dir / "core-candidate.yaml"
    candidate_file.write_text(_candidate(), encoding="utf-8")
    env = {
        **os.environ,
        "ZONGZHI_DATA_DIR": str(settings.data_dir),
        "ZONGZHI_DATABASE_URL": settings.db_url,
        "ZONGZHI_SECRET_KEY": settings.secret_key,
        "ZONGZHI_LOG_LEVEL": "WARNING",
    }
    cli = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "rules", "impact", "core", "--file", str(candidate_file),
         "--since", since, "--until", until],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "cases that would be handled differently: 4" in cli.stdout
    assert "  routed 0, dated 3, flagged 1, notified 0, rejected 0, other 0" in cli.stdout
    assert "changed: deadline-simple (then)" in cli.stdout
    lines = [line.split() for line in cli.stdout.splitlines()]
    assert ["deadline-simple", "dated", "changed", "3", "cases", "3", "events"] in lines

    # Save, diff, activate with a reason: who and why are kept.
    await gql(client, author, SAVE, {"s": _candidate()})
    diff = (await gql(client, author, DIFF))["rulesetDiff"]
    assert diff == {"added": ["labor-to-labor-bureau"], "removed": [], "changed": [{"ruleId": "deadline-simple", "fields": ["then"]}]}  # fmt: skip
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, world.tokens["a_staff"], DIFF)
    assert refused.value.code == "FORBIDDEN"
    activated = (await gql(client, author, ACTIVATE, {"v": 2, "r": "小事一日办结"}))["activateRulesetVersion"]
    assert activated == {"version": 2, "status": "active", "activatedBy": "rule_author", "activationReason": "小事一日办结"}  # fmt: skip
    audit = await AuditLog.get(action="ruleset.activate", target="core v2")
    assert audit.details == {"reason": "小事一日办结"} and audit.actor_id == world.users["rule_author"].id

    # Switched off, the core rules do nothing; switched on, they route again.
    assert (await gql(client, author, SWITCH, {"on": False}))["setRulesetEnabled"] == {
        "name": "core", "enabled": False, "activeVersion": 2
    }  # fmt: skip
    off = await _window_case(world, complexity="simple", title="关闭期间")
    assert off.center_id == world.centers["ta"].id and off.resolve_by is None
    await gql(client, author, SWITCH, {"on": True})
    on = await _window_case(world, complexity="simple", title="重新开启")
    assert on.center_id == world.centers["va1"].id and on.resolve_by is not None
    assert [a.action for a in await AuditLog.filter(target="core").order_by("id")] == [
        "ruleset.disable",
        "ruleset.enable",
    ]
    assert labor.id and await Case.filter(id=labor.id).exists()


async def test_impact_refuses_a_limit_beyond_what_a_request_may_evaluate(rules, client):
    query = """mutation($l: Int!) {
      simulateRulesetImpact(name: "core", version: 1, since: "2026-01-01T00:00:00Z",
                            until: "2026-02-01T00:00:00Z", limit: $l) { events }
    }"""
    with pytest.raises(GraphQLErrors) as refused:
        await gql(client, rules.tokens["rule_author"], query, {"l": 2001})
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "limit")
    assert (await gql(client, rules.tokens["rule_author"], query, {"l": 10}))["simulateRulesetImpact"] == {
        "events": 0
    }
