"""The day's work over GraphQL: inbox, work queues, the summoned department, allowed actions, bulk steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.casework import actor, new_case, take_to
from tests.gql import GraphQLErrors, gql
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.base.current import current
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import CaseEvent, Notification, Whistle
from zongzhi.platform.rules.builtin_actions import ActionContext, notify, whistle
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.deadlines import tick

INBOX = """query($unread: Boolean) { unreadNotificationCount
  notifications(first: 10, unread: $unread) { totalCount
    edges { node { id kind kindLabel message read toRole case { number } } } } }"""


async def _rule(world, case, action, params):
    event = await CaseEvent.filter(case_id=case.id).order_by("-id").first()
    await action(ActionContext(case=case, event=event, actor=Actor.system_actor("规则")), params)


async def test_inbox_shows_notify_and_platform_alerts_and_marks_them_read(client, world):
    case = await new_case(world)
    await _rule(world, case, notify, {"user": "a_staff", "message": "请关注"})
    await _rule(world, case, notify, {"role": "staff"})  # to the staff of the owning village
    staff = await actor(world, "a_staff")
    await svc.set_deadline(staff, case.id, resolve_by=datetime.now(UTC) + timedelta(minutes=1))
    await tick(datetime.now(UTC) + timedelta(minutes=5))  # overdue: the village's leaders are told

    t = world.tokens
    mine = await gql(client, t["a_staff"], INBOX)
    assert mine["unreadNotificationCount"] == 1
    (node,) = [e["node"] for e in mine["notifications"]["edges"]]
    assert (node["kind"], node["kindLabel"], node["read"], node["case"]["number"]) == (
        "rule",
        "规则提醒",
        False,
        case.number,
    )
    village = await gql(client, t["a1_staff"], INBOX)
    assert [e["node"]["toRole"] for e in village["notifications"]["edges"]] == ["staff"]
    overdue = await Notification.filter(case_id=case.id, kind="overdue").values_list("role", "user_id")
    assert ("leader", None) in overdue

    read = await gql(
        client,
        t["a_staff"],
        "mutation($id: ID!) { markNotificationRead(id: $id) { read } }",
        {"id": node["id"]},
    )
    assert read["markNotificationRead"]["read"] is True
    assert (await gql(client, t["a_staff"], INBOX, {"unread": True}))["notifications"]["totalCount"] == 0
    assert (await gql(client, t["a1_staff"], "mutation { markAllNotificationsRead }"))[
        "markAllNotificationsRead"
    ] == 1
    assert (await gql(client, t["a1_staff"], INBOX))["unreadNotificationCount"] == 0


async def test_an_inbox_never_shows_what_its_owner_may_not_see(client, world):
    case = await new_case(world)  # village A1
    await _rule(world, case, notify, {"user": "b_staff", "message": "另一镇的案件"})
    t = world.tokens
    other = await gql(client, t["b_staff"], INBOX)
    assert other["unreadNotificationCount"] == 0 and other["notifications"]["edges"] == []
    with pytest.raises(GraphQLErrors) as err:
        note = await Notification.get(user_id=world.users["b_staff"].id)
        await gql(
            client,
            t["a_staff"],
            "mutation($id: ID!) { markNotificationRead(id: $id) { read } }",
            {"id": to_global_id("Notification", note.id)},
        )
    assert err.value.code == "NOT_FOUND"


async def test_work_queues_and_the_summoned_department(client, world):
    t = world.tokens
    await new_case(world, title="待研判")
    concluded = await take_to(world, await new_case(world, title="待办结"), CaseStatus.resolved)
    mediator_case = await take_to(world, await new_case(world, title="调解中"), CaseStatus.handling)
    counts = {
        q["queue"]: q["count"]
        for q in (await gql(client, t["a1_staff"], "{ workQueues { queue label count } }"))["workQueues"]
    }
    assert counts["TO_ASSESS"] == 1 and counts["TO_CLOSE"] == 1 and counts["MINE"] == 0
    listed = await gql(
        client,
        t["a1_staff"],
        "query($f: CaseFilter) { cases(filter: $f) { totalCount edges { node { number } } } }",
        {"f": {"queue": "TO_CLOSE"}},
    )
    assert [e["node"]["number"] for e in listed["cases"]["edges"]] == [concluded.number]
    mine = await gql(
        client,
        t["a_mediator"],
        "query { cases(filter: {queue: MINE}) { totalCount edges { node { number } } } }",
    )
    assert (
        mine["cases"]["totalCount"] == 1
        and mine["cases"]["edges"][0]["node"]["number"] == mediator_case.number
    )
    assert (await gql(client, t["b_staff"], "{ cases(filter: {queue: TO_ASSESS}) { totalCount } }"))["cases"][
        "totalCount"
    ] == 0

    # 吹哨报到: the summoned department sees the case, notes progress, answers, and keeps it.
    officer = t["housing_officer"]
    cid = to_global_id("Case", mediator_case.id)
    assert (await gql(client, officer, "query($id: ID!) { case(id: $id) { number } }", {"id": cid}))[
        "case"
    ] is None
    await _rule(world, mediator_case, whistle, {"departments": ["zj"], "respond_in": {"working_days": 1}})
    queue = await gql(client, officer, "{ workQueues { queue count } }")
    assert {q["queue"]: q["count"] for q in queue["workQueues"]}["WHISTLES"] == 1
    assert (await gql(client, officer, INBOX))["notifications"]["edges"][0]["node"]["kind"] == "whistle"
    seen = await gql(client, officer, "query($id: ID!) { case(id: $id) { number } }", {"id": cid})
    assert seen["case"]["number"] == mediator_case.number
    await gql(
        client,
        officer,
        'mutation($id: ID!) { addCaseProgress(caseId: $id, note: "已到场") { status } }',
        {"id": cid},
    )
    w = await Whistle.get(case_id=mediator_case.id)
    await gql(
        client,
        officer,
        'mutation($w: ID!) { answerWhistle(whistleId: $w, answer: "三日内整改") }',
        {"w": to_global_id("Whistle", w.id)},
    )
    kept = await gql(client, officer, "query($id: ID!) { case(id: $id) { number } }", {"id": cid})
    assert kept["case"]["number"] == mediator_case.number, "it keeps what it answered"
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            officer,
            'mutation($id: ID!) { addCaseProgress(caseId: $id, note: "又来") { status } }',
            {"id": cid},
        )
    assert err.value.code == "FORBIDDEN", "progress only while the whistle is open"


async def test_allowed_actions_say_what_and_why_not(client, world):
    case = await new_case(world)
    query = "query($id: ID!) { case(id: $id) { allowedActions { step label mutation allowed reason } } }"
    cid = to_global_id("Case", case.id)
    staff = {
        a["step"]: a
        for a in (await gql(client, world.tokens["a1_staff"], query, {"id": cid}))["case"]["allowedActions"]
    }
    assert staff["assess"]["allowed"] and staff["assess"]["mutation"] == "assessCase"
    assert not staff["close"]["allowed"] and "已受理" in staff["close"]["reason"]
    grid = {
        a["step"]: a
        for a in (await gql(client, world.tokens["a1_grid"], query, {"id": cid}))["case"]["allowedActions"]
    }
    assert not grid["assess"]["allowed"] and "中心工作人员" in grid["assess"]["reason"]
    assert not grid["accept"]["allowed"]


async def test_bulk_close_reports_each_case(client, world):
    done = await take_to(world, await new_case(world, title="甲"), CaseStatus.resolved)
    open_ = await new_case(world, title="乙")
    result = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($ids: [ID!]!) { bulkCloseCases(caseIds: $ids) { caseId ok code case { status } } }",
        {"ids": [to_global_id("Case", done.id), to_global_id("Case", open_.id)]},
    )
    first, second = result["bulkCloseCases"]
    assert first["ok"] and first["case"]["status"] == "CLOSED"
    assert (second["ok"], second["code"], second["case"]) == (False, "INVALID_TRANSITION", None)
    outside = await new_case(world, grid="b1g1", filer="b1_grid")
    result = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($ids: [ID!]!) { bulkCloseCases(caseIds: $ids) { ok code } }",
        {"ids": [to_global_id("Case", outside.id)]},
    )
    assert result["bulkCloseCases"] == [{"ok": False, "code": "NOT_FOUND"}]
    dispatched = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($ids: [ID!]!) { bulkDispatchCases(caseIds: $ids, mode: SELF, units: []) { ok } }",
        {"ids": [to_global_id("Case", open_.id)]},
    )
    assert dispatched["bulkDispatchCases"] == [{"ok": True}]


async def test_notification_added_pushes_new_rows_of_the_inbox(client, world):
    import asyncio

    from zongzhi.platform.domain.actor import actor_for_user
    from zongzhi.platform.pipeline import broadcast
    from zongzhi.platform.schema.context import Context

    current().publishers = [broadcast.announce]
    case = await new_case(world)
    context = Context(settings=client.app.state.settings, actor=await actor_for_user(world.users["a_staff"]))
    stream = await client.app.state.schema.subscribe(
        "subscription { notificationAdded { kind message case { number } } }", context_value=context
    )
    hub = broadcast.hub()
    before = hub.listening
    first = asyncio.ensure_future(stream.__anext__())
    for _ in range(200):
        if hub.listening > before:
            break
        await asyncio.sleep(0.01)
    await _rule(world, case, notify, {"user": "b_staff", "message": "不是给甲镇的"})
    await _rule(world, case, notify, {"user": "a_staff", "message": "给甲镇"})
    result = await asyncio.wait_for(first, timeout=5)
    await stream.aclose()
    assert result.data["notificationAdded"] == {
        "kind": "rule",
        "message": "给甲镇",
        "case": {"number": case.number},
    }


async def test_corrections_are_events_with_before_and_after(client, world):
    case = await new_case(world)
    cid = to_global_id("Case", case.id)
    token = world.tokens["a_staff"]
    update = """mutation($id: ID!, $i: UpdateCaseInput!, $r: String) {
      updateCase(caseId: $id, input: $i, reason: $r) { title category { code } tags location { address }
        timeline { type label payload } } }"""
    with pytest.raises(GraphQLErrors) as err:
        await gql(client, token, update, {"id": cid, "i": {"category": "labor"}})
    assert (err.value.code, err.value.field) == ("VALIDATION", "reason")
    assert (await CaseEvent.filter(case_id=case.id, type="case.updated").count()) == 0
    done = (
        await gql(
            client,
            token,
            update,
            {
                "id": cid,
                "i": {
                    "title": "楼上漏水（更正）",
                    "category": "labor",
                    "tags": ["重点"],
                    "location": {"address": "甲一村3号"},
                },
                "r": "登记时选错类别",
            },
        )
    )["updateCase"]
    assert (done["title"], done["category"]["code"], done["tags"], done["location"]["address"]) == (
        "楼上漏水（更正）",
        "labor",
        ["重点"],
        "甲一村3号",
    )
    event = done["timeline"][-1]
    assert (event["type"], event["label"]) == ("case.updated", "更正案件信息")
    assert event["payload"]["changes"]["category"] == {"before": "neighbor", "after": "labor"}
    assert event["payload"]["reason"] == "登记时选错类别"
    with pytest.raises(GraphQLErrors) as err:
        await gql(client, world.tokens["a1_grid"], update, {"id": cid, "i": {"title": "x"}})
    assert err.value.code == "FORBIDDEN"

    added = await gql(
        client,
        token,
        'mutation($id: ID!) { addCaseParty(caseId: $id, role: RESPONDENT, person: {name: "李四"}) '
        "{ parties { role person { id name } } } }",
        {"id": cid},
    )
    parties = added["addCaseParty"]["parties"]
    assert {(p["role"], p["person"]["name"]) for p in parties} == {
        ("APPLICANT", "张三"),
        ("RESPONDENT", "李四"),
    }
    li = next(p["person"]["id"] for p in parties if p["person"]["name"] == "李四")
    remove = "mutation($id: ID!, $p: ID!, $r: String!) { removeCaseParty(caseId: $id, personId: $p, role: RESPONDENT, reason: $r) { parties { role } } }"
    with pytest.raises(GraphQLErrors) as err:
        await gql(client, token, remove, {"id": cid, "p": li, "r": " "})
    assert (err.value.code, err.value.field) == ("VALIDATION", "reason")
    removed = await gql(client, token, remove, {"id": cid, "p": li, "r": "误录"})
    assert removed["removeCaseParty"]["parties"] == [{"role": "APPLICANT"}]
    types = [e.type for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
    assert types[-2:] == ["case.party_added", "case.party_removed"]


async def test_timeline_and_board_events_carry_labels_beside_codes(client, world):
    from zongzhi.platform.pipeline import broadcast
    from zongzhi.platform.schema.subscriptions import BoardEvent

    case = await take_to(world, await new_case(world), CaseStatus.closed)
    await svc.reopen(await actor(world, "a_staff"), case.id, "当事人反映协议未履行")
    data = await gql(
        client,
        world.tokens["a_staff"],
        "query($id: ID!) { case(id: $id) { timeline { type label details { key keyLabel value valueLabel } } } }",
        {"id": to_global_id("Case", case.id)},
    )
    reopened = data["case"]["timeline"][-1]
    assert (reopened["type"], reopened["label"]) == ("case.reopened", "重新办理")
    by_key = {d["key"]: d for d in reopened["details"]}
    assert (by_key["from"]["keyLabel"], by_key["from"]["value"], by_key["from"]["valueLabel"]) == (
        "原状态",
        "closed",
        "已办结",
    )
    assert by_key["reason"]["valueLabel"] is None
    event = await CaseEvent.filter(case_id=case.id).order_by("-id").first()
    board = BoardEvent.of(
        broadcast.message_for(event, await case.__class__.get(id=case.id)) | {"kind": "status"}
    )
    assert (board.type_label(), board.kind_label(), board.status_label(), board.category_label()) == (
        "重新办理",
        "状态变化",
        "已受理",
        "邻里纠纷",
    )


async def test_the_readme_walkthrough_runs(client, world):
    import re
    from pathlib import Path

    readme = Path(__file__).resolve().parents[3] / "README.md"
    section = readme.read_text().split("### A front end's day")[1]
    block = section.split("```graphql")[1].split("```")[0]
    document = re.sub(r"#[^\n]*", "", block)
    case = await new_case(world)
    await _rule(world, case, notify, {"user": "a_staff", "message": "请关注"})
    await take_to(world, case, CaseStatus.handling)
    token = world.tokens["a_staff"]
    start = (
        await client.post(
            "/graphql",
            json={"query": document, "operationName": "Start"},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    assert "errors" not in start and start["data"]["unreadNotificationCount"] == 1
    board = (
        await client.post(
            "/graphql",
            json={"query": document, "operationName": "SupervisionBoard", "variables": {"after": None}},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    assert "errors" not in board, board


async def test_bulk_follow_up_each_case_its_own_transaction(client, world):
    closed = [
        await take_to(world, await new_case(world, title=f"回访{i}"), CaseStatus.closed) for i in range(2)
    ]
    still_open = await new_case(world, title="未办结")
    ids = [to_global_id("Case", c.id) for c in (*closed, still_open)]
    result = await gql(
        client,
        world.tokens["a_staff"],
        "mutation($ids: [ID!]!) { bulkFollowUpCases(caseIds: $ids, satisfaction: 4, executed: true, "
        'method: VISIT, note: "入户回访") { ok code case { status satisfaction } } }',
        {"ids": ids},
    )
    assert [(r["ok"], r["code"]) for r in result["bulkFollowUpCases"]] == [
        (True, None),
        (True, None),
        (False, "INVALID_TRANSITION"),
    ]
    assert result["bulkFollowUpCases"][0]["case"] == {"status": "FOLLOWED_UP", "satisfaction": 4}
    with pytest.raises(GraphQLErrors) as err:
        await gql(
            client,
            world.tokens["a_staff"],
            "mutation($ids: [ID!]!) { bulkCloseCases(caseIds: $ids) { ok } }",
            {"ids": [ids[0], ids[0]]},
        )
    assert (err.value.code, err.value.field) == ("VALIDATION", "caseIds")


def test_every_lifecycle_step_names_a_label_and_a_mutation_of_the_schema():
    """allowedActions points at mutations that exist: a step's mutation renamed in the schema fails here."""
    from pathlib import Path

    from graphql import build_schema

    from zongzhi.platform.services.lifecycle import STEPS

    published = build_schema((Path(__file__).parents[3] / "schema.graphql").read_text())
    mutations = set(published.mutation_type.fields)
    for step in STEPS.values():
        assert step.label and step.mutation in mutations, step.name
