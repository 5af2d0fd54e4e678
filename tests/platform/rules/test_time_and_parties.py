"""Time, parties by role and 不予受理 in rules: seasonal and group-dispute rules are exact."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

from tests.casework import actor
from zongzhi.platform.base.codes import CaseStatus, PartyRole
from zongzhi.platform.domain.workdays import CHINA
from zongzhi.platform.models import Case, CaseEvent, Decision
from zongzhi.platform.rules import versions as rulesets
from zongzhi.platform.rules.fact_time import festival_days, next_holiday
from zongzhi.platform.rules.facts import build_fact, party_counts_many
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.people import PersonInput

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


async def test_a_loaded_year_names_its_festivals(world, settings, tmp_path):
    """The package does not know 2031 yet: an admin loads it, festivals included, and rules see them."""
    import os
    import subprocess
    import sys

    from zongzhi.platform.rules import fact_time

    year_file = tmp_path / "2031.yaml"
    year_file.write_text(
        "year: 2031\n"
        "holidays: [2031-01-01, 2031-01-22, 2031-01-23, 2031-01-24, 2031-01-25, 2031-01-26, 2031-01-27, 2031-01-28]\n"
        "workdays: [2031-01-19]\n"
        "festivals: {new_years_day: 2031-01-01, spring_festival: 2031-01-22}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "ZONGZHI_DATA_DIR": str(settings.data_dir),
        "ZONGZHI_DATABASE_URL": settings.db_url,
        "ZONGZHI_SECRET_KEY": settings.secret_key,
        "ZONGZHI_LOG_LEVEL": "WARNING",
    }
    run = [sys.executable, "-m", "zongzhi.platform.wiring.cli", "calendar", "load"]
    loaded = subprocess.run([*run, str(year_file)], env=env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "year: 2031\nholidays: [2031-01-01]\nfestivals: {spring_festivl: 2031-01-01}\n", encoding="utf-8"
    )
    refused = subprocess.run([*run, str(bad)], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "unknown festival 'spring_festivl'" in refused.stderr

    fact_time.forget_loaded()
    case = await _intake(world, "拖欠工资", "labor", applicants=5)
    event = await CaseEvent.get(case_id=case.id, type="case.received")
    event.at = datetime(2031, 1, 2, 10, 0, tzinfo=CHINA)
    t = (await build_fact(event, case))["time"]
    assert t["days_to"]["spring_festival"] == 20 and t["days_since"]["new_years_day"] == 1
    assert t["next_holiday"] == "spring_festival" and t["is_workday"] is True
    # 2031-01-03 .. 2031-01-21: weekdays, plus the make-up Sunday 2031-01-19.
    expected = sum((date(2031, 1, 3) + timedelta(days=n)).weekday() < 5 for n in range(19)) + 1
    assert t["workdays_to_holiday"] == expected
    fact_time.forget_loaded()


async def test_party_history_counts_earlier_cases_of_the_same_people(world):
    """``party.prior_cases_90d`` and ``party.same_pair_cases_90d`` (one statement on PostgreSQL, the
    ORM's queries on SQLite: the same numbers)."""
    first = await _intake(world, "邻里纠纷", "neighbor", applicants=2, respondents=1)
    parties = await first.parties.all().order_by("id")
    again = [svc.PartyInput(role=PartyRole(p.role), person_id=p.person_id) for p in parties]
    staff = await actor(world, "a_staff")
    base = dict(category="neighbor", channel="window", center_id=world.centers["ta"].id)
    for title, people in (("又吵架", again), ("申请人另案", again[:1]), ("第三次", again)):
        case, _ = await svc.intake(svc.CaseInput(title=title, parties=people, **base), staff)
    event = await CaseEvent.get(case_id=case.id, type="case.received")
    party = (await build_fact(event, await Case.get(id=case.id)))["party"]
    # The first applicant is in all three earlier cases; the pair met in two of them.
    assert (party["prior_cases_90d"], party["same_pair_cases_90d"]) == (3, 2)
    assert (party["count"], party["applicants"], party["respondents"], party["others"]) == (3, 2, 1, 0)
    fresh = await _intake(world, "新案件", "neighbor", applicants=1, respondents=0)
    event = await CaseEvent.get(case_id=fresh.id, type="case.received")
    # A worker's batch reads them for many cases at once: the same numbers.
    many = await party_counts_many([await Case.get(id=case.id), fresh])
    assert many == {case.id: party, fresh.id: (await build_fact(event, fresh))["party"]}
    assert (await build_fact(event, fresh))["party"] == {
        "count": 1,
        "applicants": 1,
        "respondents": 0,
        "others": 0,
        "prior_cases_90d": 0,
        "same_pair_cases_90d": 0,
    }
