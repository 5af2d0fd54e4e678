"""On PostgreSQL the compiled page reads each part of the jurisdiction from an index, in order.

The compiled statement keeps what ``tests/platform/schema/test_case_list.py`` asks of the
resolvers' statements: each part of the county staff's jurisdiction (its center's subtree, the
cases assigned to it, those it filed) is its own subquery that an index serves in the page's
order (no sequential scan, no sort of the part's cases), and a later page starts at its cursor.
"""

from __future__ import annotations

import re

import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from tests.gql import gql
from tests.platform.schema.test_case_list import INDEXED_FILTERS, PAGE, _cases_everywhere
from tests.sql_log import sql_sent


@pytest.fixture
def postgres_only():
    if Tortoise.get_connection("default").capabilities.dialect != "postgres":
        pytest.skip("plans are PostgreSQL's")


async def _compiled_statement(client, token: str, variables: dict) -> tuple[str, list]:
    with sql_sent() as sent:
        await gql(client, token, PAGE, variables)
    pages = [(sql, values) for sql, values in sent if sql.startswith("WITH page AS")]
    assert len(pages) == 1, sent
    return pages[0]


async def _plan(sql: str, values: list) -> str:
    await Tortoise.get_connection("default").execute_script('VACUUM ANALYZE "case"')
    async with in_transaction() as conn:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await conn.execute_script(f"SET LOCAL {setting} = off")
        rows = await conn.execute_query_dict(f"EXPLAIN {sql}", values)
    return "\n".join(r["QUERY PLAN"] for r in rows)


@pytest.mark.parametrize("case_filter", INDEXED_FILTERS, ids=str)
async def test_each_part_of_a_page_is_read_in_order_from_an_index(client, world, postgres_only, case_filter):
    await _cases_everywhere(world)
    sql, values = await _compiled_statement(
        client, world.tokens["county_staff"], {"first": 2, "filter": case_filter}
    )
    plan = await _plan(sql, values)
    assert "Seq Scan" not in plan, plan
    # The page's three parts (up to the rows read by primary key): each under its own LIMIT, a
    # backward scan of an index in the page's order, no sort (only their few keys are merged).
    parts = plan[plan.index("Append") : plan.index("case_pkey")]
    assert parts.count("->  Limit") == 3 and "Sort" not in parts, plan
    assert len(re.findall(r'Scan Backward using \S+ on "case"', parts)) >= 3, plan


@pytest.mark.parametrize("case_filter", INDEXED_FILTERS, ids=str)
async def test_the_total_is_counted_from_indexes_alone(client, world, postgres_only, case_filter):
    """The count of a large center's subtree: with no sequential or bitmap scan, indexes answer the
    statement (its count and its page) without a heap or sequential scan."""
    await _cases_everywhere(world)
    sql, values = await _compiled_statement(
        client, world.tokens["county_staff"], {"first": 5, "filter": case_filter}
    )
    assert "count(*)" in sql
    plan = await _plan(sql, values)
    assert "Index Only Scan" in plan and "Heap Scan" not in plan and "Seq Scan" not in plan, plan


async def test_a_later_page_starts_at_its_cursor(client, world, postgres_only):
    await _cases_everywhere(world)
    token = world.tokens["county_staff"]
    after = (await gql(client, token, PAGE, {"first": 2}))["cases"]["pageInfo"]["endCursor"]
    sql, values = await _compiled_statement(client, token, {"first": 2, "after": after})
    plan = await _plan(sql, values)
    assert len(re.findall(r"Index Cond: \(+created_at <=", plan)) >= 3, plan
