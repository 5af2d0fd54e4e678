"""Time, parties by role and 不予受理 in rules: seasonal and group-dispute rules are exact."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

from tests.casework import actor
from zongzhi.platform.codes import CaseStatus, PartyRole
from zongzhi.platform.fact_time import festival_days, next_holiday
from zongzhi.platform.facts import build_fact
from zongzhi.platform.models import Case, CaseEvent, Decision
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import rulesets
from zongzhi.platform.services.people import PersonInput
from zongzhi.platform.workdays import CHINA

SEASONAL = """ruleset: seasonal
rules:
  - id: wage-arrears-before-spring-festival
    priority: 60
    on: case.received
    when:
      all:
        - category: labor
        - time.days_to.spring_festival: {lte: 30}
        - party.applicants: {gte: 5}
    then:
      - flag_risk: {level: high, reason: 春节前群体性欠薪}
  - id: refuse-court-matters
    on: case.received
    when: {text: {regex: "已起诉|法院已受理"}}
    then:
      - reject: {reason: 已进入诉讼程序，不属于调解受理范围}
"""


def _parties(applicants: int, respondents: int) -> list[svc.PartyInput]:
    people = [
        svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name=f"工人{i}"))
        for i in range(applicants)
    ]
    return people + [
        svc.PartyInput(role=PartyRole.respondent, person=PersonInput(name=f"公司{i}"))
        for i in range(respondents)
    ]


async def _intake(world, title: str, category: str, applicants: int, respondents: int = 1) -> Case:
    data = svc.CaseInput(
        title=title,
        category=category,
        channel="window",
        center_id=world.centers["ta"].id,
        grid_id=world.grids["a1g1"].id,
        parties=_parties(applicants, respondents),
    )
    case, _ = await svc.intake(data, await actor(world, "a_staff"))
    return await Case.get(id=case.id)


def test_festival_days_come_from_the_official_schedule():
    day = date(2026, 1, 20)
    to, since = festival_days(day)
    first = min(
        d
        for d, name in chinese_calendar.constants.holidays.items()
        if name == "Spring Festival" and d.year == 2026
    )
    assert to["spring_festival"] == (first - day).days == 26
    assert since["national_day"] == (day - date(2025, 10, 1)).days
    assert next_holiday(day) == ("spring_festival", first)
    assert festival_days(date(1990, 1, 1)) == ({}, {}), "a year the schedule does not cover: missing"


async def test_the_fact_has_time_and_parties_by_role(world):
    case = await _intake(world, "拖欠工资", "labor", applicants=6, respondents=2)
    event = await CaseEvent.get(case_id=case.id, type="case.received")
    event.at = datetime(2026, 1, 20, 9, 30, tzinfo=CHINA)
    fact = await build_fact(event, case)
    assert fact["party"] | {} == fact["party"] and fact["party"]["applicants"] == 6
    assert (fact["party"]["respondents"], fact["party"]["others"], fact["party"]["count"]) == (2, 0, 8)
    t = fact["time"]
    assert (t["date"], t["year"], t["month"], t["day"], t["weekday"], t["hour"]) == (
        "2026-01-20",
        2026,
        1,
        20,
        2,
        9,
    )
    assert t["is_workday"] is True and t["next_holiday"] == "spring_festival"
    first = date(2026, 1, 20) + timedelta(days=t["days_to"]["spring_festival"])
    expected = sum(
        chinese_calendar.is_workday(date(2026, 1, 21) + timedelta(days=n))
        for n in range((first - date(2026, 1, 21)).days)
    )
    assert t["workdays_to_holiday"] == expected
    only_dates = await build_fact(event, case, paths=frozenset({"time.month"}))
    assert "is_workday" not in only_dates["time"] and "days_to" not in only_dates["time"]


async def test_seasonal_group_rule_and_reject_action(rules):
    world = rules
    author = await actor(world, "rule_author")
    version = await rulesets.save_draft(author, "seasonal", SEASONAL)
    await rulesets.activate(author, "seasonal", version.version)

    group = await _intake(world, "六名工人被拖欠工资", "labor", applicants=6)
    received = await CaseEvent.get(case_id=group.id, type="case.received")
    to = (await build_fact(received, group))["time"].get("days_to", {}).get("spring_festival")
    fired = await Decision.filter(case_id=group.id, rule_id="wage-arrears-before-spring-festival").exists()
    assert fired == (to is not None and to <= 30), "fires exactly in the 30 days before the holiday"

    received.at = datetime(2026, 1, 20, 9, 30, tzinfo=CHINA)  # 26 days before the 2026 holiday
    (firings,) = rulesets.simulate_on_facts(SEASONAL, [await build_fact(received, group)])
    assert [f.rule_id for f in firings] == ["wage-arrears-before-spring-festival"]
    received.at = datetime(2026, 3, 20, 9, 30, tzinfo=CHINA)
    assert rulesets.simulate_on_facts(SEASONAL, [await build_fact(received, group)]) == [[]]

    small = await _intake(world, "两名工人被拖欠工资", "labor", applicants=2)
    assert not await Decision.filter(case_id=small.id, rule_id="wage-arrears-before-spring-festival").exists()

    refused = await _intake(world, "借款纠纷，法院已受理", "contract", applicants=1)
    refused = await Case.get(id=refused.id)
    assert refused.status == CaseStatus.rejected
    assert refused.reject_reason == "已进入诉讼程序，不属于调解受理范围"
    (decision,) = await Decision.filter(case_id=refused.id, rule_id="refuse-court-matters")
    assert decision.outcome == "ok" and decision.action == "reject"
    assert await CaseEvent.filter(
        case_id=refused.id, type="case.rejected", rule="seasonal/refuse-court-matters"
    ).exists()
