"""Expected refusals are logged as one short line below ERROR; only INTERNAL keeps its traceback."""

from __future__ import annotations

import logging

import pytest

from tests.casework import new_case, take_to
from tests.gql import raw
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc

SECRET_ID = "11010519491231002X"


async def _refusals(client, world) -> list[tuple[str, str, dict, str]]:
    """(token user, document, variables, expected code); the operation names say what each is."""
    case = await take_to(world, await new_case(world), CaseStatus.received)
    other = await new_case(world, grid="b1g1", filer="b1_grid")
    case_id, other_id = to_global_id("Case", case.id), to_global_id("Case", other.id)
    return [
        (
            "a_staff",
            "mutation NotFound($c: ID!) { acceptCase(caseId: $c) { id } }",
            {"c": to_global_id("Case", 999_999)},
            "NOT_FOUND",
        ),
        (
            "a_staff",
            'mutation Forbidden($c: ID!) { rejectCase(caseId: $c, reason: "no") { id } }',
            {"c": other_id},
            "NOT_FOUND",
        ),
        (
            "a1_grid",
            "mutation NotAllowed($c: ID!) { closeCase(caseId: $c) { id } }",
            {"c": case_id},
            "FORBIDDEN",
        ),
        (
            "a_staff",
            "mutation Huge($c: ID!, $r: String!) { rejectCase(caseId: $c, reason: $r) { id } }",
            {"c": case_id, "r": SECRET_ID * 300_000},
            "VALIDATION",
        ),
        (
            "a_staff",
            "mutation Transition($c: ID!) { closeCase(caseId: $c) { id } }",
            {"c": case_id},
            "INVALID_TRANSITION",
        ),
        (
            "a_staff",
            "query BadVariable($n: Int!) { cases(first: $n) { totalCount } }",
            {"n": SECRET_ID * 1000},
            "VALIDATION",
        ),
    ]


async def test_client_errors_are_one_short_line_below_error(client, world, caplog):
    caplog.set_level(logging.INFO)  # the default level (DEBUG adds the ORM's SQL with its values)
    for user, document, variables, code in await _refusals(client, world):
        caplog.clear()
        response = await raw(client, world.tokens[user], document, variables)
        assert response.json()["errors"][0]["extensions"]["code"] == code, response.text[:300]
        operation = document.split()[1].split("(")[0]
        logged = [r for r in caplog.records if r.name.startswith(("zongzhi", "strawberry"))]
        refusals = [r for r in logged if code in r.getMessage()]
        assert len(refusals) == 1, [r.getMessage() for r in logged]
        record = refusals[0]
        assert record.levelno < logging.ERROR and record.exc_info is None
        assert operation in record.getMessage()
        assert not [r for r in logged if r.levelno >= logging.ERROR], [r.getMessage() for r in logged]
        text = caplog.text
        assert SECRET_ID not in text and len(text) < 2_000, "no values in the log"


async def test_validation_lines_name_the_field(client, world, caplog):
    caplog.set_level(logging.INFO)
    case = await new_case(world)
    await raw(
        client,
        world.tokens["a_staff"],
        'mutation Tag($c: ID!) { tagCase(caseId: $c, add: ["a\\u0000b"]) { id } }',
        {"c": to_global_id("Case", case.id)},
    )
    assert "refused VALIDATION field=add[0] operation=Tag" in caplog.text


async def test_internal_errors_keep_error_level_and_traceback(client, world, caplog, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(svc, "add_progress", broken)
    case = await take_to(world, await new_case(world), CaseStatus.dispatched)
    caplog.set_level(logging.INFO)
    response = await raw(
        client,
        world.tokens["a_staff"],
        'mutation Progress($c: ID!) { addCaseProgress(caseId: $c, note: "x") { id } }',
        {"c": to_global_id("Case", case.id)},
    )
    error = response.json()["errors"][0]
    assert error == error | {"message": "Internal error.", "extensions": {"code": "INTERNAL"}}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info and "Progress" in errors[0].getMessage()
    assert "the disk is on fire" in caplog.text, "the traceback is logged"


@pytest.mark.parametrize("user", ["a_staff"])
async def test_refused_documents_are_logged_briefly(client, world, caplog, user):
    caplog.set_level(logging.INFO)
    document = "query Nope { nope " + "x " * 1000 + "}"
    await raw(client, world.tokens[user], document)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "x x x" not in caplog.text
