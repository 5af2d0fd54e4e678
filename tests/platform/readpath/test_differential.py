"""The compiled read path answers exactly as the resolvers do.

Documents are generated over the compiled subset (random field subsets of the case and what it
links to, aliases, named and inline fragments, variables and literals, filters, orderings, page
sizes and the next page by cursor, ``case`` and ``node``), each sent over HTTP as every user of the
test county, once through the compiled path and once through the resolvers: the two responses
must be the same bytes. Some requests are refused (a bad cursor, an unknown category, a page too
large): those go through the resolvers either way and must still match. The reveal audit row of
an answer with full numbers must be the same on both paths.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx

from tests.casework import actor, new_case, take_to
from tests.gql import raw
from tests.platform.readpath.paths import endpoint, resolvers_only
from tests.sql_log import sql_sent
from zongzhi.platform.base import pii
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, PartyRole
from zongzhi.platform.models import AuditLog, Case, Notification, NotificationRead, Whistle
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.people import PersonInput

USERS = [
    "county_staff",
    "county_leader",
    "a_staff",
    "b_staff",
    "a1_staff",
    "a_mediator",
    "a1_grid",
    "b1_grid",
    "housing_officer",
    "rule_author",
    "admin",
    "court_partner",
]


def id_number(i: int) -> str:
    first17 = f"330110198001{i % 28 + 1:02d}{i:03d}"
    return first17 + pii.id_check_char(first17)


async def seed(world) -> list[Case]:
    """Cases in every grid and many states: parties with numbers (one linked blind), deadlines
    past and future, tags, risks, assignments to a person and to a department."""
    made: list[Case] = []
    plan = [
        ("a1g1", "a1_grid", "neighbor", CaseStatus.received),
        ("a1g2", "a_staff", "labor", CaseStatus.handling),
        ("a2g1", "a_staff", "neighbor", CaseStatus.resolved),
        ("b1g1", "b1_grid", "labor", CaseStatus.received),
        ("b1g1", "b_staff", "contract", CaseStatus.received),
        ("a1g1", "a1_grid", "labor", CaseStatus.closed),
        ("a2g1", "a_staff", "contract", CaseStatus.withdrawn),
        ("a1g2", "a_staff", "neighbor", CaseStatus.dispatched),
        ("a1g1", "a_mediator", "marriage_family", CaseStatus.followed_up),
        ("a1g1", "a1_grid", "neighbor", CaseStatus.assessed),
    ]
    for i, (grid, filer, category, status) in enumerate(plan):
        parties = [
            svc.PartyInput(
                role=PartyRole.applicant,
                person=PersonInput(
                    name=f"申请人{i}",
                    id_number=id_number(i) if i % 3 != 2 else None,
                    phone=f"1380000{i:04d}" if i % 2 == 0 else None,
                    address=f"住址{i}",
                ),
            )
        ]
        if i % 2 == 1:
            parties.append(
                svc.PartyInput(
                    role=PartyRole.respondent, person=PersonInput(name=f"被申请人{i}", phone="13912345678")
                )
            )
        case, _ = await svc.intake(
            svc.CaseInput(
                title=f"案件{i} 楼上漏水" if i % 2 else f"案件{i} 工资_拖欠%",
                category=category,
                channel="grid" if i % 3 else "window",
                grid_id=world.grids[grid].id,
                tags=["重点"] if i % 4 == 0 else [],
                severity=1 + i % 4,
                lat=30.05 if i % 2 else None,
                lng=120.05 if i % 2 else None,
                address=f"地址{i}",
                parties=parties,
                external_channel="court" if i == 4 else None,
                external_id="(2026)浙0110民初1号" if i == 4 else None,
            ),
            await actor(world, filer),
        )
        made.append(await take_to(world, case, status))
    # Township B's grid worker files with the ID number of someone on record in township A: blind.
    blind, _ = await svc.intake(
        svc.CaseInput(
            title="盲链当事人",
            category="neighbor",
            channel="grid",
            grid_id=world.grids["b1g1"].id,
            parties=[
                svc.PartyInput(
                    role=PartyRole.applicant, person=PersonInput(name="冒名", id_number=id_number(0))
                )
            ],
        ),
        await actor(world, "b1_grid"),
    )
    made.append(blind)
    staff = await actor(world, "a_staff")
    county = await actor(world, "county_staff")
    now = datetime.now(UTC)
    await svc.set_deadline(
        staff, made[0].id, resolve_by=now - timedelta(days=2), respond_by=now - timedelta(days=3)
    )
    await svc.set_deadline(staff, made[1].id, resolve_by=now + timedelta(days=5))
    await svc.set_deadline(staff, made[7].id, resolve_by=now - timedelta(hours=1))
    await svc.flag_risk(staff, made[1].id, "high", "有暴力倾向")
    await svc.flag_risk(staff, made[9].id, "medium", "反复纠纷")
    await svc.tag(staff, made[2].id, ["重点", "回访"])
    # 吹哨报到 (a rule action's row): the housing department sees township B's case through it.
    await Whistle.create(case=made[4], department=world.departments["housing"], due=now + timedelta(days=2))
    extra = await new_case(world, grid="a1g1", filer="a1_grid", title="转办住建")
    await svc.assess(county, extra.id)
    await svc.dispatch(
        county,
        extra.id,
        AssignmentMode.transfer,
        [svc.UnitInput(department_id=world.departments["housing"].id)],
    )
    made.append(extra)
    return made


# --- generating documents ----------------------------------------------------------------------

SCALARS = [
    "id",
    "number",
    "title",
    "description",
    "severity",
    "complexity",
    "risk",
    "status",
    "tags",
    "outcome",
    "agreement",
    "amount",
    "satisfaction",
    "executed",
    "rejectReason",
    "createdAt",
    "updatedAt",
    "acceptedAt",
    "concludedAt",
    "closedAt",
    "statusLabel",
    "riskLabel",
    "externalId",
    "followupDue",
    "deadlineNote",
    "__typename",
]
OBJECTS = {
    "category": ["code", "label"],
    "kind": ["code", "label"],
    "channel": ["code", "label", "__typename"],
    "location": ["lat", "lng", "address"],
    "deadlines": ["respondBy", "resolveBy", "overdue"],
    "center": ["id", "code", "name", "level", "active", "levelLabel", "__typename", "parent"],
    "grid": ["id", "code", "name", "level", "datum", "polygon", "center", "parent"],
    "timeline": ["id", "type", "label", "at", "actorLabel", "payload", "depth"],
    "followups": ["method", "satisfaction", "executed", "note", "at"],
    "allowedActions": ["step", "label", "mutation", "allowed", "reason", "__typename"],
    "whistles": ["id", "due", "answeredAt", "answer", "department"],
    "lastEvent": ["id", "type", "label", "at", "actorLabel", "payload", "depth"],
    "parties": ["role", "roleLabel", "__typename", "person"],
    "assignments": [
        "id",
        "unitKind",
        "mode",
        "modeLabel",
        "lead",
        "due",
        "createdAt",
        "acceptedAt",
        "returnedAt",
        "returnReason",
        "finishedAt",
        "center",
        "department",
    ],
}
NESTED = {
    "person": ["id", "name", "address", "tags", "idNumber", "phone", "__typename"],
    "center": ["name", "code", "levelLabel"],
    "parent": ["name", "code"],
    "department": ["id", "name", "code", "kind"],
}


def _alias(rng: random.Random, name: str) -> str:
    # One alias per field name, so a field repeated in a fragment merges rather than conflicts.
    return f"x{name.strip('_')}: {name}" if rng.random() < 0.2 else name


def _fields(rng: random.Random, names: list[str], low: int = 1) -> list[str]:
    picked = rng.sample(names, rng.randint(low, len(names)))
    out = []
    for name in picked:
        if name in NESTED:
            out.append(f"{_alias(rng, name)} {{ {' '.join(_fields(rng, NESTED[name]))} }}")
        else:
            out.append(_alias(rng, name))
    return out


def case_selection(rng: random.Random) -> tuple[str, str]:
    """A selection on ``Case`` (maybe partly in a fragment) and the fragment definitions it needs."""
    parts = _fields(rng, SCALARS, 1)[: rng.randint(1, 8)]
    for name in rng.sample(list(OBJECTS), rng.randint(0, len(OBJECTS))):
        parts.append(f"{_alias(rng, name)} {{ {' '.join(_fields(rng, OBJECTS[name]))} }}")
    rng.shuffle(parts)
    fragments = ""
    roll = rng.random()
    if roll < 0.3 and len(parts) > 1:
        cut = rng.randint(1, len(parts) - 1)
        fragments = f"fragment Bits on Case {{ {' '.join(parts[cut:])} {rng.choice(parts)} }}"
        parts = [*parts[:cut], "...Bits"]
    elif roll < 0.5:
        parts = [f"... on Case {{ {' '.join(parts)} }}", "... on Node { id }"]
    return " ".join(parts), fragments


def filter_value(rng: random.Random, world, numbers: list[str]) -> dict:
    """A filter; ``numbers`` are case numbers for the text search (an exact number matches)."""
    now = datetime.now(UTC)
    options = {
        "status": lambda: rng.sample(
            ["RECEIVED", "HANDLING", "RESOLVED", "CLOSED", "ASSESSED", "DISPATCHED"], 2
        ),
        "category": lambda: [rng.choice(["neighbor", "labor", "contract"])],
        "channel": lambda: ["grid"],
        "kind": lambda: ["dispute"],
        "risk": lambda: [rng.choice(["HIGH", "MEDIUM", "NONE"])],
        "createdFrom": lambda: (now - timedelta(days=1)).isoformat(),
        "createdTo": lambda: (now + timedelta(days=1)).isoformat(),
        "overdue": lambda: rng.random() < 0.5,
        "tag": lambda: "重点",
        "text": lambda: rng.choice(["漏水", "_拖欠%", "ZZ", "案件3", *numbers]),
        "resolveByFrom": lambda: (now - timedelta(days=3)).isoformat(),
        "resolveByTo": lambda: (now + timedelta(days=10)).isoformat(),
        "concludedFrom": lambda: (now - timedelta(days=1)).isoformat(),
        "externalId": lambda: "(2026)浙0110民初1号",
        "centerId": lambda: to_global_id(
            "Center", world.centers[rng.choice(["ta", "va1", "tb", "county"])].id
        ),
        "gridId": lambda: to_global_id("Grid", world.grids[rng.choice(["a1g1", "b1g1"])].id),
        "assigneeDepartmentId": lambda: to_global_id("Department", world.departments["housing"].id),
        "assigneeUserId": lambda: to_global_id("User", world.users["a_mediator"].id),
        "queue": lambda: rng.choice(QUEUES),
    }
    keys = rng.sample(list(options), rng.choice([0, 1, 1, 2, 3]))
    return {k: options[k]() for k in keys}


#: Arguments whose values are enum values (written bare in a literal).
ENUM_KEYS = frozenset({"status", "risk", "field", "direction", "queue"})
QUEUES = ["MINE", "DEPARTMENT", "WHISTLES", "TO_ASSESS", "TO_DISPATCH", "TO_CLOSE", "TO_FOLLOW_UP"]


def _literal(value, bare: bool = False) -> str:
    """A GraphQL literal for a JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, bare) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v, k in ENUM_KEYS)}" for k, v in value.items()) + "}"
    if bare:
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def cases_document(rng: random.Random, world, numbers: list[str]) -> tuple[str, dict, bool]:
    """A ``cases`` query, its variables, and whether it asks for the next page's cursor."""
    selection, fragments = case_selection(rng)
    f = filter_value(rng, world, numbers)
    order = None
    if rng.random() < 0.5:
        order = {"field": rng.choice(["RECEIVED", "LAST_ACTIVITY", "RESOLVE_BY", "SEVERITY", "RISK"])}
        if rng.random() < 0.7:
            order["direction"] = rng.choice(["ASC", "DESC"])
    first = rng.choice([1, 2, 3, 5, 20])
    as_variables = rng.random() < 0.6
    connection = []
    if rng.random() < 0.8:
        connection.append(f"edges {{ {'cursor ' if rng.random() < 0.5 else ''}node {{ {selection} }} }}")
    else:
        fragments = ""
    paged = rng.random() < 0.6
    page_info = (
        ["hasNextPage", "endCursor"]
        if paged
        else rng.sample(["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"], 2)
    )
    connection.append(f"pageInfo {{ {' '.join(page_info)} }}")
    if rng.random() < 0.5:
        connection.append(_alias(rng, "totalCount"))
    if rng.random() < 0.2:
        connection.append("__typename")
    rng.shuffle(connection)
    variables: dict = {"after": None}
    if as_variables:
        args = "first: $first, after: $after, filter: $filter, orderBy: $orderBy"
        variables.update(first=first, filter=f or None, orderBy=order)
        head = "query Page($first: Int!, $after: String, $filter: CaseFilter, $orderBy: CaseOrder)"
    else:
        args = f"first: {first}, after: $after"
        if f:
            args += f", filter: {_literal(f)}"
        if order:
            args += f", orderBy: {_literal(order)}"
        head = "query Page($after: String)"
    root = "list" if rng.random() < 0.3 else "cases"
    alias = f"{root}: " if root != "cases" else ""
    extra = " __typename" if rng.random() < 0.1 else ""
    return (
        f"{head} {{ {alias}cases({args}) {{ {' '.join(connection)} }}{extra} }} {fragments}",
        variables,
        paged,
    )


