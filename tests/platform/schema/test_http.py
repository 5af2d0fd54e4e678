"""The endpoint speaks GraphQL over HTTP: media types, status codes, auth, GET, limits."""

from __future__ import annotations

import uuid

from tests.gql import raw

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def _post(client, token, body, accept=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept:
        headers["Accept"] = accept
    return await client.post("/graphql", json=body, headers=headers, **kw)


async def test_no_token_is_401(client, world):
    r = await raw(client, None, "{ me { username } }")
    assert r.status_code == 401
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_bad_and_revoked_tokens_are_401(client, world):
    from zongzhi.platform.domain.actor import Actor
    from zongzhi.platform.models import ApiToken
    from zongzhi.platform.services.accounts import create_api_token, revoke_api_token

    assert (await raw(client, "not-a-token", "{ me { username } }")).status_code == 401
    token = await create_api_token(world.users["a_staff"], name="phone")
    ok = await raw(client, token, "{ me { username } }")
    assert ok.status_code == 200 and ok.json()["data"]["me"]["username"] == "a_staff"
    row = await ApiToken.get(user_id=world.users["a_staff"].id)
    assert token not in (row.token_hash, row.prefix), "only a hash of the token is stored"
    await revoke_api_token(Actor.system_actor("test"), row.id)
    assert (await raw(client, token, "{ me { username } }")).status_code == 401


async def test_graphql_response_json_gives_400_for_invalid_documents(client, world):
    t = world.tokens["a_staff"]
    r = await _post(client, t, {"query": "{ nope }"}, accept=GRAPHQL_RESPONSE)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in r.json()
    r = await _post(client, t, {"query": "{ me { "}, accept=GRAPHQL_RESPONSE)
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE"


async def test_graphql_response_json_gives_200_for_field_errors(client, world):
    r = await _post(
        client,
        world.tokens["a_staff"],
        {"query": 'mutation { rejectCase(caseId: "Q2FzZTo5OTk", reason: "x") { id } }'},
        accept=GRAPHQL_RESPONSE,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_plain_json_keeps_200_and_json(client, world):
    r = await _post(client, world.tokens["a_staff"], {"query": "{ nope }"}, accept="application/json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION"


async def test_unacceptable_media_type_is_406(client, world):
    r = await _post(client, world.tokens["a_staff"], {"query": "{ me { id } }"}, accept="text/csv")
    assert r.status_code == 406


async def test_get_runs_queries_but_not_mutations(client, world):
    headers = {"Authorization": f"Bearer {world.tokens['a_staff']}"}
    r = await client.get("/graphql", params={"query": "{ me { username } }"}, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["me"]["username"] == "a_staff"
    r = await client.get(
        "/graphql", params={"query": 'mutation { tagCase(caseId: "x", add: []) { id } }'}, headers=headers
    )
    assert r.status_code in (400, 405)


async def test_a_repeated_document_is_parsed_and_validated_once_and_still_limited(client, world):
    from strawberry.extensions.validation_cache import _get_validate_cache

    from zongzhi.platform.schema.document_cache import DOCUMENT_CACHE_SIZE, _parsed

    cache = _get_validate_cache(DOCUMENT_CACHE_SIZE)
    t = world.tokens["county_staff"]
    before, parsed_before = cache.cache_info(), _parsed.cache_info()
    probe = f"{{ me {{ username }} }} # cache probe {uuid.uuid4()}"
    for _ in range(3):
        r = await _post(client, t, {"query": probe})
        assert r.json()["data"]["me"]["username"] == "county_staff"
    after = cache.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    assert _parsed.cache_info().hits - parsed_before.hits == 2
    deep = "{ centers { " + "children { " * 14 + "name" + " }" * 15 + f" }} # cached too {uuid.uuid4()}"
    for _ in range(2):
        r = await _post(client, t, {"query": deep})
        assert "exceeds maximum operation depth" in r.json()["errors"][0]["message"]


async def test_graphiql_opens_without_a_token(client, world):
    r = await client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()


async def test_depth_alias_and_page_limits(client, world):
    t = world.tokens["county_staff"]
    deep = "{ centers { " + "children { " * 14 + "name" + " }" * 15 + " }"
    r = await _post(client, t, {"query": deep})
    assert "exceeds maximum operation depth" in r.json()["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    r = await _post(client, t, {"query": aliases})
    assert r.json()["errors"], "too many aliases are refused"
    r = await _post(client, t, {"query": "{ cases(first: 1000) { totalCount } }"})
    err = r.json()["errors"][0]
    assert err["extensions"] == {"code": "VALIDATION", "field": "first"}
