"""ID numbers: checksum, masking by role, encryption at rest."""

from __future__ import annotations

import pytest

from tests.casework import new_case
from tests.gql import gql
from zongzhi.platform import pii
from zongzhi.platform.models import Person
from zongzhi.platform.schema.ids import to_global_id

VALID = ["11010519491231002X", "110101199003074514", "440524188001010014"]


@pytest.mark.parametrize("number", VALID)
def test_valid_id_numbers(number):
    assert pii.id_number_problem(number) is None
    assert pii.id_number_problem(number.lower()) is None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "checksum"),
        ("11010519491231002", "17 digits"),
        ("1101051949123100XX", "17 digits"),
    ],
)
def test_invalid_id_numbers(number, reason):
    assert reason in pii.id_number_problem(number)


def test_masking():
    assert pii.mask_id_number("110101199003074514") == "110101********4514"
    assert pii.mask_phone("13800138000") == "138****8000"


def test_cipher_round_trip_and_keyed_hash():
    a, b = pii.PiiCipher("k1"), pii.PiiCipher("k2")
    token = a.encrypt("110101199003074514")
    assert "110101199003074514" not in token
    assert a.decrypt(token) == "110101199003074514"
    assert a.lookup_hash("x") == a.lookup_hash("x") != b.lookup_hash("x")


PEOPLE = "query($n: String) { people(idNumber: $n) { edges { node { name idNumber phone } } } }"


async def test_roles_see_masked_or_full_numbers(client, world, settings):
    from tests.casework import actor
    from zongzhi.platform.models import AuditLog
    from zongzhi.platform.services.cases import CaseInput, PartyInput, intake
    from zongzhi.platform.services.people import PersonInput

    await intake(
        CaseInput(
            title="x",
            category="neighbor",
            channel="grid",
            grid_id=world.grids["a1g1"].id,
            parties=[
                PartyInput(
                    role="applicant",
                    person=PersonInput(
                        name="赵六",
                        id_number="110101199003074514",
                        phone="13800138000",
                        grid_id=world.grids["a1g1"].id,
                    ),
                )
            ],
        ),
        await actor(world, "a1_grid"),
    )
    staff = await gql(client, world.tokens["a_staff"], PEOPLE, {"n": "110101199003074514"})
    assert staff["people"]["edges"][0]["node"]["idNumber"] == "110101199003074514"
    assert await AuditLog.filter(action="pii.read").count() == 1, "revealing full numbers is audited"
    grid = await gql(client, world.tokens["a1_grid"], PEOPLE, {"n": "110101199003074514"})
    node = grid["people"]["edges"][0]["node"]
    assert node == {"name": "赵六", "idNumber": "110101********4514", "phone": "138****8000"}
    other = await gql(client, world.tokens["b_staff"], PEOPLE, {"n": "110101199003074514"})
    assert other["people"]["edges"] == [], "people outside the jurisdiction are not found"


async def test_raw_id_number_is_not_in_the_database(world, settings):
    case = await new_case(world)
    from tests.casework import actor
    from zongzhi.platform.services.cases import CaseInput, PartyInput, intake
    from zongzhi.platform.services.people import PersonInput

    await intake(
        CaseInput(
            title="y",
            category="neighbor",
            channel="grid",
            grid_id=world.grids["a1g1"].id,
            parties=[
                PartyInput(
                    role="applicant",
                    person=PersonInput(name="钱七", id_number="440524188001010014", phone="13912345678"),
                )
            ],
        ),
        await actor(world, "a1_grid"),
    )
    assert case
    person = await Person.get(name="钱七")
    assert "440524188001010014" not in (person.id_number_enc or "")
    assert "13912345678" not in (person.phone_enc or "")
    if settings.is_sqlite:
        from tortoise import Tortoise

        await Tortoise.get_connection("default").execute_script("PRAGMA wal_checkpoint")
        raw = (settings.data_dir / "zongzhi.sqlite3").read_bytes()
        assert b"440524188001010014" not in raw and b"13912345678" not in raw
    else:
        from tortoise import Tortoise

        rows = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT count(*) AS n FROM person WHERE id_number_enc LIKE '%440524188001010014%'"
            " OR phone_enc LIKE '%13912345678%'"
        )
        assert rows[0]["n"] == 0
    assert to_global_id("Person", person.id)
