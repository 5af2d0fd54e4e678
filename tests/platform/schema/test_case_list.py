"""The case list reads each part of the jurisdiction on its own and merges them (DESIGN.md §10).

Every page and total must be what one query with the whole jurisdiction rule (``case_scope``) and
the filter returns, for every kind of user, across pages; on PostgreSQL each statement must be one
an index serves (the list was a sequential scan of every case when the rule was one ``OR``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from tortoise import Tortoise
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from tests.casework import actor, new_case
from tests.gql import GraphQLErrors, gql
from tests.platform.readpath.paths import resolvers_only
from tests.sql_log import sql_sent
from zongzhi.platform.base.codes import AssignmentMode, UnitKind
from zongzhi.platform.domain.jurisdiction import case_scope, case_scope_parts, visible
from zongzhi.platform.models import Assignment, Case, Center
from zongzhi.platform.schema.ids import from_global_id, to_global_id

PAGE = """query($first: Int!, $after: String, $filter: CaseFilter) {
  cases(first: $first, after: $after, filter: $filter) { totalCount
    edges { cursor node { number } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""

USERS = [
    "county_staff",
    "a_staff",
    "b_staff",
    "a1_staff",
    "a_mediator",
    "a1_grid",
    "housing_officer",
    "admin",
]


async def _cases_everywhere(world) -> list[Case]:
    """Cases in every grid; some share a creation time, some reach users outside their subtree."""
    made = []
    for i, (grid, filer, category) in enumerate(
        [
            ("a1g1", "a1_grid", "neighbor"),
            ("a1g2", "a_staff", "labor"),
            ("a2g1", "a_staff", "neighbor"),
            ("b1g1", "b1_grid", "labor"),
            ("b1g1", "b_staff", "contract"),
            ("a1g1", "a1_grid", "labor"),
            ("a2g1", "a_staff", "contract"),
            ("b1g1", "b1_grid", "neighbor"),
            ("a1g2", "a_staff", "neighbor"),
            ("b1g1", "b_staff", "labor"),
            ("a1g1", "a_staff", "neighbor"),
        ]
    ):
        made.append(await new_case(world, grid=grid, filer=filer, category=category, title=f"案{i}"))
    tie = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    await Case.filter(id__in=[made[2].id, made[3].id, made[4].id, made[7].id]).update(created_at=tie)
    # Township B's cases that township A's people reach by assignment or as their filer.
    mediator, officer = world.users["a_mediator"], world.users["housing_officer"]
    for case, unit in ((made[3], mediator), (made[0], mediator), (made[9], officer), (made[1], officer)):
        await Assignment.create(
            case_id=case.id,
            unit_kind=UnitKind.user if unit is mediator else UnitKind.department,
            user_id=unit.id if unit is mediator else None,
            department_id=None if unit is mediator else officer.department_id,
            mode=AssignmentMode.joint,
        )
    await Case.filter(id=made[4].id).update(created_by_id=world.users["a_staff"].id)
    await Case.filter(id=made[7].id).update(created_by_id=world.users["a1_grid"].id)
    return made


def _filters(world) -> list[tuple[dict | None, Q]]:
    """Filters and the cases they select; a filter naming a center the user cannot see is NOT_FOUND."""
    ta, va1 = world.centers["ta"], world.centers["va1"]
    return [
        (None, Q()),
        ({"category": ["labor"]}, Q(category__in=["labor"])),
        (
            {"status": ["RECEIVED"], "category": ["neighbor", "contract"]},
            Q(status="received", category__in=["neighbor", "contract"]),
        ),
        ({"centerId": to_global_id("Center", ta.id)}, Q(center_path__startswith=ta.path)),
        (
            {"centerId": to_global_id("Center", va1.id), "category": ["neighbor"]},
            Q(center_path__startswith=va1.path, category="neighbor"),
        ),
        ({"status": ["CLOSED"]}, Q(status="closed")),
    ]


async def _walk(client, token: str, first: int, gql_filter: dict | None) -> tuple[list[str], set[int]]:
    numbers, totals, after = [], set(), None
    while True:
        data = (await gql(client, token, PAGE, {"first": first, "after": after, "filter": gql_filter}))[
            "cases"
        ]
        numbers += [e["node"]["number"] for e in data["edges"]]
        totals.add(data["totalCount"])
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            return numbers, totals
        after = data["pageInfo"]["endCursor"]
        assert len(numbers) < 100


async def test_pages_and_totals_are_those_of_the_whole_rule(client, world):
    await _cases_everywhere(world)
    for username in USERS:
        scope = case_scope(await actor(world, username))
        centers = set(await visible(await actor(world, username), Center).values_list("id", flat=True))
        for gql_filter, reference in _filters(world):
            center_id = (gql_filter or {}).get("centerId")
            if center_id and from_global_id(center_id)[1] not in centers:
                with pytest.raises(GraphQLErrors) as err:
                    await _walk(client, world.tokens[username], 5, gql_filter)
                assert err.value.code == "NOT_FOUND", (username, gql_filter)
                continue
            expected = await (
                Case.filter(scope, reference).order_by("-created_at", "-id").values_list("number", flat=True)
            )
            for first in (1, 2, 5, 50):
                numbers, totals = await _walk(client, world.tokens[username], first, gql_filter)
                assert numbers == expected, (username, gql_filter, first)
                assert totals == {len(expected)}, (username, gql_filter, first)


async def test_the_parts_are_the_rule(world):
    """Each part alone, and each part less the ones before it, add up to the rule's cases."""
    await _cases_everywhere(world)
    for username in USERS:
        who = await actor(world, username)
        parts = await case_scope_parts(who)
        whole = set(await Case.filter(case_scope(who)).values_list("id", flat=True))
        union: set[int] = set()
        disjoint = 0
        for i, part in enumerate(parts):
            union |= set(await Case.filter(part.within).values_list("id", flat=True))
            disjoint += await Case.filter(part.within, *(p.outside for p in parts[:i])).count()
        assert union == whole and disjoint == len(whole), username


async def _statements(
    client, token: str, query: str, variables: dict | None = None
) -> list[tuple[str, list]]:
    with sql_sent() as sent:
        await gql(client, token, query, variables)
    return sent


async def test_the_total_is_counted_only_when_asked_for(client, world):
    await _cases_everywhere(world)
    token = world.tokens["county_staff"]
    counts = []
    # The resolvers' statements (the compiled path counts in its one statement: tests/platform/readpath).
    with resolvers_only(client):
        for query in (
            "{ cases(first: 3) { edges { cursor } } }",
            "{ cases(first: 3) { totalCount } }",
            "{ cases(first: 3) { ...total } } fragment total on CaseConnection { totalCount }",
        ):
            counts.append(sum("COUNT(" in sql.upper() for sql, _ in await _statements(client, token, query)))
    # The county's staff: its center's subtree, assigned to them, filed by them.
    assert counts == [0, 3, 3]


async def test_parties_come_with_their_people(client, world):
    """A page's parties and the people they are: one statement, not one for each."""
    await _cases_everywhere(world)
    query = "{ cases(first: 20) { edges { node { parties { role person { name idNumber } } } } } }"
    sent = [sql for sql, _ in await _statements(client, world.tokens["county_staff"], query)]
    parties = [sql for sql in sent if 'FROM "case_party"' in sql]
    assert len(parties) == 1 and 'JOIN "person"' in parties[0], sent
    assert not [sql for sql in sent if 'FROM "person"' in sql], sent


async def _plan(sql: str, values: list, *disabled: str) -> str:
    async with in_transaction() as conn:
        for setting in disabled:
            await conn.execute_script(f"SET LOCAL {setting} = off")
        rows = await conn.execute_query_dict(f"EXPLAIN {sql}", values)
    return "\n".join(r["QUERY PLAN"] for r in rows)


@pytest.fixture
def postgres_only():
    if Tortoise.get_connection("default").capabilities.dialect != "postgres":
        pytest.skip("plans are PostgreSQL's")


#: Every filter on a column the list's indexes carry (a text search reads the rows).
INDEXED_FILTERS = [
    None,
    {"status": ["RECEIVED", "ASSESSED"]},
    {"category": ["labor"]},
    {"channel": ["grid"]},
    {"kind": ["dispute"]},
    {"risk": ["NONE", "HIGH"]},
    {"overdue": True},
    {"overdue": False},
    {"createdFrom": "2026-01-01T00:00:00+08:00"},
]


async def _vacuumed() -> None:
    """Pages marked all-visible, as autovacuum leaves a real table: index-only scans are priced so."""
    await Tortoise.get_connection("default").execute_script('VACUUM ANALYZE "case"')


@pytest.mark.parametrize("case_filter", INDEXED_FILTERS, ids=str)
async def test_a_subtree_is_counted_from_an_index_alone(client, world, postgres_only, case_filter):
    """The count of a large center's subtree, the costly statement: with no sequential or bitmap
    scan, an index must answer it alone, whatever the filter, not an index scan reading each case."""
    await _cases_everywhere(world)
    with resolvers_only(client):  # the compiled path's one statement: tests/platform/readpath
        sent = await _statements(
            client, world.tokens["county_staff"], PAGE, {"first": 5, "filter": case_filter}
        )
    subtree = [(sql, v) for sql, v in sent if "COUNT(" in sql.upper() and '"center_path" IN (' in sql]
    assert len(subtree) == 1, sent
    await _vacuumed()
    plan = await _plan(*subtree[0], "enable_seqscan", "enable_bitmapscan")
    assert "Index Only Scan" in plan and "Heap Scan" not in plan and "Seq Scan" not in plan, plan


@pytest.mark.parametrize("case_filter", INDEXED_FILTERS, ids=str)
async def test_a_page_is_read_in_order_from_an_index_alone(client, world, postgres_only, case_filter):
    """Each part's newest, whatever the filter: in order without a sort, and tested in the index
    (created_at, id and the filtered columns), not by reading every case until enough match."""
    await _cases_everywhere(world)
    with resolvers_only(client):  # the compiled path's one statement: tests/platform/readpath
        sent = await _statements(
            client, world.tokens["county_staff"], PAGE, {"first": 2, "filter": case_filter}
        )
    pages = [(sql, v) for sql, v in sent if 'FROM "case"' in sql and "LIMIT" in sql]
    assert len(pages) == 3, sent  # one per part: its center's subtree, assigned, filed
    await _vacuumed()
    for sql, values in pages:
        plan = await _plan(sql, values, "enable_seqscan", "enable_sort", "enable_bitmapscan")
        assert "Index Only Scan Backward" in plan and "Sort" not in plan, plan


async def test_a_later_page_starts_at_its_cursor(client, world, postgres_only):
    """A later page's index range starts at the cursor's time, not at the newest case."""
    await _cases_everywhere(world)
    token = world.tokens["county_staff"]
    after = (await gql(client, token, PAGE, {"first": 2}))["cases"]["pageInfo"]["endCursor"]
    with resolvers_only(client):  # the compiled path's one statement: tests/platform/readpath
        sent = await _statements(client, token, PAGE, {"first": 2, "after": after})
    pages = [(sql, v) for sql, v in sent if 'FROM "case"' in sql and "LIMIT" in sql]
    assert len(pages) == 3, sent
    for sql, values in pages:
        plan = await _plan(sql, values, "enable_seqscan", "enable_sort", "enable_bitmapscan")
        assert re.search(r"Index Cond: \(+created_at <=", plan), plan


SORTED = """query($first: Int!, $after: String, $filter: CaseFilter, $order: CaseOrder) {
  cases(first: $first, after: $after, filter: $filter, orderBy: $order) { totalCount
    edges { node { number } } pageInfo { hasNextPage endCursor } } }"""


async def _walk_sorted(
    client, token: str, first: int, order: dict, gql_filter: dict | None = None
) -> list[str]:
    numbers, after = [], None
    while True:
        variables = {"first": first, "after": after, "order": order, "filter": gql_filter}
        data = (await gql(client, token, SORTED, variables))["cases"]
        numbers += [e["node"]["number"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return numbers
        after = data["pageInfo"]["endCursor"]
        assert len(numbers) < 100


async def test_order_by_pages_stably_inside_the_jurisdiction(client, world):
    made = await _cases_everywhere(world)
    base = datetime(2026, 5, 1, tzinfo=UTC)
    risks = ["high", "none", "medium", "low"]
    for i, case in enumerate(made):
        await Case.filter(id=case.id).update(
            severity=1 + i % 3,  # ties on purpose
            risk=risks[i % 4],
            resolve_by=None if i % 4 == 1 else base.replace(day=1 + i % 5),
            updated_at=base.replace(hour=i % 3),
        )
    rank = {r: i for i, r in enumerate(["none", "low", "medium", "high"])}

    def key(field: str):
        return {
            "RECEIVED": lambda c: c.created_at,
            "LAST_ACTIVITY": lambda c: c.updated_at,
            "RESOLVE_BY": lambda c: c.resolve_by,
            "SEVERITY": lambda c: c.severity,
            "RISK": lambda c: rank[str(c.risk)],
        }[field]

    for username in ("county_staff", "a_staff", "a_mediator", "housing_officer"):
        rows = await Case.filter(case_scope(await actor(world, username)))
        for field in ("RECEIVED", "LAST_ACTIVITY", "RESOLVE_BY", "SEVERITY", "RISK"):
            for direction in ("ASC", "DESC"):
                desc = direction == "DESC"
                dated = [c for c in rows if key(field)(c) is not None]
                dated.sort(key=lambda c: (key(field)(c), c.id), reverse=desc)
                undated = sorted((c for c in rows if key(field)(c) is None), key=lambda c: c.id, reverse=desc)
                expected = [c.number for c in dated + undated]
                for first in (1, 3, 50):
                    got = await _walk_sorted(
                        client, world.tokens[username], first, {"field": field, "direction": direction}
                    )
                    assert got == expected, (username, field, direction, first)
    with pytest.raises(GraphQLErrors) as err:
        page = await gql(
            client, world.tokens["county_staff"], SORTED, {"first": 1, "order": {"field": "SEVERITY"}}
        )
        await gql(
            client,
            world.tokens["county_staff"],
            SORTED,
            {"first": 1, "after": page["cases"]["pageInfo"]["endCursor"], "order": {"field": "RISK"}},
        )
    assert (err.value.code, err.value.field) == ("VALIDATION", "after")


async def test_the_new_filters(client, world):
    from zongzhi.platform.services import cases as svc
    from zongzhi.platform.services.people import PersonInput

    made = await _cases_everywhere(world)
    token = world.tokens["county_staff"]
    base = datetime(2026, 6, 1, tzinfo=UTC)
    await Case.filter(id=made[0].id).update(
        resolve_by=base, tags=["重点", "信访"], external_id="(2026)浙0110民初1号"
    )
    await Case.filter(id=made[1].id).update(
        resolve_by=base.replace(day=20), concluded_at=base, tags=["重点人"]
    )
    staff = await actor(world, "a_staff")
    withid, _ = await svc.intake(
        svc.CaseInput(
            title="有身份证号",
            category="neighbor",
            grid_id=world.grids["a1g1"].id,
            parties=[
                svc.PartyInput(
                    role="applicant", person=PersonInput(name="钱七", id_number="11010519491231002X")
                )
            ],
        ),
        staff,
    )

    async def numbers(f: dict) -> set[str]:
        return set(await _walk_sorted(client, token, 50, {"field": "RECEIVED"}, f))

    assert await numbers(
        {"resolveByFrom": base.isoformat(), "resolveByTo": base.replace(day=2).isoformat()}
    ) == {made[0].number}
    assert await numbers({"tag": "重点"}) == {made[0].number}, "an element, not a substring of another tag"
    assert await numbers({"externalId": "(2026)浙0110民初1号"}) == {made[0].number}
    assert await numbers({"concludedFrom": base.isoformat()}) == {made[1].number}
    assert await numbers({"partyIdNumber": "11010519491231002X"}) == {withid.number}
    assert (
        await _walk_sorted(client, world.tokens["b_staff"], 50, {"field": "RECEIVED"}, {"tag": "重点"}) == []
    )