def one_document(rng: random.Random, ids: list[str]) -> tuple[str, dict]:
    selection, fragments = case_selection(rng)
    target = rng.choice(ids)
    if rng.random() < 0.5:
        return f"query One($id: ID!) {{ case(id: $id) {{ {selection} }} }} {fragments}", {"id": target}
    return (
        f"query One($id: ID!) {{ node(id: $id) {{ __typename ... on Case {{ {selection} }} }} }} {fragments}",
        {"id": target},
    )


# --- comparing ---------------------------------------------------------------------------------


async def both(client: httpx.AsyncClient, token: str, query: str, variables: dict) -> httpx.Response:
    compiled = await raw(client, token, query, variables)
    with resolvers_only(client):
        resolved = await raw(client, token, query, variables)
    assert compiled.status_code == resolved.status_code, (query, variables, compiled.text, resolved.text)
    if compiled.text != resolved.text:
        pairs = zip(compiled.text, resolved.text + "\0", strict=False)
        at = next(i for i, (a, b) in enumerate(pairs) if a != b)
        around = slice(max(at - 200, 0), at + 200)
        where = f"compiled ...{compiled.text[around]}... resolvers ...{resolved.text[around]}"
        raise AssertionError(f"{query} {variables}: the answers differ at {at}: {where}")
    return compiled


