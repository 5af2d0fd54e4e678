"""The bulk part of a large demo: cases written with multi-row inserts instead of one service call per step.

A demo of 20,000 cases through the services takes ~40 ms of CPU a case (about 108 statements: every
step loads, checks, writes and evaluates the rules). Past the first cases (``demo.BULK_AFTER``) the
demo draws each case exactly as before (same inputs, same walk, same back-dated times) and writes
the rows the services would have left behind, a few hundred cases per statement: the people with
their ID and phone numbers encrypted and hashed by the real PII cipher, the case and its parties,
the timeline of CaseEvents with their outbox rows (marked published and processed), assignments
and follow-ups, and the rule decisions.

Decisions are computed, not copied: the real rules engine evaluates the active rulesets on each
event's fact (built in memory with the same fields as :func:`zongzhi.platform.rules.facts.build_fact`),
and a deadline is counted on the real work calendar. What this writer cannot reproduce it refuses
(:meth:`BulkWriter.add` returns False) and the demo sends that case through the services instead:
an action other than ``route`` (to the case's own center) or ``deadline``, a rule listening to a
later step, or a rule reading a fact the in-memory fact leaves out (history counts, the payload).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from zongzhi.platform.base import pii
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, FollowUpMethod, PartyRole, Risk, UnitKind
from zongzhi.platform.base.security import cipher
from zongzhi.platform.domain.workdays import add_span
from zongzhi.platform.models import (
    Assignment,
    Case,
    CaseCounter,
    CaseEvent,
    CaseParty,
    Center,
    Decision,
    FollowUp,
    Outbox,
    Person,
)
from zongzhi.platform.rules import get_engine
from zongzhi.platform.rules.evaluation import active_versions
from zongzhi.platform.rules.fact_time import time_fact
from zongzhi.platform.services.outbox import EVENT_TOPIC
from zongzhi.platform.wiring import demo

if TYPE_CHECKING:
    import random

#: Fact paths the in-memory fact carries exactly as ``build_fact`` would (prefixes).
EXACT_PATHS = (
    "type",
    "depth",
    "title",
    "text",
    "category",
    "kind",
    "channel",
    "severity",
    "complexity",
    "risk",
    "status",
    "tags",
    "address",
    "has_location",
    "external",
    "hours_open",
    "has_deadline",
    "overdue",
    "center",
    "grid",
    "party",
    "payload",
    "time",
)
#: ... except these (the person ids in the received payload are given only when the rows are written).
INEXACT_PATHS = ("payload.parties",)
#: Rows per INSERT statement (SQLite allows 32,766 parameters; the widest table has ~40 columns).
BATCH = 500


@dataclass
class Event:
    type: str
    at: datetime
    actor: str | None  # a demo user's name; None for a rule
    payload: dict[str, Any]
    depth: int = 0
    rule: str | None = None
    label: str = ""
    cause: int | None = None  # index of the causing event in the same case


@dataclass
class Draft:
    """One case to write: its draw, timeline, decisions and final columns, ids still to be given."""

    draw: Any
    events: list[Event] = field(default_factory=list)
    decisions: list[tuple[int, str, int, str, int, str, dict]] = field(default_factory=list)
    """(event index, ruleset, version, rule id, action index, action, params)."""
    respond_by: datetime | None = None
    deadline_note: str = ""
    due: datetime | None = None


class BulkWriter:
    def __init__(self, world: demo.World, now: datetime, rng: random.Random) -> None:
        self.world, self.now, self.rng = world, now, rng
        self.drafts: list[Draft] = []
        self.county = world.county
        self.centers: dict[int, Center] = {c.id: c for c in [world.county, *world.townships, *world.villages]}
        self.spans: dict[tuple, tuple[datetime, list[str]]] = {}
        #: ID number hashes taken: by earlier bulk rows, and by people the services made meanwhile.
        self.hashes: set[str] = set()
        self.counters: dict[str, int] = {}
        self._dirty: set[str] = set()

    # --- drawing: everything but the ids ----------------------------------------------------

    async def add(self, draw: demo.CaseDraw) -> bool:
        """Plan ``draw`` for the next flush; False when its rules do something not reproduced here."""
        active = active_versions()
        versions = await active.get()
        if not all(_within(p, EXACT_PATHS) and not _within(p, INEXACT_PATHS) for p in active.paths):
            return False
        if active.event_types - {"case.received", "case.assessed", "case.overdue"}:
            return False
        walk, w = draw.walk, self.world
        grid, village = draw.grid, self.centers[draw.grid.center_id]
        draft = Draft(draw)
        filer = w.users[draw.filer]
        draft.events.append(Event("case.received", draw.received, draw.filer, {}, label=filer.display_name))
        state = {"status": "received", "risk": "none", "resolve_by": None}
        if not await self._rules(draft, 0, versions, state, village, grid):
            return False
        staff = f"township{draw.township_index}_staff"
        stop = walk.stop
        if stop == "withdrawn":
            self._step(draft, "case.withdrawn", staff, {"reason": demo.WITHDRAW_REASON})
        elif stop != "received":
            self._step(draft, "case.assessed", staff, {"risk": str(walk.risk), "note": ""})
            state |= {"status": "assessed", "risk": str(walk.risk)}
            if not await self._rules(draft, len(draft.events) - 1, versions, state, village, grid):
                return False
            draft.due = state["resolve_by"]
            if stop == "rejected":
                self._step(draft, "case.rejected", staff, {"reason": demo.REJECT_REASON})
            elif stop != "assessed":
                handler = (
                    f"township{draw.township_index}_mediator"
                    if walk.handler == "mediator"
                    else f"{walk.handler}_officer"
                )
                self._step(draft, "case.dispatched", staff, {})  # units are filled in with the ids
                if stop != "dispatched":
                    self._step(draft, "case.accepted", handler, {})
                    self._step(draft, "case.progress", handler, {"note": demo.PROGRESS_NOTE})
                if stop in {"resolved", "failed", "closed", "followed_up"}:
                    if walk.failed:
                        payload = {"outcome": demo.FAIL_OUTCOME, "next_step": walk.next_step}
                        self._step(draft, "case.failed", handler, payload)
                    else:
                        amount = str(Decimal(walk.amount)) + ".00" if walk.amount is not None else None
                        payload = {
                            "outcome": demo.RESOLVE_OUTCOME,
                            "agreement": demo.AGREEMENT,
                            "amount": amount,
                        }
                        self._step(draft, "case.resolved", handler, payload)
                if stop in {"closed", "followed_up"}:
                    self._step(draft, "case.closed", staff, {"note": ""})
                if stop == "followed_up":
                    payload = {
                        "satisfaction": walk.satisfaction,
                        "executed": walk.executed,
                        "method": FollowUpMethod.call.value,
                        "note": "",
                    }
                    self._step(draft, "case.followed_up", f"village{draw.village_index}_grid", payload)
        self.drafts.append(draft)
        return True

    def _step(self, draft: Draft, event_type: str, actor: str, payload: dict) -> None:
        at = min(draft.events[-1].at + demo.event_gap(self.rng, event_type), self.now)
        draft.events.append(Event(event_type, at, actor, payload, label=self.world.users[actor].display_name))

    async def _rules(self, draft: Draft, index: int, versions, state: dict, village: Center, grid) -> bool:
        """Evaluate the active rulesets on event ``index`` and plan what they do, as the evaluator would."""
        event = draft.events[index]
        if event.type not in active_versions().event_types:
            return True
        fact = await self._fact(draft, event, state, village, grid)
        for firing in get_engine().evaluate(fact, versions):
            rule_key = f"{firing.ruleset}/{firing.rule_id}"
            label = f"规则 {rule_key} v{firing.version}"
            for i, (name, params) in enumerate(firing.actions):
                if name == "route":
                    if not await self._routes_home(params, village):
                        return False
                    result: dict = {"center": village.code, "moved": False}
                elif name == "deadline":
                    if "case.deadline_set" in active_versions().event_types:
                        return False
                    result = await self._deadline(draft, index, params, state, village, rule_key, label)
                else:
                    return False
                draft.decisions.append(
                    (
                        index,
                        firing.ruleset,
                        firing.version,
                        firing.rule_id,
                        i,
                        name,
                        params | {"result": result},
                    )
                )
        return True

    async def _routes_home(self, params: dict, village: Center) -> bool:
        """True when a route action would leave the case where it is (the grid's village)."""
        return params.get("to") == "village_of_grid"

    async def _deadline(
        self, draft: Draft, index: int, params: dict, state: dict, village: Center, rule_key: str, label: str
    ) -> dict:
        event = draft.events[index]
        start = draft.draw.received if event.type == "case.received" else event.at
        chain = [int(p) for p in village.path.strip("/").split("/") if p]
        respond_by = resolve_by = None
        notes: list[str] = []
        if "respond_in" in params:
            respond_by, n = await self._span(start, params["respond_in"], chain)
            notes += n
        if "resolve_in" in params:
            resolve_by, n = await self._span(start, params["resolve_in"], chain)
            notes += n
        note = "；".join(dict.fromkeys(notes))
        if respond_by is not None:
            draft.respond_by = respond_by
        if resolve_by is not None:
            state["resolve_by"] = resolve_by
        draft.deadline_note = note[:200]
        payload = {
            "respond_by": draft.respond_by.isoformat() if draft.respond_by else None,
            "resolve_by": state["resolve_by"].isoformat() if state["resolve_by"] else None,
            "note": note,
        }
        at = min(draft.events[-1].at + demo.event_gap(self.rng, "case.deadline_set"), self.now)
        draft.events.append(Event("case.deadline_set", at, None, payload, 1, rule_key, label, index))
        return {
            "respond_by": respond_by.isoformat() if respond_by else None,
            "resolve_by": resolve_by.isoformat() if resolve_by else None,
            "notes": notes,
        }

    async def _span(self, start: datetime, span: dict, chain: list[int]) -> tuple[datetime, list[str]]:
        """``workdays.add_span``, remembered per start day (China time) and span."""
        key = (
            start.isoformat() if "hours" in span else (start.astimezone(UTC) + timedelta(hours=8)).date(),
            json.dumps(span),
            *chain,
        )
        if "hours" in span or key not in self.spans:
            deadline = await add_span(start, span, chain)
            if "hours" in span:
                return deadline.at, deadline.notes
            self.spans[key] = (deadline.at, deadline.notes)
        at, notes = self.spans[key]
        return at, list(notes)

    async def _fact(self, draft: Draft, event: Event, state: dict, village: Center, grid) -> dict[str, Any]:
        """The fields of ``facts.build_fact`` the rules may read here (``EXACT_PATHS``).

        ``time`` is the event's back-dated time (the services saw the moment of seeding).
        """
        data = draft.draw.data
        chain_ids = [int(p) for p in village.path.strip("/").split("/") if p]
        chain = [self.centers.get(i) for i in chain_ids]
        paths = active_versions().paths

        def wanted(prefix: str) -> bool:
            return any(p == prefix or p.startswith(prefix + ".") for p in paths)

        roles = [str(p.role) for p in data.parties]
        resolve_by = state["resolve_by"]
        return {
            "type": event.type,
            "depth": event.depth,
            "payload": event.payload
            if event.type != "case.received"
            else {"channel": data.channel, "category": data.category, "parties": []},
            "title": data.title,
            "text": f"{data.title} {data.description}",
            "category": data.category,
            "kind": data.kind,
            "channel": data.channel,
            "severity": data.severity,
            "complexity": data.complexity,
            "risk": state["risk"],
            "status": state["status"],
            "tags": sorted(set(data.tags)),
            "address": data.address,
            "has_location": False,
            "external": False,
            "hours_open": round((self.now - draft.draw.received).total_seconds() / 3600, 2),
            "has_deadline": resolve_by is not None,
            "overdue": bool(resolve_by and resolve_by < self.now),
            "center": {
                "id": village.id,
                "code": village.code,
                "level": str(village.level),
                "ancestors": [c.code for c in chain if c is not None],
                "has_parent": village.parent_id is not None,
            },
            "grid": {"id": grid.id, "code": grid.code},
            # Every demo person is new (ID numbers are unique), so no party has earlier cases.
            "party": {
                "count": len(roles),
                "applicants": roles.count(str(PartyRole.applicant)),
                "respondents": roles.count(str(PartyRole.respondent)),
                "others": roles.count(str(PartyRole.other)),
                "prior_cases_90d": 0,
                "same_pair_cases_90d": 0,
            },
            "time": await time_fact(
                event.at,
                chain_ids,
                workdays=any(
                    wanted(f"time.{p}") for p in ("is_workday", "workdays_to_holiday", "next_holiday")
                ),
                festivals=wanted("time.days_to") or wanted("time.days_since"),
            ),
        }

    # --- writing ------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write the planned cases: a few statements per table, ids following the tables' highest."""
        if not self.drafts:
            return
        drafts, self.drafts = self.drafts, []
        async with in_transaction() as conn:
            await self._write(conn, drafts)

    async def _write(self, conn, drafts: list[Draft]) -> None:
        ids = {m: await _max_id(conn, m) for m in (Person, Case, CaseParty, CaseEvent, Outbox, Decision)}
        ids |= {m: await _max_id(conn, m) for m in (Assignment, FollowUp)}
        c = cipher()
        await self._known_hashes(conn, drafts, c)
        await self._load_counters(conn, drafts)
        rows: dict[type, list] = {m: [] for m in ids}
        stamp = datetime.now(UTC)
        for draft in drafts:
            self._rows(draft, ids, rows, c, stamp)
        for model in (Person, Case, CaseParty, CaseEvent, Outbox, Decision, Assignment, FollowUp):
            if rows[model]:
                await model.bulk_create(rows[model], batch_size=BATCH, using_db=conn)
        # auto_now puts "now" into updated_at on insert: give the cases their last event's time.
        updated = Case._meta.fields_map["updated_at"]
        await conn.execute_many(
            f'UPDATE "case" SET updated_at = {_mark(conn, 1)} WHERE id = {_mark(conn, 2)}',
            [[updated.to_db_value(case._demo_updated, None), case.id] for case in rows[Case]],
        )
        await self._save_counters(conn)
        if conn.capabilities.dialect == "postgres":
            for model in ids:
                table = model._meta.db_table
                await conn.execute_query(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )

    async def _known_hashes(self, conn, drafts: list[Draft], c) -> None:
        """Add the hashes of this batch's ID numbers that people in the database already have.

        The services made people since the last flush (every ``EVIDENCE_EVERY``-th case), and two
        random ID numbers may be the same: such an applicant is drawn a new number below.
        """
        wanted = [
            c.lookup_hash(pii.normalise_id_number(party.person.id_number))
            for draft in drafts
            for party in draft.draw.data.parties
            if party.person is not None and party.person.id_number
        ]
        for start in range(0, len(wanted), BATCH):
            query = Person.filter(id_number_hash__in=wanted[start : start + BATCH]).using_db(conn)
            self.hashes.update(await query.values_list("id_number_hash", flat=True))

    async def _load_counters(self, conn, drafts: list[Draft]) -> None:
        scopes = {self._scope(d) for d in drafts} - set(self.counters)
        if scopes:
            query = CaseCounter.filter(scope__in=list(scopes)).using_db(conn)
            found = dict(await query.values_list("scope", "seq"))
            self.counters |= {s: found.get(s, 0) for s in scopes}

    def _scope(self, draft: Draft) -> str:
        return f"{self.county.code[:6]}-{draft.draw.received.astimezone(UTC):%Y%m%d}"

    async def _save_counters(self, conn) -> None:
        dirty = self._dirty
        if not dirty:
            return
        mark1, mark2 = _mark(conn, 1), _mark(conn, 2)
        await conn.execute_many(
            f"INSERT INTO case_counter (scope, seq) VALUES ({mark1}, {mark2}) "
            "ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq",
            [[scope, self.counters[scope]] for scope in sorted(dirty)],
        )
        dirty.clear()
        # The next real case reads its counter from the table: forget ours so a later flush re-reads.
        self.counters.clear()

    def _rows(self, draft: Draft, ids: dict, rows: dict, c, stamp: datetime) -> None:
        draw, walk, w = draft.draw, draft.draw.walk, self.world
        data = draw.data
        village = self.centers[draw.grid.center_id]
        grid = draw.grid

        def next_id(model: type) -> int:
            ids[model] += 1
            return ids[model]

        parties = []
        for party in data.parties:
            p = party.person
            id_number = pii.normalise_id_number(p.id_number) if p.id_number else None
            id_hash = c.lookup_hash(id_number) if id_number else None
            while id_hash is not None and id_hash in self.hashes:  # one resident, one record: draw anew
                id_number = demo._id_number(self.rng, "330199")
                id_hash = c.lookup_hash(id_number)
            if id_hash:
                self.hashes.add(id_hash)
            phone = pii.normalise_phone(p.phone) if p.phone else None
            person = Person(
                id=next_id(Person),
                name=p.name.strip(),
                id_number_enc=c.encrypt(id_number) if id_number else None,
                id_number_hash=id_hash,
                phone_enc=c.encrypt(phone) if phone else None,
                phone_hash=c.lookup_hash(phone) if phone else None,
                address=p.address,
                grid_id=p.grid_id,
                created_at=stamp,
            )
            rows[Person].append(person)
            parties.append({"person_id": person.id, "role": str(party.role)})
        scope = self._scope(draft)
        self.counters[scope] += 1
        self._dirty.add(scope)
        day = draw.received.astimezone(UTC).strftime("%Y%m%d")
        case = Case(
            id=next_id(Case),
            number=f"ZZ-{scope[:6]}-{day}-{self.counters[scope]:05d}",
            title=data.title.strip(),
            description=data.description,
            category=data.category,
            kind=data.kind,
            channel=data.channel,
            severity=data.severity,
            complexity=data.complexity,
            center_id=village.id,
            center_path=village.path,
            grid_id=grid.id,
            address=data.address,
            tags=sorted(set(data.tags)),
            created_by_id=w.users[draw.filer].id,
            client_request_id=data.client_request_id,
            created_at=draw.received,
            respond_by=draft.respond_by,
            deadline_note=draft.deadline_note,
        )
        days = {"simple": 1, "complex": 7, "difficult": 30}[data.complexity]
        case.resolve_by = draw.received + timedelta(days=days)  # as demo._backdate leaves it
        for entry in parties:
            rows[CaseParty].append(
                CaseParty(
                    id=next_id(CaseParty),
                    case_id=case.id,
                    person_id=entry["person_id"],
                    role=PartyRole(entry["role"]),
                )
            )
        assignment: Assignment | None = None
        event_ids: list[int] = []
        first: dict[str, datetime] = {}
        for event in draft.events:
            payload = event.payload
            if event.type == "case.received":
                payload = {"channel": data.channel, "category": data.category, "parties": parties}
            elif event.type == "case.dispatched":
                assignment = self._assignment(draft, case, event, next_id(Assignment))
                rows[Assignment].append(assignment)
                payload = {"mode": str(assignment.mode), "units": [_unit_payload(assignment)], "note": ""}
            elif event.type == "case.accepted":
                assignment.accepted_at = event.at
                payload = {"assignment_id": assignment.id, "note": ""}
            elif event.type in {"case.resolved", "case.failed"} and assignment is not None:
                assignment.finished_at = event.at
            row = CaseEvent(
                id=next_id(CaseEvent),
                case_id=case.id,
                type=event.type,
                actor_id=w.users[event.actor].id if event.actor else None,
                actor_label=event.label,
                payload=payload,
                cause_id=event_ids[event.cause] if event.cause is not None else None,
                depth=event.depth,
                rule=event.rule,
                at=event.at,
            )
            event_ids.append(row.id)
            first.setdefault(event.type, event.at)
            rows[CaseEvent].append(row)
            rows[Outbox].append(
                Outbox(
                    id=next_id(Outbox),
                    event_id=row.id,
                    topic=EVENT_TOPIC,
                    payload={"event_id": row.id, "case_id": case.id, "type": row.type},
                    created_at=stamp,
                    published_at=stamp,
                    processed_at=stamp,
                )
            )
        for index, ruleset, version, rule_id, action_index, action, params in draft.decisions:
            rows[Decision].append(
                Decision(
                    id=next_id(Decision),
                    event_id=event_ids[index],
                    case_id=case.id,
                    ruleset=ruleset,
                    version=version,
                    rule_id=rule_id,
                    action_index=action_index,
                    action=action,
                    params=params,
                    at=stamp,
                )
            )
        self._finish(case, walk, first)
        if "case.followed_up" in first:
            rows[FollowUp].append(
                FollowUp(
                    id=next_id(FollowUp),
                    case_id=case.id,
                    method=FollowUpMethod.call,
                    satisfaction=walk.satisfaction,
                    executed=walk.executed,
                    note="",
                    by_id=w.users[f"village{draw.village_index}_grid"].id,
                    at=first["case.followed_up"],
                )
            )
        case.last_event_id = event_ids[-1]
        case._demo_updated = draft.events[-1].at
        rows[Case].append(case)

    def _assignment(self, draft: Draft, case: Case, event: Event, assignment_id: int) -> Assignment:
        walk = draft.draw.walk
        if walk.handler == "mediator":
            user = self.world.users[f"township{draft.draw.township_index}_mediator"]
            return Assignment(
                id=assignment_id,
                case_id=case.id,
                unit_kind=UnitKind.user,
                user_id=user.id,
                mode=AssignmentMode.self_handle,
                lead=True,
                due=draft.due,
                created_at=event.at,
            )
        return Assignment(
            id=assignment_id,
            case_id=case.id,
            unit_kind=UnitKind.department,
            department_id=self.world.depts[walk.handler].id,
            mode=AssignmentMode.transfer,
            lead=True,
            due=draft.due,
            created_at=event.at,
        )

    @staticmethod
    def _finish(case: Case, walk: demo.Walk, first: dict[str, datetime]) -> None:
        """The case's columns as the services leave them at the walk's stop."""
        status = {
            "case.received": CaseStatus.received,
            "case.assessed": CaseStatus.assessed,
            "case.rejected": CaseStatus.rejected,
            "case.withdrawn": CaseStatus.withdrawn,
            "case.dispatched": CaseStatus.dispatched,
            "case.accepted": CaseStatus.handling,
            "case.resolved": CaseStatus.resolved,
            "case.failed": CaseStatus.failed,
            "case.closed": CaseStatus.closed,
            "case.followed_up": CaseStatus.followed_up,
        }
        case.status = CaseStatus.received
        for event_type, value in status.items():
            if event_type in first:
                case.status = value
        if "case.assessed" in first:
            case.risk = Risk(walk.risk)
        if "case.rejected" in first:
            case.reject_reason = demo.REJECT_REASON
        if "case.accepted" in first:
            case.accepted_at = first["case.accepted"]
        ends = ("case.resolved", "case.failed", "case.rejected", "case.withdrawn")
        case.concluded_at = next((first[t] for t in ends if t in first), None)
        if "case.failed" in first:
            case.outcome = demo.FAIL_OUTCOME
        if "case.resolved" in first:
            case.outcome, case.agreement = demo.RESOLVE_OUTCOME, demo.AGREEMENT
            case.amount = Decimal(walk.amount) if walk.amount is not None else None
        if "case.closed" in first:
            case.closed_at = first["case.closed"]
        if "case.followed_up" in first:
            case.satisfaction, case.executed = walk.satisfaction, walk.executed


def _unit_payload(a: Assignment) -> dict:
    return {
        "assignment_id": a.id,
        "unit_kind": str(a.unit_kind),
        "center_id": None,
        "department_id": a.department_id,
        "user_id": a.user_id,
        "mode": str(a.mode),
        "lead": True,
    }


def _within(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _mark(conn, n: int) -> str:
    return f"${n}" if conn.capabilities.dialect == "postgres" else "?"


async def _max_id(conn, model: type) -> int:
    rows = await conn.execute_query_dict(f'SELECT COALESCE(MAX(id), 0) AS top FROM "{model._meta.db_table}"')
    return int(rows[0]["top"])
