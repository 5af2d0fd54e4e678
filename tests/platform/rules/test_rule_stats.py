"""Per-rule statistics: firings, errors and outcomes per rule and version, over GraphQL and in the report."""

from __future__ import annotations

from datetime import datetime

from tests.casework import actor
from tests.gql import gql
from tests.platform.test_rules_pipeline import _window_case
from zongzhi.platform.domain.workdays import CHINA
from zongzhi.platform.reports import build_report, render
from zongzhi.platform.rules import versions as rulesets
from zongzhi.platform.stats import parse_period, scope_of_center

BROKEN = """ruleset: broken
rules:
  - id: to-missing-department
    on: case.received
    when: {category: labor}
    then:
      - tag: {add: [劳动]}
      - assign: {department: nosuch}
"""
STATS = """query($p: String!, $r: String) {
  ruleStatistics(period: $p, ruleset: $r) { ruleset version ruleId firings cases actions ok errors lastError }
}"""


async def test_rule_statistics_over_graphql_and_in_the_report(rules, client):
    world = rules
    author = await actor(world, "rule_author")
    await rulesets.activate(author, "broken", (await rulesets.save_draft(author, "broken", BROKEN)).version)
    for i in range(3):
        await _window_case(world, complexity="simple", title=f"小事{i}")
    for i in range(2):
        await _window_case(world, complexity="complex", category="labor", title=f"欠薪{i}")
    month = datetime.now(CHINA).strftime("%Y-%m")

    data = await gql(client, world.tokens["county_leader"], STATS, {"p": month})
    by_rule = {(s["ruleset"], s["ruleId"]): s for s in data["ruleStatistics"]}
    route = by_rule[("core", "route-to-village-of-grid")]
    assert (route["version"], route["firings"], route["cases"], route["actions"], route["errors"]) == (
        1,
        5,
        5,
        5,
        0,
    )
    assert by_rule[("core", "deadline-simple")]["firings"] == 3
    # deadline-simple and deadline-complex also fire on case.assessed, so counts are per event.
    broken = by_rule[("broken", "to-missing-department")]
    assert (broken["firings"], broken["actions"], broken["ok"], broken["errors"]) == (2, 4, 2, 2)
    assert "nosuch" in broken["lastError"]
    only = await gql(client, world.tokens["rule_author"], STATS, {"p": month, "r": "broken"})
    assert [s["ruleId"] for s in only["ruleStatistics"]] == ["to-missing-department"]

    report = await build_report(await scope_of_center(world.centers["county"]), parse_period(month))
    text = render(report, "md").decode()
    assert "## 规则命中 Rule statistics" in text
    assert "| broken/to-missing-department | v1 | 2 | 2 | 4 | 2 | 2 |" in text
