"""``lock_case`` for the system actor (the rules' actions) is a fixed statement on PostgreSQL: it
must load the same case, every field, as the ORM's query does, and lock its row. The system actor's
deadline is locked, checked and set in one statement there (``update_for_step``): it must leave the
case as the two-statement path does, and refuse a case the step may not leave as that path does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from tests.casework import actor, new_case, take_to
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.base.errors import NotFound, ServiceError
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, CaseEvent
from zongzhi.platform.services import steps_marks
from zongzhi.platform.services.case_access import lock_case, now


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


async def test_the_system_actors_deadline_sets_the_case_as_the_staffs_does(world):
    system = Actor.system_actor("规则 test/deadline v1")
    by_rule, by_hand = await new_case(world), await new_case(world)
    respond_by, resolve_by = now() + timedelta(days=1), now() + timedelta(days=10)
    await steps_marks.set_deadline(
        system, by_rule.id, respond_by=respond_by, resolve_by=resolve_by, note="规"
    )
    staff = await actor(world, "a_staff")
    await steps_marks.set_deadline(staff, by_hand.id, respond_by=respond_by, resolve_by=resolve_by, note="规")
    ruled, handled = await Case.get(id=by_rule.id), await Case.get(id=by_hand.id)
    assert (ruled.respond_by, ruled.resolve_by, ruled.deadline_note) == (respond_by, resolve_by, "规")
    assert abs(ruled.warn_at - handled.warn_at) < timedelta(seconds=5)
    assert ruled.warned_at is None and ruled.overdue_at is None
    assert ruled.updated_at > by_rule.updated_at
    event = await CaseEvent.get(id=ruled.last_event_id)
    assert event.type == "case.deadline_set" and event.payload["resolve_by"] == resolve_by.isoformat()
    # Only the resolve-by date: the respond-by date stays as it was.
    later = resolve_by + timedelta(days=3)
    await steps_marks.set_deadline(system, by_rule.id, resolve_by=later)
    ruled = await Case.get(id=by_rule.id)
    assert (ruled.respond_by, ruled.resolve_by, ruled.deadline_note) == (respond_by, later, "")


async def test_the_system_actors_deadline_on_a_closed_case_is_refused_and_changes_nothing(world):
    system = Actor.system_actor("规则 test/deadline v1")
    case = await take_to(world, await new_case(world), CaseStatus.closed)
    with pytest.raises(ServiceError) as refused:
        await steps_marks.set_deadline(system, case.id, resolve_by=now() + timedelta(days=3))
    assert refused.value.code == "INVALID_TRANSITION"
    after = await Case.get(id=case.id)
    assert after.resolve_by == case.resolve_by and after.last_event_id == case.last_event_id
    with pytest.raises(NotFound):
        await steps_marks.set_deadline(system, 10**9, resolve_by=now() + timedelta(days=3))
