"""积分制考核: scores equal a hand computation on a fixture and every point names its event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.casework import actor, new_case, take_to
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, Role
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import CaseEvent
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import assessment
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.accounts import create_user
from zongzhi.platform.stats.period import TZ, year
from zongzhi.platform.stats.scope import scope_of_center

SYSTEM = Actor.system_actor("test")


async def _fixture(world):
    """Three cases whose scores are computed by hand below."""
    staff = await actor(world, "a_staff")
    mediator = await actor(world, "a_mediator")
    officer = await actor(world, "housing_officer")
    # A: the mediator resolves on time (+2); follow-up 5 stars (+1), carried out (+1).
    a = await take_to(world, await new_case(world), CaseStatus.followed_up)
    # B: the mediator holds it, it goes overdue (-2), supervision answered by progress (+1), fails late (0).
    b = await take_to(world, await new_case(world), CaseStatus.handling)
    await svc.note_event(SYSTEM, b.id, "case.overdue", {})
    await svc.supervise(staff, b.id, "请加快办理")
    await svc.add_progress(mediator, b.id, "已约双方面谈")
    await svc.fail(mediator, b.id, "未达成一致", "litigation")
    # C: the housing bureau returns it and gets it back (推诿, -3 to the officer); a whistle
    # goes unanswered (-2 to the bureau).
    c = await take_to(world, await new_case(world, category="housing_homestead"), CaseStatus.assessed)
    housing = world.departments["housing"].id
    await svc.dispatch(staff, c.id, AssignmentMode.transfer, [svc.UnitInput(department_id=housing)])
    await svc.return_case(officer, c.id, "不属于本部门职责")
    await svc.dispatch(staff, c.id, AssignmentMode.transfer, [svc.UnitInput(department_id=housing)])
    await svc.note_event(SYSTEM, c.id, "case.whistle_unanswered", {"department_id": housing})
    return a, b, c


def _period():
    return year(datetime.now(UTC).astimezone(TZ).year)


async def test_scores_equal_the_hand_computation_and_trace_to_events(world):
    a, b, c = await _fixture(world)
    assessor = await create_user(
        "housing_assessor", "住建局考核员", [str(Role.department)], department=world.departments["housing"]
    )
    period = _period()
    await assessment.enter_home_score(
        await assessment_actor(assessor), world.users["housing_officer"].id, period.label, 80
    )
    result = await assessment.compute(await scope_of_center(world.centers["county"]), period)
    people = {s.name: s for s in result.people}
    mediator = people["a_mediator"]
    assert mediator.center_score == 2 + 1 + 1 - 2 + 1 + 0
    assert sorted(line.rule for line in mediator.lines) == sorted(
        ["concluded_on_time", "satisfied", "executed", "overdue", "supervision_answered"]
    )
    officer = people["housing_officer"]
    assert officer.center_score == -3 and officer.home_score == 80
    assert officer.weighted == pytest.approx(-3 * 0.6 + 80 * 0.4)
    # Each line names the event behind it, on the right case.
    for line in [*mediator.lines, *officer.lines]:
        event = await CaseEvent.get(id=line.event_id)
        assert event.case_id == line.case_id
    overdue = next(x for x in mediator.lines if x.rule == "overdue")
    assert (await CaseEvent.get(id=overdue.event_id)).type == "case.overdue" and overdue.case_id == b.id
    assert {x.case_id for x in mediator.lines if x.rule in ("satisfied", "executed")} == {a.id}
    assert [x.case_id for x in officer.lines] == [c.id]
    units = {(s.kind, s.name): s for s in result.units}
    assert units[("department", "县住建局")].center_score == -3 - 2
    township = units[("center", "甲镇综治中心")]
    assert township.center_score == 3 and township.annual_share == pytest.approx(0.9)
    # The ranking: the officer's weighted 30.2 is above the mediator's 3.
    assert [s.name for s in result.people] == ["housing_officer", "a_mediator"]
    csv = assessment.to_csv(result)
    assert "a_mediator" in csv and "30.2" in csv


async def assessment_actor(user):
    from zongzhi.platform.domain.actor import actor_for_user

    return await actor_for_user(user)


async def test_county_points_and_weights_change_the_score(world):
    await _fixture(world)
    leader = await actor(world, "county_leader")
    with pytest.raises(ValidationFailed) as err:
        await assessment.configure(leader, world.centers["county"].id, {"overdue": -1}, home_weight=0.5)
    assert err.value.field == "homeWeight"
    with pytest.raises(ValidationFailed) as err:
        await assessment.configure(leader, world.centers["county"].id, {"nonsense": 1})
    assert err.value.field == "points.nonsense"
    with pytest.raises(Forbidden):
        await assessment.configure(await actor(world, "a_staff"), world.centers["county"].id, {})
    await assessment.configure(leader, world.centers["county"].id, {"overdue": -5, "concluded_on_time": 3})
    result = await assessment.compute(await scope_of_center(world.centers["county"]), _period())
    mediator = next(s for s in result.people if s.name == "a_mediator")
    assert mediator.center_score == 3 + 1 + 1 - 5 + 1 + 0


async def test_home_score_only_by_the_persons_department(world):
    with pytest.raises(Forbidden):
        await assessment.enter_home_score(
            await actor(world, "a_staff"), world.users["housing_officer"].id, "2026", 90
        )


async def test_graphql_assessment(client, world):
    await _fixture(world)
    label = _period().label
    data = await gql(
        client,
        world.tokens["county_leader"],
        """query($p: String!) { assessment(period: $p) { weights people { rank name centerScore
             lines { rule points caseNumber } } units { kind name centerScore annualShare } csv } }""",
        {"p": label},
    )
    people = data["assessment"]["people"]
    assert people[0]["name"] == "a_mediator" and people[0]["centerScore"] == 3
    assert data["assessment"]["weights"] == {"center_weight": 0.6, "home_weight": 0.4, "township_share": 0.3}
    # Township B's staff cannot read township A's assessment, nor a grid worker any.
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["b_staff"],
            'query($c: ID) { assessment(period: "2026", centerId: $c) { period } }',
            {"c": to_global_id("Center", world.centers["ta"].id)},
        )
    assert err.value.code in {"FORBIDDEN", "NOT_FOUND"}  # NOT_FOUND once sec-refs' scope_for is merged
    with pytest.raises(GraphQLErrors) as err:
        await gql(client, world.tokens["a1_grid"], '{ assessment(period: "2026") { period } }')
    assert err.value.code == "FORBIDDEN"