async def test_generated_documents_answer_the_same_on_both_paths(client, world):
    cases = await seed(world)
    ids = [to_global_id("Case", c.id) for c in cases] + [
        to_global_id("Center", world.centers["ta"].id),
        to_global_id("Case", 999999),
    ]
    numbers = [c.number for c in cases]
    counts = endpoint(client).compiled.counts  # type: ignore[union-attr]
    rng = random.Random(17)
    answered = compiled_before = 0
    for n in range(150):
        user = USERS[n % len(USERS)]
        token = world.tokens[user]
        compiled_before = counts["compiled"]
        if rng.random() < 0.75:
            query, variables, paged = cases_document(rng, world, numbers)
            r = await both(client, token, query, variables)
            body = r.json()
            if "errors" in body:
                # A variable page size counts as the largest page (over the budget); a filter's
                # center or grid outside the user's jurisdiction is not found. Both paths agreed.
                assert {e["extensions"]["code"] for e in body["errors"]} <= {
                    "QUERY_TOO_COSTLY",
                    "NOT_FOUND",
                }, body
                continue
            assert counts["compiled"] == compiled_before + 1, (query, variables)
            page = next(iter(body["data"].values()))
            pages = 0
            while paged and page["pageInfo"]["hasNextPage"] and pages < 3:
                variables = {**variables, "after": page["pageInfo"]["endCursor"]}
                page = next(iter((await both(client, token, query, variables)).json()["data"].values()))
                pages += 1
        else:
            query, variables = one_document(rng, ids)
            r = await both(client, token, query, variables)
            # ``case`` with another type's ID is refused (``node`` answers null): on both paths.
            assert "errors" not in r.json() or ("Q2FzZT" not in variables["id"] and "case(" in query), r.text
        answered += counts["compiled"] > compiled_before
    assert answered >= 100


