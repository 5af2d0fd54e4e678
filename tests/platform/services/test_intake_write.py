"""Intake's reads and writes: one lookup statement, and on PostgreSQL one statement that writes the
case, its number, people, parties, event and outbox row, with rows equal to the ORM path's."""

from __future__ import annotations

import pytest
from tortoise import Tortoise

from tests.casework import actor
from tests.sql_log import sql_sent
from zongzhi.platform.base.codes import PartyRole
from zongzhi.platform.domain.actor import actor_for_user
from zongzhi.platform.domain.jurisdiction import grid_visible, visible
from zongzhi.platform.models import Case, CaseCounter, CaseEvent, CaseParty, Grid, Outbox, Person
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import outbox
from zongzhi.platform.services.people import PersonInput

ID_NUMBER = "11010519491231002X"


def _postgres() -> bool:
    return Tortoise.get_connection("default").capabilities.dialect == "postgres"


async def _intake(world, parties, filer="a1_grid", grid="a1g1", **extra):
    data = svc.CaseInput(
        title=" 楼上漏水 ",
        category="neighbor",
        channel="grid",
        grid_id=world.grids[grid].id,
        tags=["b", "a", "b"],
        parties=parties,
        client_request_id=extra.pop("client_request_id", None),
        **extra,
    )
    return await svc.intake(data, await actor(world, filer))


async def test_grid_visibility_without_a_query_is_the_jurisdiction_rule(world):
    for user in world.users.values():
        who = await actor_for_user(user)
        seen = set(await visible(who, Grid).values_list("id", flat=True))
        for grid in await Grid.all().select_related("center"):
            assert grid_visible(who, grid.id, grid.center.path) == (grid.id in seen), (user.username, grid.id)


async def test_the_rows_written_are_those_read_back(world):
    parties = [
        svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name="张三", phone="13800138000")),
        svc.PartyInput(role=PartyRole.respondent, person=PersonInput(name="李四", id_number=ID_NUMBER)),
        svc.PartyInput(role=PartyRole.other, person=PersonInput(name="李四", id_number=ID_NUMBER)),
    ]
    case, created = await _intake(world, parties, client_request_id="r-1")
    assert created
    stored = await Case.get(id=case.id)
    for name in Case._meta.fields_db_projection:
        assert getattr(stored, name) == getattr(case, name), name
    assert stored.title == "楼上漏水" and stored.tags == ["a", "b"]
    assert stored.number.startswith("ZZ-330110-") and stored.number.endswith("-00001")
    rows = await CaseParty.filter(case_id=case.id).order_by("id").values("person_id", "role", "blind")
    li_si = await Person.get(id_number_hash__isnull=False)
    assert [(r["role"], r["blind"]) for r in rows] == [("applicant", False), ("respondent", False), ("other", False)]
    assert rows[1]["person_id"] == rows[2]["person_id"] == li_si.id  # one resident, one record
    event = await CaseEvent.get(case_id=case.id, type="case.received")
    assert stored.last_event_id == event.id
    assert event.payload == {
        "channel": "grid",
        "category": "neighbor",
        "parties": [{"person_id": r["person_id"], "role": r["role"]} for r in rows],
    }
    row = await Outbox.get(event_id=event.id)
    assert row.payload == {"event_id": event.id, "case_id": case.id, "type": "case.received"}
    again, created = await _intake(world, parties, client_request_id="r-1")
    assert (again.id, created) == (case.id, False)
    assert await Case.all().count() == 1 and await Person.all().count() == 2


async def test_the_same_person_twice_in_one_role_is_one_party(world):
    twice = svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name="李四", id_number=ID_NUMBER))
    case, _ = await _intake(world, [twice, twice])
    first = await Person.get()
    known = svc.PartyInput(role=PartyRole.applicant, person_id=first.id)
    other, _ = await _intake(world, [known, known], filer="a_staff")
    for c in (case, other):
        assert await CaseParty.filter(case_id=c.id).values_list("person_id", "role") == [(first.id, "applicant")]


async def test_a_number_past_five_digits_keeps_every_digit(world):
    case, _ = await _intake(world, [])
    scope = case.number.split("-", 1)[1].rsplit("-", 1)[0]
    await CaseCounter.filter(scope=scope).update(seq=99999)
    case, _ = await _intake(world, [])
    assert case.number.endswith("-100000") and (await Case.get(id=case.id)).number == case.number


async def test_an_unknown_or_foreign_grid_is_not_found_and_writes_nothing(world):
    for grid_id in (world.grids["b1g1"].id, 999999):
        with pytest.raises(Exception) as raised:
            await svc.intake(
                svc.CaseInput(title="t", category="neighbor", grid_id=grid_id), await actor(world, "a1_grid")
            )
        assert getattr(raised.value, "field", None) == "gridId"
        assert f"no grid {grid_id} in your jurisdiction" in str(raised.value)
    assert await Case.all().count() == 0


async def test_inside_an_enclosing_change_the_write_joins_its_transaction(world):
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with outbox.change():
            await _intake(world, [svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name="张三"))])
            raise Abort
    assert await Case.all().count() == 0 and await Person.all().count() == 0
    assert await CaseEvent.all().count() == 0 and await Outbox.all().count() == 0


async def test_on_postgresql_intake_is_one_read_and_one_write(world):
    if not _postgres():
        pytest.skip("the one-statement write is PostgreSQL's")
    filer = await actor(world, "a1_grid")
    parties = [svc.PartyInput(role=PartyRole.applicant, person=PersonInput(name="张三"))]
    data = svc.CaseInput(title="t", category="neighbor", grid_id=world.grids["a1g1"].id, parties=parties)
    with sql_sent() as sent:
        await svc.intake(data, filer)
    statements = [sql.strip().split()[0].upper() for sql, _ in sent]
    # Then only what publishing after the commit sends (marking the outbox row).
    assert statements[:2] == ["SELECT", "WITH"] and set(statements[2:]) <= {"UPDATE"}, statements
