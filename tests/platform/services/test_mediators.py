"""Mediators' wall and 点单: from the choice to the mediator's figures."""

from __future__ import annotations

import pytest

from tests.casework import actor, new_case
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import CaseStatus, Role
from zongzhi.platform.base.errors import Forbidden, ValidationFailed
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import mediators
from zongzhi.platform.services.accounts import create_user

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64


async def test_choice_accept_decline_and_figures(world):
    staff = await actor(world, "a_staff")
    mediator = await actor(world, "a_mediator")
    second = await create_user("a_lawyer", "王律师", [str(Role.mediator)], center=world.centers["ta"])
    world.users["a_lawyer"] = second
    await mediators.save_profile(
        staff, mediator.user_id, organisation="甲镇人民调解委员会", intro="擅长邻里纠纷"
    )
    await mediators.save_profile(staff, second.id, organisation="某律师事务所", org_kind="lawyer")
    case = await new_case(world)
    # The lawyer declines with a reason; without one the answer is refused.
    first = await mediators.request(staff, case.id, second.id)
    with pytest.raises(ValidationFailed) as err:
        await mediators.answer(await actor(world, "a_lawyer"), first.id, False)
    assert err.value.field == "reason"
    with pytest.raises(Exception) as err:
        await mediators.answer(mediator, first.id, True)  # not theirs to answer
    assert err.value.code == "NOT_FOUND"
    await mediators.answer(await actor(world, "a_lawyer"), first.id, False, "本周外出")
    # The mediator accepts: the case is dispatched to them and they hold it.
    chosen = await mediators.request(staff, case.id, mediator.user_id)
    await mediators.answer(mediator, chosen.id, True)
    case = await Case.get(id=case.id)
    assert case.status == CaseStatus.handling
    types = await CaseEvent.filter(case_id=case.id).order_by("id").values_list("type", flat=True)
    assert [t for t in types if "mediator" in t] == [
        "case.mediator_requested",
        "case.mediator_declined",
        "case.mediator_requested",
        "case.mediator_accepted",
    ]
    figs = await mediators.figures([mediator.user_id, second.id])
    assert (figs[mediator.user_id].load, figs[mediator.user_id].accepted) == (1, 1)
    assert (figs[second.id].requested, figs[second.id].declined, figs[second.id].load) == (1, 1, 0)
    await svc.resolve(mediator, case.id, "达成协议")
    figs = await mediators.figures([mediator.user_id])
    f = figs[mediator.user_id]
    assert (f.load, f.concluded, f.resolved, f.success_rate) == (0, 1, 1, 1.0)
    # Both are on the wall of the village below their township.
    wall = await mediators.wall(world.centers["va1"].id)
    assert {u.username for u, _ in wall} == {"a_mediator", "a_lawyer"}
    assert await mediators.wall(world.centers["vb1"].id) == []


async def test_unavailable_mediator_and_other_townships(world):
    staff = await actor(world, "a_staff")
    mediator = await actor(world, "a_mediator")
    with pytest.raises(Forbidden):
        await mediators.save_profile(await actor(world, "b_staff"), mediator.user_id, organisation="x")
    await mediators.save_profile(mediator, mediator.user_id, available=False)
    with pytest.raises(ValidationFailed) as err:
        await mediators.request(staff, (await new_case(world)).id, mediator.user_id)
    assert err.value.field == "mediatorId"


async def test_photo_goes_through_the_evidence_checks(client, world):
    store = client.app.state.store
    staff = await actor(world, "a_staff")
    uid = world.users["a_mediator"].id
    with pytest.raises(ValidationFailed) as err:
        await mediators.set_photo(staff, store, uid, "me.png", "image/png", b"%PDF-1.4 not a png")
    assert err.value.field == "file.contentType"
    await mediators.set_photo(staff, store, uid, "me.png", "image/png", PNG)
    response = await client.get(f"/public/mediators/{uid}/photo")
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"


async def test_graphql_point_and_answer(client, world):
    case = await new_case(world)
    mid = to_global_id("User", world.users["a_mediator"].id)
    await gql(
        client,
        world.tokens["a_mediator"],
        'mutation($m: ID!) { saveMediatorProfile(userId: $m, organisation: "甲镇人调委") { name } }',
        {"m": mid},
    )
    data = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($c: ID!, $m: ID!) { requestMediator(caseId: $c, mediatorId: $m) { id status } }",
        {"c": to_global_id("Case", case.id), "m": mid},
    )
    choice = data["requestMediator"]["id"]
    waiting = await gql(client, world.tokens["a_mediator"], "{ myMediatorRequests { id } }")
    assert waiting["myMediatorRequests"] == [{"id": choice}]
    answered = await gql(
        client,
        world.tokens["a_mediator"],
        "mutation($i: ID!) { answerMediatorRequest(choiceId: $i, accept: true) { status } }",
        {"i": choice},
    )
    assert answered["answerMediatorRequest"]["status"] == "accepted"
    wall = await gql(
        client,
        world.tokens["a1_staff"],
        "query($c: ID!) { mediatorWall(centerId: $c) { name load chosen accepted } }",
        {"c": to_global_id("Center", world.centers["va1"].id)},
    )
    assert wall["mediatorWall"] == [{"name": "a_mediator", "load": 1, "chosen": 1, "accepted": 1}]
    # Another township's staff cannot ask for a mediator on this case (it is outside their jurisdiction).
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["b_staff"],
            "mutation($c: ID!, $m: ID!) { requestMediator(caseId: $c, mediatorId: $m) { id } }",
            {"c": to_global_id("Case", case.id), "m": mid},
        )
    assert err.value.code == "NOT_FOUND"


async def test_mediator_from_another_township_is_not_offered(world):
    other = await create_user("b_mediator", "乙镇调解员", [str(Role.mediator)], center=world.centers["tb"])
    case = await new_case(world)
    with pytest.raises(ValidationFailed) as err:
        await mediators.request(await actor(world, "county_staff"), case.id, other.id)
    assert err.value.field == "mediatorId"


async def test_mediator_chosen_for_a_dispatched_case_joins_and_holds_it(world):
    from zongzhi.platform.models import Assignment

    staff = await actor(world, "a_staff")
    mediator = await actor(world, "a_mediator")
    case = await new_case(world)
    await svc.assess(staff, case.id)
    await svc.dispatch(staff, case.id, "transfer", [svc.UnitInput(center_id=world.centers["va1"].id)])
    choice = await mediators.request(staff, case.id, mediator.user_id)
    await mediators.answer(mediator, choice.id, True)
    held = await Assignment.get(case_id=case.id, user_id=mediator.user_id)
    assert held.mode == "joint" and held.finished_at is None
    assert (await Case.get(id=case.id)).status == CaseStatus.handling
    await svc.resolve(mediator, case.id, "达成协议")
    assert (await mediators.figures([mediator.user_id]))[mediator.user_id].resolved == 1