async def test_every_work_queue_answers_the_same_on_both_paths(client, world):
    """Each queue for each user, with its count and a second page: the day's work surface."""
    await seed(world)
    counts = endpoint(client).compiled.counts  # type: ignore[union-attr]
    query = """query($q: WorkQueue!, $after: String) { cases(first: 3, after: $after, filter: {queue: $q}) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { number status } } } }"""
    nonempty: set[str] = set()
    for user in USERS:
        for queue in QUEUES:
            before = counts["compiled"]
            page = (await both(client, world.tokens[user], query, {"q": queue})).json()["data"]["cases"]
            assert counts["compiled"] == before + 1, (user, queue)
            if page["totalCount"]:
                nonempty.add(queue)
            if page["pageInfo"]["hasNextPage"]:
                await both(
                    client, world.tokens[user], query, {"q": queue, "after": page["pageInfo"]["endCursor"]}
                )
    assert nonempty >= set(QUEUES) - {"TO_CLOSE"}, nonempty  # the seed fills all but one
    counted = "{ workQueues { __typename queue label count } again: workQueues { n: count queue } }"
    for user in USERS:
        before = counts["compiled"]
        await both(client, world.tokens[user], counted, {})
        assert counts["compiled"] == before + 1, user


async def test_allowed_actions_answer_the_same_on_both_paths(client, world):
    """The buttons of every case for every user: the lifecycle table decided from the statement's
    open assignments and whistles, as the resolver decides from its loaders."""
    cases = await seed(world)
    # Summoned: housing may record progress on a case in hand it was whistled to.
    await Whistle.create(case=cases[1], department=world.departments["housing"], due=datetime.now(UTC))
    # Held through a center: township A's mediator may accept what the county sent to township A.
    county = await actor(world, "county_staff")
    sent = await new_case(world, grid="a1g1", filer="a1_grid", title="转办镇里")
    await svc.assess(county, sent.id)
    await svc.dispatch(
        county, sent.id, AssignmentMode.transfer, [svc.UnitInput(center_id=world.centers["ta"].id)]
    )
    counts = endpoint(client).compiled.counts  # type: ignore[union-attr]
    query = """{ cases(first: 50) { edges { node { number status
      allowedActions { step label mutation allowed reason } } } } }"""
    allowed = set()
    buttons: dict[str, set[tuple[str, str]]] = {}
    for user in USERS:
        before = counts["compiled"]
        body = (await both(client, world.tokens[user], query, {})).json()
        assert counts["compiled"] == before + 1, user
        for edge in body["data"]["cases"]["edges"]:
            steps = {a["step"] for a in edge["node"]["allowedActions"] if a["allowed"]}
            allowed |= steps
            buttons.setdefault(user, set()).update((edge["node"]["number"], s) for s in steps)
    assert len(allowed) >= 8, allowed
    assert (cases[1].number, "progress") in buttons["housing_officer"]
    assert (sent.number, "accept") in buttons["a_mediator"]


