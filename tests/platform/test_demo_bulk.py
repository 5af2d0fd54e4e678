"""The demo's bulk part writes what the services would have: same cases, timelines, decisions.

The same seed is made twice, once every case through the services and once with most cases in
bulk; the draws are the same, so each case must come out the same (bar the deadline a rule counts
from the assessment, which the services count from the moment of seeding and the bulk writer from
the back-dated assessment). Then the bulk-made demo is used as a newcomer would: case lists per
demo user follow jurisdiction, statistics and hot spots run over it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from tests.gql import gql
from zongzhi.platform.base.current import current
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.models import Case, CaseEvent, Center, Decision, FollowUp, Outbox, Person, User
from zongzhi.platform.wiring import demo, runtime

N_CASES = 120
#: Both seeds date their cases back from the same moment, so their times can be compared.
NOW = datetime.now(UTC).replace(microsecond=0)
BULK_AFTER = 20


async def _empty_database() -> None:
    conn = Tortoise.get_connection("default")
    tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        await conn.execute_script("PRAGMA foreign_keys = OFF")
        for t in tables:
            await conn.execute_script(f'DELETE FROM "{t}"')
        await conn.execute_script("DELETE FROM sqlite_sequence")
        await conn.execute_script("PRAGMA foreign_keys = ON")
    current().close_engine()


async def _seed(settings, bulk_after: int | None) -> None:
    await _empty_database()
    await runtime.install_rulesets(current())
    current().publishers = [runtime.inline_publisher]
    try:
        await demo.seed(n_cases=N_CASES, bulk_after=bulk_after, now=NOW)
    finally:
        current().publishers = []


async def _snapshot() -> dict[str, dict]:
    """Each case by its client request id, with what must not depend on how it was written."""
    cases = {}
    for case in await Case.filter(client_request_id__startswith="demo-").order_by("id"):
        events = await CaseEvent.filter(case_id=case.id).order_by("id")
        decisions = await Decision.filter(case_id=case.id).order_by("id")
        people = await Person.filter(parties__case_id=case.id).order_by("id")
        cases[case.client_request_id] = {
            "number": case.number,
            "columns": [  # the other demo generators run after the cases and may change some
                _then(v)
                for v in (
                    str(case.status),
                    str(case.risk),
                    case.category,
                    case.channel,
                    case.complexity,
                    case.center_path,
                    case.grid_id,
                    case.created_by_id,
                    case.outcome,
                    case.agreement,
                    case.amount,
                    case.satisfaction,
                    case.executed,
                    case.reject_reason,
                    case.resolve_by,
                    case.warn_at,
                    case.created_at,
                    case.accepted_at,
                    case.concluded_at,
                    case.closed_at,
                )
            ],
            "timeline": [
                (e.type, e.actor_id, e.actor_label, e.depth, e.rule, e.at) for e in events if e.at <= NOW
            ],
            "payloads": [
                {k: v for k, v in e.payload.items() if k not in {"parties", "units", "assignment_id"}}
                for e in events
                if e.type != "case.deadline_set" and e.at <= NOW
            ],
            "decisions": [
                (d.ruleset, d.rule_id, d.action_index, d.action, d.outcome)
                for d in decisions
                if d.event_id in {e.id for e in events if e.at <= NOW}
            ],
            "people": [(p.name, p.id_number_hash, p.phone_hash, p.address) for p in people],
            "follow_ups": list(
                await FollowUp.filter(case_id=case.id).values_list("satisfaction", "executed", "at")
            ),
        }
    return cases


def _then(value):
    """A value as the case generator left it: times after ``NOW`` are the later generators'."""
    return "later" if isinstance(value, datetime) and value > NOW else value


