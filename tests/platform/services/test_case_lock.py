"""``lock_case`` for the system actor (the rules' actions) is a fixed statement on PostgreSQL: it
must load the same case, every field, as the ORM's query does, and lock its row."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from tests.casework import new_case
from zongzhi.platform.base.errors import NotFound
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case
from zongzhi.platform.services.case_access import lock_case


async def test_the_system_actor_locks_the_case_as_the_orm_reads_it(world):
    case = await new_case(world, tags=["漏水", "楼上"], address="甲路1号", lat=30.1, lng=120.2)
    system = Actor.system_actor("规则 test/lock v1")
    async with in_transaction():
        locked = await lock_case(system, case.id)
    read = await Case.get(id=case.id)
    fields = read._meta.fields_db_projection
    assert {f: getattr(locked, f) for f in fields} == {f: getattr(read, f) for f in fields}
    assert locked.tags == ["楼上", "漏水"] and locked._saved_in_db
    locked.title = "改过的标题"
    await locked.save(update_fields=["title"])
    assert (await Case.get(id=case.id)).title == "改过的标题"


async def test_locking_a_case_that_is_not_there_is_not_found(world):
    system = Actor.system_actor("规则 test/lock v1")
    try:
        async with in_transaction():
            await lock_case(system, 10**9)
    except NotFound:
        return
    raise AssertionError("no NotFound for a missing case")
