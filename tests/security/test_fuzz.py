"""Property-based fuzz of the whole schema over HTTP: no document makes a 5xx or an ``INTERNAL``.

``hypothesis-graphql`` writes queries and mutations from ``schema.graphql`` (kept equal to the code
by ``test_sdl``): schema-valid ones, with strings of any code point (NUL and lone surrogates
included) and custom scalars from edge values (extreme and zone-less date-times, ``NaN``, huge
decimals), plus documents with one schema violation. Real global IDs of the test county are mixed
into the ID arguments so that mutations reach the services, not only ID decoding. Each document is
sent as a staff member and as a grid worker of the other township, against the app with its rules.

Every root field gets its own documents, so each query and mutation is reached whatever the
schema's size. The budget is fixed and derandomized (the same documents every run), sized for CI on SQLite; the
examples found by hand (issue 10, items 3 and 4) are regression tests in ``test_bad_input.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis_graphql import Mode, from_schema, nodes

from zongzhi.platform.schema.ids import to_global_id

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"
#: Documents per root field of Query and Mutation (each sent once per user): schema-valid ones, and
#: ones with one violation (for fields with arguments to violate).
VALID_PER_FIELD = 3
INVALID_PER_FIELD = 1
USERS = ("a_staff", "b1_grid")

DATETIMES = [
    "2026-11-20T09:30:00+08:00",
    "2026-11-20T09:30:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "1900-01-01T00:00:00Z",
    "2026-02-30T00:00:00+08:00",
    "not a date",
]
DATES = ["2026-11-20", "9999-12-31", "0001-01-01", "1999-02-30", "yesterday"]
#: Strings at the edges: longer than a case number or a search, than a title, than any column;
#: control characters, NUL, lone surrogates, markup.
STRINGS = [
    "",
    " ",
    "x" * 41,
    "案" * 101,
    "标" * 201,
    "a" * 5000,
    "\ud800",
    "tag\udfff",
    "a\x00b",
    "\x1b[31m",
    "line\nbreak",
    "<script>alert(1)</script>",
    "ZZ-330110-20261120-00001",
    "11010519491231002X",
]
DECIMALS = ["1200.50", "Infinity", "-Infinity", "NaN", "1e30", "-1", "0.001", "1" * 400, "abc"]


def _scalar_strategies(ids: list[str]) -> dict[str, st.SearchStrategy]:
    return {
        "DateTime": st.sampled_from(DATETIMES).map(nodes.String),
        "Date": st.sampled_from(DATES).map(nodes.String),
        "Decimal": st.sampled_from(DECIMALS).map(nodes.String),
        "JSON": st.sampled_from(['{"a": 1}', "[]", "null", "1"]).map(nodes.String),
        "Upload": st.just(nodes.Null),
        "ID": st.one_of(st.sampled_from(ids), st.text(max_size=30)).map(nodes.String),
        "String": st.one_of(st.sampled_from(STRINGS), st.text(max_size=50)).map(nodes.String),
    }


def _collect(strategy: st.SearchStrategy, count: int) -> list[str]:
    """``count`` documents drawn from ``strategy``, the same on every run."""
    documents: list[str] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(document) -> None:
        documents.append(
            graphql.print_ast(document) if isinstance(document, graphql.DocumentNode) else document
        )

    draw()
    return documents


def _world_ids(world, case_ids: list[int]) -> list[str]:
    ids = [to_global_id("Case", pk) for pk in case_ids]
    ids += [to_global_id("Center", c.id) for c in world.centers.values()]
    ids += [to_global_id("Grid", g.id) for g in world.grids.values()]
    ids += [to_global_id("User", u.id) for u in world.users.values()]
    ids += [to_global_id("Department", d.id) for d in world.departments.values()]
    ids += [to_global_id("Case", 2**63), to_global_id("Person", 10**30), "Q2FzZTotMQ"]
    return ids


async def test_no_document_gives_5xx_or_internal(client, rules):
    from tests.casework import new_case

    world = rules
    cases = [await new_case(world), await new_case(world, grid="b1g1", filer="b1_grid")]
    schema = graphql.build_schema(SCHEMA.read_text())
    scalars = _scalar_strategies(_world_ids(world, [c.id for c in cases]))
    fields = sorted(set(schema.query_type.fields) | set(schema.mutation_type.fields))
    documents = []
    for name in fields:
        valid = from_schema(schema, fields=[name], custom_scalars=scalars, codec=None, allow_x00=True)
        documents += _collect(valid, VALID_PER_FIELD)
        try:
            invalid = from_schema(schema, fields=[name], custom_scalars=scalars, mode=Mode.NEGATIVE)
            documents += _collect(invalid, INVALID_PER_FIELD)
        except InvalidArgument:  # no argument to violate
            pass
    assert len(documents) >= len(fields) * VALID_PER_FIELD, "the fuzz ran out of documents"
    failures = []
    codes: dict[str, int] = {}
    for document in documents:
        for user in USERS:
            body = json.dumps({"query": document}, ensure_ascii=True)
            response = await client.post(
                "/graphql",
                content=body.encode(),
                headers={"Authorization": f"Bearer {world.tokens[user]}", "Content-Type": "application/json"},
            )
            errors = response.json().get("errors") or [] if response.status_code < 500 else []
            for error in errors:
                code = error.get("extensions", {}).get("code", "?")
                codes[code] = codes.get(code, 0) + 1
            if response.status_code >= 500 or any(
                e.get("extensions", {}).get("code") == "INTERNAL" for e in errors
            ):
                failures.append((user, response.status_code, document[:400]))
    print(
        f"fuzzed {len(documents)} documents on {len(fields)} root fields x {len(USERS)} users; codes: {codes}"
    )
    assert not failures, failures[:5]