async def test_bulk_cases_are_the_cases_the_services_make(settings) -> None:
    await _seed(settings, bulk_after=None)
    through_services = await _snapshot()
    await _seed(settings, bulk_after=BULK_AFTER)
    in_bulk = await _snapshot()
    assert len(in_bulk) == N_CASES == len(through_services)
    assert in_bulk.keys() == through_services.keys()
    for key, made in in_bulk.items():
        expected = through_services[key]
        # All but the deadline a rule sets on assessment (in the payloads left out): it is counted
        # from that event's time, which the services see as the moment of seeding and the bulk
        # writer as the back-dated time.
        for part in ("number", "columns", "timeline", "payloads", "decisions", "people", "follow_ups"):
            assert made[part] == expected[part], (key, part)
    # Every event was handled as the services handle it, and every timeline runs forward.
    assert not await Outbox.filter(processed_at=None).exists()
    assert await Outbox.all().count() == await CaseEvent.all().count()
    for case in await Case.filter(client_request_id__startswith="demo-"):
        ats = [e.at for e in await CaseEvent.filter(case_id=case.id).order_by("id")]
        assert ats == sorted(ats) and ats[0] == case.created_at
        assert case.last_event_id == (await CaseEvent.filter(case_id=case.id).order_by("-id").first()).id


STATUSES = {
    "received",
    "assessed",
    "rejected",
    "withdrawn",
    "dispatched",
    "handling",
    "resolved",
    "failed",
    "closed",
}


async def test_a_bulk_demo_works_for_its_users(settings, client) -> None:
    await _seed(settings, bulk_after=BULK_AFTER)
    demo_cases = Case.filter(client_request_id__startswith="demo-")
    counts = Counter(str(s) for s in await demo_cases.values_list("status", flat=True))
    assert sum(counts.values()) == N_CASES
    assert STATUSES | {"followed_up"} >= set(counts) and counts.get("followed_up", 0) > N_CASES / 3
    cases_query = "query($s: [CaseStatus!]) { cases(first: 1, filter: {status: $s}) { totalCount } }"
    township_paths = {
        t: (await Center.get(code=f"330199{code}000")).path for t, (code, _) in enumerate(demo.TOWNSHIPS, 1)
    }
    for t, path in township_paths.items():
        for role in ("staff", "leader", "mediator"):
            user = await User.get(username=f"township{t}_{role}")
            token = issue_jwt(user.id, user.username)
            total = (await gql(client, token, cases_query, {"s": None}))["cases"]["totalCount"]
            assert total == await Case.filter(center_path__startswith=path).count() > 0, (t, role)
    county = await User.get(username="county_leader")
    token = issue_jwt(county.id, county.username)
    total = (await gql(client, token, cases_query, {"s": None}))["cases"]["totalCount"]
    assert total == await Case.all().count()  # with the cases the other demo generators make
    today = datetime.now(UTC).date()
    stats = await gql(
        client,
        token,
        """query($f: Date, $t: Date) { statistics(from: $f, to: $t) { received }
             hotSpots(from: $f, to: $t) { byGrid { key count } } }""",
        {"f": str(today - timedelta(days=400)), "t": str(today)},
    )
    assert stats["statistics"]["received"] == total
    assert sum(g["count"] for g in stats["hotSpots"]["byGrid"]) == await Case.exclude(grid_id=None).count()


async def test_an_id_number_the_services_took_since_the_last_flush_is_not_written_twice(settings) -> None:
    """A person the services made between two flushes holds an ID number a bulk applicant drew."""
    import random

    from zongzhi.platform.base.security import cipher
    from zongzhi.platform.wiring.demo_bulk import BulkWriter

    await _seed(settings, bulk_after=BULK_AFTER)
    before = await Case.all().count()
    world = await demo.load_world()
    rng = random.Random(7)
    writer = BulkWriter(world, NOW, rng)
    draws = [demo._draw_case(rng, 10_000 + i, NOW, world, [1] * len(world.grids)) for i in range(2)]
    assert await writer.add(draws[0])
    await writer.flush()
    taken = draws[1].data.parties[0].person.id_number
    c = cipher()
    await Person.create(name="先来的人", id_number_enc=c.encrypt(taken), id_number_hash=c.lookup_hash(taken))
    assert await writer.add(draws[1])
    await writer.flush()
    assert await Case.all().count() == before + 2
    applicant = await Person.get(parties__case__client_request_id="demo-10001", parties__role="applicant")
    assert applicant.id_number_hash != c.lookup_hash(taken)
    assert await Person.filter(id_number_hash=c.lookup_hash(taken)).count() == 1
