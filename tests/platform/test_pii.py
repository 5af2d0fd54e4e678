"""ID numbers: checksum, masking by role, encryption at rest."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.casework import new_case
from tests.gql import gql
from zongzhi.platform.base import pii
from zongzhi.platform.models import Person
from zongzhi.platform.schema.ids import to_global_id

VALID = ["11010519491231002X", "110101199003074514", "440524188001010014"]

#: Prints "clean" or "FOUND" per file: whether any of the texts in argv[1:3] is in it.
READ_FILES = (
    "import sys\n"
    "texts = [t.encode() for t in sys.argv[1:3]]\n"
    "for f in sys.argv[3:]:\n"
    "    data = open(f, 'rb').read()\n"
    "    print('FOUND' if any(t in data for t in texts) else 'clean')\n"
)


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


def _with_check(first17: str) -> str:
    return first17 + pii.id_check_char(first17)


@pytest.mark.parametrize(
    ("first17", "reason"),
    [
        ("11010120990101123", "birth date"),
        ("11010119990230123", "not a date"),
        ("11010118600101123", "birth date"),
        ("00000019900101123", "area code"),
        ("99010119900101123", "area code"),
        ("11000019900101123", "area code"),
    ],
)
def test_a_valid_checksum_is_not_enough(first17, reason):
    """The checksum holds, but the birth date or area code cannot be a resident's."""
    assert reason in pii.id_number_problem(_with_check(first17))


def test_born_today_is_valid_and_tomorrow_is_not():
    from datetime import date

    assert pii.id_number_problem(_with_check("11010120260101123"), today=date(2026, 1, 1)) is None
    assert "birth date" in pii.id_number_problem(_with_check("11010120260102123"), today=date(2026, 1, 1))


def test_a_trailing_newline_is_not_a_phone_number():
    assert pii.phone_problem("13800138000") is None
    assert pii.phone_problem("13800138000\n1") is not None


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
        # The file and its write-ahead log are read by another process: opening and closing the
        # database file in this one would drop SQLite's POSIX locks on it (a close() releases every
        # lock the process holds on the file), and the next process to close its connection would
        # then checkpoint and delete the WAL this session's connection still writes to.
        files = [str(p) for p in settings.data_dir.glob("zongzhi.sqlite3*")]
        found = subprocess.run(
            [sys.executable, "-c", READ_FILES, "440524188001010014", "13912345678", *files],
            capture_output=True,
            text=True,
            check=True,
        )
        assert found.stdout.split() == ["clean"] * len(files), found.stdout
    else:
        from tortoise import Tortoise

        rows = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT count(*) AS n FROM person WHERE id_number_enc LIKE '%440524188001010014%'"
            " OR phone_enc LIKE '%13912345678%'"
        )
        assert rows[0]["n"] == 0
    assert to_global_id("Person", person.id)
