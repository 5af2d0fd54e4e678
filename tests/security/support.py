"""Shared by the audit and account tests: a repeated party with full numbers, the CLI on the test database."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.casework import actor
from tests.world import World
from zongzhi.platform.base.codes import PartyRole
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Person
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.people import PersonInput

ID_NUMBER = "110101199003074514"
PHONE = "13800138000"


async def repeated_party(
    world: World,
    cases: int = 3,
    grid: str = "a1g1",
    filer: str = "a1_grid",
    who: tuple[str, str, str] = ("赵六", ID_NUMBER, PHONE),
) -> int:
    """A person (``who``: name, ID and phone numbers), party to ``cases`` cases in ``grid``; their id."""
    for i in range(cases):
        data = svc.CaseInput(
            title=f"反复纠纷 {i}",
            category="neighbor",
            channel="grid",
            grid_id=world.grids[grid].id,
            parties=[
                svc.PartyInput(
                    role=PartyRole.applicant,
                    person=PersonInput(name=who[0], id_number=who[1], phone=who[2]),
                )
            ],
        )
        await svc.intake(data, await actor(world, filer))
    return (await Person.get(name=who[0])).id


def zongzhi(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """``zongzhi ARGS`` in a subprocess, on the test database (SQLite file or PostgreSQL)."""
    env = {
        **os.environ,
        "ZONGZHI_DATA_DIR": str(settings.data_dir),
        "ZONGZHI_DATABASE_URL": settings.database_url,
        "ZONGZHI_SECRET_KEY": settings.secret_key,
        "ZONGZHI_LOG_LEVEL": "WARNING",
    }
    for own_key in ("ZONGZHI_PII_KEY", "ZONGZHI_AUDIT_KEY"):  # derived from the secret, as in the tests
        env.pop(own_key, None)
    return subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