async def test_the_inbox_answers_the_same_on_both_paths(client, world):
    """Notifications to users and to roles at centers, about no case, a visible or an invisible
    case, read and unread (a role's read by one of its users): every user, both paths, paged."""
    cases = await seed(world)
    sent = [
        ("a_staff", None, None, None, "rule"),
        (None, "ta", "staff", 0, "overdue"),
        (None, "ta", "mediator", 1, "supervision"),
        (None, "tb", "staff", 3, "whistle"),
        ("b_staff", None, None, 0, "returned"),  # about a case township B cannot see
        ("housing_officer", None, None, 4, "whistle"),
        (None, "county", "staff", 2, "overdue"),
        (None, "county", "leader", None, "supervision"),
        ("a_mediator", None, None, 8, "rule"),
        ("a1_grid", None, None, 0, "unknown_kind"),
        (None, "ta", "staff", None, "rule"),
        ("a_staff", None, None, 1, "overdue"),
    ]
    rows = []
    for i, (user, center, role, case, kind) in enumerate(sent):
        rows.append(
            await Notification.create(
                user=world.users[user] if user else None,
                center=world.centers[center] if center else None,
                role=role,
                case=cases[case] if case is not None else None,
                kind=kind,
                message=f"消息{i}",
                read_at=datetime.now(UTC) if i == 11 else None,
            )
        )
    await NotificationRead.create(notification=rows[1], user=world.users["a_staff"])
    counts = endpoint(client).compiled.counts  # type: ignore[union-attr]
    whole = """{ notifications(first: 50) { __typename totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { __typename cursor node { __typename id kind kindLabel message createdAt read toRole
        case { number status center { name } parties { role person { name idNumber phone } } } } } }
      unreadNotificationCount }"""
    paged = """query($unread: Boolean!, $after: String) {
      inbox: notifications(unread: $unread, first: 2, after: $after) {
        edges { node { id read message } } pageInfo { endCursor hasNextPage } } }"""
    listed = 0
    for user in USERS:
        token = world.tokens[user]
        before = counts["compiled"]
        body = (await both(client, token, whole, {})).json()
        assert counts["compiled"] == before + 1, user
        listed += body["data"]["notifications"]["totalCount"]
        for unread in (False, True):
            variables: dict = {"unread": unread}
            for _ in range(8):
                page = (await both(client, token, paged, variables)).json()["data"]["inbox"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                variables["after"] = page["pageInfo"]["endCursor"]
    assert listed >= 8
    await both(client, world.tokens["a_staff"], paged, {"unread": False, "after": "bm90IGEgY3Vyc29y"})


async def test_refused_requests_answer_the_same_on_both_paths(client, world):
    await seed(world)
    token = world.tokens["a_staff"]
    page = """query($first: Int!, $after: String, $filter: CaseFilter, $orderBy: CaseOrder) {
      cases(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
        totalCount edges { cursor node { number } } } }"""
    first = (await both(client, token, page, {"first": 2})).json()
    cursor = first["data"]["cases"]["edges"][-1]["cursor"]
    refused = [
        {"first": 0},
        {"first": 1000},
        {"first": 2, "after": "not-a-cursor"},
        {"first": 2, "after": cursor, "orderBy": {"field": "RISK"}},  # a cursor of another order
        {"first": 2, "filter": {"category": ["no_such_category"]}},
        {"first": 2, "filter": {"centerId": to_global_id("Center", world.centers["tb"].id)}},
        {"first": 2, "filter": {"centerId": to_global_id("Grid", 1)}},
        {"first": 2, "filter": {"tag": "  "}},
        {"first": 2, "filter": {"createdFrom": "2026-01-01T00:00:00"}},
        {"first": "two"},
    ]
    for variables in refused:
        r = await both(client, token, page, variables)
        assert r.json().get("errors"), variables
    for query in (
        '{ case(id: "Q2FzZTox==bad") { number } }',
        '{ node(id: "bm90IGFuIGlk") { id } }',
        "{ cases(first: 1) { edges { node { number @skip(if: true) title } } } }",
        "{ cases(first: 1) { edges { node { evidence { id } } } } }",
    ):
        await both(client, token, query, {})


async def test_a_reveal_is_audited_the_same_on_both_paths(client, world):
    await seed(world)
    query = "query Reveal { cases(first: 20) { edges { node { number parties { person { name idNumber phone } } } } } }"
    token = world.tokens["a_staff"]
    counts = endpoint(client).compiled.counts  # type: ignore[union-attr]
    before = counts["compiled"]
    compiled = await raw(client, token, query)
    assert counts["compiled"] == before + 1
    compiled_row = await AuditLog.all().order_by("-id").first()
    with resolvers_only(client):
        resolved = await raw(client, token, query)
    resolved_row = await AuditLog.all().order_by("-id").first()
    assert compiled.text == resolved.text
    assert compiled_row.id != resolved_row.id
    fields = ("action", "target", "actor_id", "details")
    assert [getattr(compiled_row, f) for f in fields] == [getattr(resolved_row, f) for f in fields]
    assert compiled_row.details["people"] and compiled_row.details["via"] == "http"
    assert compiled_row.details["operation"] == "Reveal"
    # A grid worker sees masked numbers: neither path writes a row.
    last = resolved_row.id
    await both(client, world.tokens["a1_grid"], query, {})
    assert (await AuditLog.all().order_by("-id").first()).id == last


async def test_a_page_is_one_statement(client, world):
    await seed(world)
    query = """{ cases(first: 20) { totalCount edges { node { number status center { name } grid { name }
      parties { role person { name idNumber } } lastEvent { type at } assignments { department { name } }
      deadlines { resolveBy overdue } } } pageInfo { hasNextPage endCursor } } }"""
    token = world.tokens["county_staff"]
    await raw(client, token, query)  # the document compiled
    with sql_sent() as sent:
        r = await raw(client, token, query)
    assert r.status_code == 200 and "errors" not in r.json()
    # Besides the bearer token's user and grids and the reveal's audit row: one statement.
    # (and, as on the resolver path, whether the asker sees the people of parties linked blind).
    page = [sql for sql, _ in sent if any(t in sql for t in ('"case"', '"case_party"', '"case_event"'))]
    assert page[0].startswith("WITH page AS") and "count(*)" in page[0] and 'JOIN "person"' in page[0], sent
    assert all(sql.startswith('SELECT "person"."id"') for sql in page[1:]) and len(page) <= 2, sent


async def test_the_work_queues_and_the_bearer_token_are_one_statement_each(client, world):
    await seed(world)
    token = world.tokens["a_staff"]
    query = "{ workQueues { queue label count } }"
    await raw(client, token, query)  # the document compiled
    with sql_sent() as sent:
        r = await raw(client, token, query)
    assert r.status_code == 200 and len(r.json()["data"]["workQueues"]) == len(QUEUES)
    statements = [sql for sql, _ in sent]
    assert len(statements) == 2, statements
    assert '"api_token"' in statements[0] or '"user"' in statements[0], statements
    assert statements[1].count("count(*)") == len(QUEUES), statements


async def test_the_setting_turns_compiled_reads_off(settings, world):
    from dataclasses import replace

    from zongzhi.platform.wiring.app import create_app

    app = create_app(replace(settings, compiled_reads=False), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as off:
        off.app = app  # type: ignore[attr-defined]
        assert endpoint(off).compiled is None
        await new_case(world)
        with sql_sent() as sent:
            r = await raw(off, world.tokens["a_staff"], "{ cases(first: 5) { edges { node { number } } } }")
        assert len(r.json()["data"]["cases"]["edges"]) == 1
        assert not [sql for sql, _ in sent if sql.startswith("WITH page AS")], sent
