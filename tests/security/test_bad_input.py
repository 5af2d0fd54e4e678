"""Bad input is refused as ``VALIDATION`` naming the field (or a 4xx for what cannot be read), never
``INTERNAL`` or a 5xx, and writes nothing: every example of issue 10, items 3 and 4, kept."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.casework import new_case, take_to
from zongzhi.platform.base import pii
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.models import Case, CaseEvent, CaseParty, Outbox, Person
from zongzhi.platform.schema.ids import to_global_id

CREATE = "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } } }"


def _id_number(first17: str) -> str:
    return first17 + pii.id_check_char(first17)


def _raw_global_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _case_input(world, **overrides) -> dict:
    base = {
        "title": "楼道堆放杂物",
        "category": "neighbor",
        "channel": "grid",
        "gridId": to_global_id("Grid", world.grids["a1g1"].id),
        "parties": [{"role": "APPLICANT", "person": {"name": "李四"}}],
    }
    base.update(overrides)
    return base


def _person(**fields) -> dict:
    return {"parties": [{"role": "APPLICANT", "person": {"name": "李四", **fields}}]}


NEXT_YEAR = datetime.now(UTC).year + 1

#: (name, status the case is taken to, user, document, variables (``CASE`` replaced), field)
CASE_DOCS: list[tuple[str, CaseStatus | None, str, str, dict, str]] = [
    # item 3
    (
        "id >= 2**63",
        None,
        "a_staff",
        "query($id: ID!) { case(id: $id) { id } }",
        {"id": _raw_global_id(f"Case:{2**63}")},
        "id",
    ),
    (
        "id >= 2**31 in a mutation",
        None,
        "a_staff",
        "mutation($id: ID!) { acceptCase(caseId: $id) { id } }",
        {"id": _raw_global_id(f"Case:{2**31}")},
        "caseId",
    ),
    (
        "long text filter",
        None,
        "a_staff",
        "query($t: String) { cases(filter: {text: $t}) { totalCount } }",
        {"t": "案" * 101},
        "filter.text",
    ),
    (
        "long caseByNumber",
        None,
        "a_staff",
        "query($n: String!) { caseByNumber(number: $n) { id } }",
        {"n": "ZZ-" + "9" * 60},
        "number",
    ),
    (
        "string for Int (variable)",
        None,
        "a_staff",
        "query($n: Int!) { cases(first: $n) { totalCount } }",
        {"n": "twenty"},
        "first",
    ),
    ("string for Int (literal)", None, "a_staff", '{ cases(first: "twenty") { totalCount } }', {}, "first"),
    (
        "extreme createdFrom",
        None,
        "a_staff",
        "query($d: DateTime) { cases(filter: {createdFrom: $d}) { totalCount } }",
        {"d": "9999-12-31T23:59:59-14:00"},
        "filter.createdFrom",
    ),
    (
        "extreme createdFrom (literal)",
        None,
        "a_staff",
        '{ cases(filter: {createdFrom: "9999-12-31T23:59:59-14:00"}) { totalCount } }',
        {},
        "filter.createdFrom",
    ),
    (
        "naive deadline",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $d: DateTime) { setCaseDeadline(caseId: $c, resolveBy: $d) { id } }",
        {"d": f"{NEXT_YEAR}-06-01T12:00:00"},
        "resolveBy",
    ),
    (
        "year-9999 due",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $u: ID!) { dispatchCase(caseId: $c, mode: SELF, units: [{userId: $u}], "
        'due: "9999-12-31T00:00:00+08:00") { id } }',
        {"u": "MEDIATOR"},
        "due",
    ),
    (
        "amount Infinity",
        CaseStatus.handling,
        "a_mediator",
        'mutation($c: ID!) { resolveCase(caseId: $c, outcome: "ok", amount: "Infinity") { id } }',
        {},
        "amount",
    ),
    (
        "amount NaN",
        CaseStatus.handling,
        "a_mediator",
        'mutation($c: ID!) { resolveCase(caseId: $c, outcome: "ok", amount: "NaN") { id } }',
        {},
        "amount",
    ),
    (
        "amount 1e30",
        CaseStatus.handling,
        "a_mediator",
        'mutation($c: ID!) { resolveCase(caseId: $c, outcome: "ok", amount: "1e30") { id } }',
        {},
        "amount",
    ),
    (
        "cursor naming an id >= 2**63",
        None,
        "a_staff",
        "query($a: String) { cases(after: $a) { totalCount } }",
        {"a": base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00|{2**63}".encode()).decode()},
        "after",
    ),
    (
        "cursor naming year 9999",
        None,
        "a_staff",
        "query($a: String) { cases(after: $a) { totalCount } }",
        {"a": base64.urlsafe_b64encode(b"9999-12-31T23:59:59-14:00|1").decode()},
        "after",
    ),
    # item 4
    (
        "deadline in 9999",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $d: DateTime) { setCaseDeadline(caseId: $c, resolveBy: $d) { id } }",
        {"d": "9999-01-01T00:00:00+08:00"},
        "resolveBy",
    ),
    (
        "deadline in 1900",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $d: DateTime) { setCaseDeadline(caseId: $c, resolveBy: $d) { id } }",
        {"d": "1900-01-01T00:00:00+08:00"},
        "resolveBy",
    ),
    (
        "supervise level zzz",
        CaseStatus.dispatched,
        "a_staff",
        'mutation($c: ID!) { superviseCase(caseId: $c, note: "快办", level: "zzz") { id } }',
        {},
        "level",
    ),
    (
        "10,000 tags on a case",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $t: [String!]!) { tagCase(caseId: $c, add: $t) { id } }",
        {"t": [f"t{i}" for i in range(10_000)]},
        "add",
    ),
    (
        "lone surrogate in a tag",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $t: [String!]!) { tagCase(caseId: $c, add: $t) { id } }",
        {"t": ["a\ud800"]},
        "add[0]",
    ),
    (
        "NUL in a note",
        CaseStatus.dispatched,
        "a_staff",
        "mutation($c: ID!, $n: String!) { addCaseProgress(caseId: $c, note: $n) { id } }",
        {"n": "a\x00b"},
        "note",
    ),
    (
        "1 MB reason",
        CaseStatus.assessed,
        "a_staff",
        "mutation($c: ID!, $r: String!) { rejectCase(caseId: $c, reason: $r) { id } }",
        {"r": "理" * 1_000_000},
        "reason",
    ),
]

#: (name, createCase input overrides, field)
INTAKE_INPUTS: list[tuple[str, dict, str]] = [
    ("100,000-character address", {"location": {"address": "路" * 100_000}}, "location.address"),
    ("lone surrogate in the title", {"title": "漏水\ud800"}, "title"),
    ("lone surrogate in a tag", {"tags": ["\ud800"]}, "tags[0]"),
    ("NUL in the title", {"title": "漏\x00水"}, "title"),
    ("1 MB description", {"description": "述" * 1_000_000}, "description"),
    ("10,000 tags", {"tags": [f"t{i}" for i in range(10_000)]}, "tags"),
    ("100 kB tag", {"tags": ["标" * 100_000]}, "tags[0]"),
    ("control character in a name", _person(name="李\x1b[31m四"), "parties[0].person.name"),
    (
        "birth date in the future",
        _person(idNumber=_id_number(f"110101{NEXT_YEAR}0101123")),
        "parties[0].person.idNumber",
    ),
    (
        "birth date 1999-02-30",
        _person(idNumber=_id_number("11010119990230123")),
        "parties[0].person.idNumber",
    ),
    ("area code 000000", _person(idNumber=_id_number("00000019900101123")), "parties[0].person.idNumber"),
    ("201-character title", {"title": "x" * 201}, "title"),
]


async def _counts() -> tuple[int, ...]:
    return (
        await Case.all().count(),
        await CaseEvent.all().count(),
        await CaseParty.all().count(),
        await Person.all().count(),
        await Outbox.all().count(),
    )


def _post_body(body: dict) -> bytes:
    """JSON with ``\\uXXXX`` escapes, so lone surrogates travel as a client would send them."""
    return json.dumps(body, ensure_ascii=True).encode()


async def _post(client, token: str, query: str, variables: dict):
    return await client.post(
        "/graphql",
        content=_post_body({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _assert_validation(response, field: str) -> None:
    assert response.status_code in (200, 400), response.text[:500]
    errors = response.json()["errors"]
    codes = [e.get("extensions", {}).get("code") for e in errors]
    assert "INTERNAL" not in codes, errors
    assert codes[0] == "VALIDATION", errors
    assert errors[0]["extensions"].get("field") == field, errors


@pytest.mark.parametrize(
    ("status", "user", "query", "variables", "field"),
    [pytest.param(*example[1:], id=example[0]) for example in CASE_DOCS],
)
async def test_bad_arguments_are_validation_errors(client, world, status, user, query, variables, field):
    variables = dict(variables)
    if status is not None:
        case = await take_to(world, await new_case(world), status)
        variables["c"] = to_global_id("Case", case.id)
    if variables.get("u") == "MEDIATOR":
        variables["u"] = to_global_id("User", world.users["a_mediator"].id)
    before = await _counts()
    response = await _post(client, world.tokens[user], query, variables)
    _assert_validation(response, field)
    assert await _counts() == before, "nothing is written"


@pytest.mark.parametrize(
    ("overrides", "field"), [pytest.param(*example[1:], id=example[0]) for example in INTAKE_INPUTS]
)
async def test_bad_intake_is_validation_error(client, world, overrides, field):
    before = await _counts()
    response = await _post(client, world.tokens["a_staff"], CREATE, {"i": _case_input(world, **overrides)})
    _assert_validation(response, field)
    assert await _counts() == before, "nothing is written"


async def test_ordinary_long_searches_are_answered(client, world):
    """A 41-100 character search text or an unknown case number is a search that finds nothing."""
    token = world.tokens["a_staff"]
    r = await _post(
        client, token, "query($t: String) { cases(filter: {text: $t}) { totalCount } }", {"t": "案" * 60}
    )
    assert r.json() == {"data": {"cases": {"totalCount": 0}}}
    r = await _post(
        client, token, "query($n: String!) { caseByNumber(number: $n) { id } }", {"n": "ZZ-" + "1" * 37}
    )
    assert r.json() == {"data": {"caseByNumber": None}}


async def test_a_body_that_is_not_utf8_is_400(client, world):
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ me { id } }", "variables": {"x": "\xff\xfe"}}',
        headers={"Authorization": f"Bearer {world.tokens['a_staff']}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_a_signed_token_naming_a_huge_user_id_is_401(client, world, settings):
    now = datetime.now(UTC)
    claims = {"sub": "9" * 30, "iss": "zongzhi", "iat": now, "exp": now + timedelta(minutes=5)}
    from zongzhi.platform.base.security import JWT_ALGORITHM, JWT_ISSUER

    claims["iss"] = JWT_ISSUER
    token = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
    response = await client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


async def test_a_tag_that_is_not_unicode_never_reaches_the_rule_engine(client, world, rules):
    """The tag case once created the case and then failed its event in durable_rules for ever."""
    response = await _post(
        client, world.tokens["a_staff"], CREATE, {"i": _case_input(world, tags=["ok", "\udfff"])}
    )
    _assert_validation(response, "tags[1]")
    assert await Case.all().count() == 0 and await CaseEvent.all().count() == 0
    assert await Outbox.all().count() == 0


#: Values longer than their column, in modules without a bound of their own: (user, document, field)
COLUMN_DOCS = [
    (
        "a_staff",
        'mutation($c: ID!) { requestEvidenceUpload(caseId: $c, filename: "'
        + "f" * 300
        + '.jpg", contentType: "image/jpeg", size: 10, sha256: "'
        + "0" * 64
        + '") { evidence { id } } }',
        "filename",
    ),
    (
        "admin",
        'mutation { createPartnerCredential(plugin: "court_docking", name: "' + "n" * 300 + '") { secret } }',
        "name",
    ),
]


@pytest.mark.parametrize(("user", "query", "field"), COLUMN_DOCS, ids=[d[2] for d in COLUMN_DOCS])
async def test_values_longer_than_their_column_are_validation_errors(client, world, user, query, field):
    case = await new_case(world)
    before = await _counts()
    response = await _post(client, world.tokens[user], query, {"c": to_global_id("Case", case.id)})
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "VALIDATION", errors
    assert errors[0]["extensions"]["field"] == field, errors
    assert len(errors[0]["message"]) < 200, "the message does not repeat the value"
    assert await _counts() == before


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b'"{ me { id } }"',
        b'{"query": 1}',
        b'{"query": "{ me { id } }", "variables": []}',
        b'{"query": "{ me { id } }", "variables": "x"}',
        b'{"query": "{ me { id } }", "operationName": 5}',
        b'{"query": "{ me { id } }", "extensions": 7}',
        b'{"query": "' + b"{" * 5000 + b'"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"query": "query($v: [[Int]]) { me { id } }", "variables": {"v": '
        + b"[" * 5000
        + b"]" * 5000
        + b"}}",
    ],
    ids=lambda b: b[:30].decode(errors="replace"),
)
async def test_malformed_bodies_are_4xx(client, world, body):
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {world.tokens['a_staff']}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text[:300]
    if response.status_code == 200:
        assert "INTERNAL" not in response.text
