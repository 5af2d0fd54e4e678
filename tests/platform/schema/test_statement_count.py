"""A case-list page with nested center, grid, parties and last event costs the same SQL at any size."""

from __future__ import annotations

from tests.casework import new_case
from tests.gql import gql
from tests.sql_log import sql_sent

PAGE = """query($n: Int!) { cases(first: $n) { totalCount edges { cursor node {
  number status center { name parent { name } } grid { code }
  parties { role person { name idNumber } } lastEvent { type at } whistles { due department { name } } } }
  pageInfo { hasNextPage } } centers { name departments { residence department { name } }
  children { name departments { residence } } } }"""


async def _count(client, token: str, n: int) -> int:
    with sql_sent() as sent:
        data = await gql(client, token, PAGE, {"n": n})
    assert len(data["cases"]["edges"]) == n
    return len(sent)


async def test_statements_do_not_grow_with_page_size(client, world):
    for i in range(24):
        await new_case(world, grid=["a1g1", "a1g2", "a2g1"][i % 3], filer="a_staff")
    token = world.tokens["county_staff"]
    small, large = await _count(client, token, 3), await _count(client, token, 24)
    print(f"SQL statements per case-list page: {small} (3 cases), {large} (24 cases)")
    assert small == large


SORTED = """query($n: Int!, $o: CaseOrder, $f: CaseFilter) { cases(first: $n, orderBy: $o, filter: $f) {
  totalCount edges { cursor node { number center { name } parties { role person { name } } lastEvent { type }
  allowedActions { step allowed } } } pageInfo { hasNextPage } } }"""


async def test_sorted_and_filtered_pages_do_not_grow_with_page_size(client, world):
    for i in range(24):
        await new_case(world, grid=["a1g1", "a1g2", "a2g1"][i % 3], filer="a_staff", tags=["重点"])
    for token in (world.tokens["county_staff"], world.tokens["a_mediator"]):
        for order in (
            {"field": "RESOLVE_BY", "direction": "ASC"},
            {"field": "RISK"},
            {"field": "LAST_ACTIVITY"},
        ):
            sizes = []
            for n in (3, 12):
                with sql_sent() as sent:
                    data = await gql(client, token, SORTED, {"n": n, "o": order, "f": {"tag": "重点"}})
                assert len(data["cases"]["edges"]) == n
                sizes.append(len(sent))
            print(f"SQL statements per sorted page {order}: {sizes[0]} (3 cases), {sizes[1]} (12 cases)")
            assert sizes[0] == sizes[1], order
