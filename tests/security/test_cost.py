"""What a document may ask for is bounded after fragments are expanded, and refused before it runs."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from graphql import get_introspection_query, parse

from zongzhi.platform.schema.cost import Limits, measure_operation

LIMITS = Limits(max_depth=10, max_aliases=30, max_cost=20_000, page_max=100)


def ladder(levels: int) -> str:
    """``query{...F0} fragment F0 on Query{...F1 ...F1} ... fragment Fn on Query{me{id}}``: 2^n ``me``."""
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"query Ladder {{ ...F0 }} {fragments} fragment F{levels} on Query {{ me {{ id }} }}"


PDF_FAN_OUT = "{ " + " ".join(f'r{i}: report(period: "2026") {{ pdfBase64 }}' for i in range(30)) + " }"


def _measure(client, document: str):
    from zongzhi.platform.schema import build_schema

    schema = build_schema(client.settings)._schema
    ast = parse(document)
    fragments = {d.name.value: d for d in ast.definitions if d.kind == "fragment_definition"}
    operation = next(d for d in ast.definitions if d.kind == "operation_definition")
    return measure_operation(schema, operation, fragments, LIMITS)


async def _post(client, token: str, query: str):
    return await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})


def _refused(response) -> dict:
    body = response.json()
    assert "data" not in body or body["data"] is None, "refused before execution"
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", body
    return error


@pytest.fixture
def client(client, settings):
    client.settings = settings
    return client


async def test_the_ladder_is_measured_once_per_fragment(client, world):
    """Each level doubles the cost; measuring it does not double the work (21 levels, 2^21 ``me``)."""
    measures = [_measure(client, ladder(n)).cost for n in (3, 4, 21)]
    assert measures[1] == 2 * measures[0]
    assert measures[2] == 2 ** (21 - 3) * measures[0]


@pytest.mark.parametrize("document", [ladder(21), PDF_FAN_OUT], ids=["fragment ladder", "30 aliased PDFs"])
async def test_costly_documents_are_refused_and_others_answered_meanwhile(client, world, document):
    token = world.tokens["county_staff"]
    normal = "{ me { username } cases(first: 20) { totalCount edges { node { id title } } } }"
    refused, answered = await asyncio.gather(_post(client, token, document), _post(client, token, normal))
    error = _refused(refused)
    assert error["extensions"]["cost"] > error["extensions"]["budget"] == 20_000
    assert answered.status_code == 200
    assert answered.json()["data"]["me"]["username"] == "county_staff"


async def test_refusals_are_cached_with_the_validation(client, world):
    from strawberry.extensions.validation_cache import _get_validate_cache

    from zongzhi.platform.schema.document_cache import DOCUMENT_CACHE_SIZE

    cache = _get_validate_cache(DOCUMENT_CACHE_SIZE)
    document = ladder(21) + f" # {uuid.uuid4()}"
    before = cache.cache_info()
    for _ in range(2):
        _refused(await _post(client, world.tokens["county_staff"], document))
    after = cache.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


async def test_ordinary_documents_fit_the_budget(client, world):
    token = world.tokens["county_staff"]
    case_page = """{ cases(first: 100) { totalCount edges { cursor node { id number title status
        center { name } grid { name } parties { role person { name idNumber phone } }
        timeline { type at } } } pageInfo { hasNextPage endCursor } } }"""
    for document in (
        case_page,
        '{ report(period: "2026") { markdown pdfBase64 } }',
        get_introspection_query(),
    ):
        assert _measure(client, document).cost <= LIMITS.max_cost, document[:60]
    introspection = await _post(client, token, get_introspection_query())
    assert introspection.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_three_report_pdfs_fit_and_five_do_not(client, world):
    def reports(n: int) -> str:
        return "{ " + " ".join(f'r{i}: report(period: "2026") {{ pdfBase64 }}' for i in range(n)) + " }"

    assert _measure(client, reports(3)).cost <= LIMITS.max_cost < _measure(client, reports(5)).cost


async def test_depth_and_aliases_still_count_through_fragments(client, world):
    token = world.tokens["county_staff"]
    deep = (
        "query Deep { ...C } fragment C on Query { centers { "
        + "children { " * 12
        + "name"
        + " }" * 13
        + " }"
    )
    r = await _post(client, token, deep)
    assert "exceeds maximum operation depth" in r.json()["errors"][0]["message"]
    aliases = "query A { ...M ...M2 } fragment M on Query { " + " ".join(
        f"a{i}: me {{ id }}" for i in range(20)
    )
    aliases += " } fragment M2 on Query { " + " ".join(f"b{i}: me {{ id }}" for i in range(20)) + " }"
    r = await _post(client, token, aliases)
    assert "aliases found" in r.json()["errors"][0]["message"]
