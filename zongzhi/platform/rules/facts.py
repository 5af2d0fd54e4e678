"""Turn a CaseEvent into the fact rules match on, enriched so every rule is a one-fact match.

The fact carries the event (``type``, ``payload``), the case's own fields at the top level
(``channel``, ``category``, ``tags``, ...), the owning center with its level and ancestors, the
grid, hours open, deadlines, and history counts over the last 90 days: for the parties
(``party.prior_cases_90d``, the highest of any party; ``party.same_pair_cases_90d``, earlier cases
between the same applicant and respondent), the address and the grid's category.

``FACT_FIELDS`` declares every path a rule may read, with its type: the published JSON Schema
(``fact_schema()``), the rule linter and the guide's reference table are all made from it, and a
test checks that the fact built here has exactly these paths. Plugins declare the payload fields of
their events through the ``zongzhi_fact_fields`` hook (``add_plugin_fields``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise
from tortoise.expressions import Subquery

from zongzhi.platform.base.codes import PartyRole
from zongzhi.platform.models import Case, CaseEvent, CaseParty, Center, Grid
from zongzhi.platform.rules.fact_time import FESTIVALS, time_fact

HISTORY = timedelta(days=90)

#: Field types a rule's operators are checked against (``list`` is a list of strings).
FIELD_TYPES = ("string", "number", "boolean", "list", "object", "any")


@dataclass(frozen=True)
class FactField:
    """One path of the fact: its type, what it means, its closed set of values if it has one."""

    type: str
    description: str
    values: tuple[str, ...] = ()
    source: str = "core"


def _f(type_: str, description: str, *values: str) -> FactField:
    return FactField(type_, description, tuple(values))


_LEVELS = ("village", "township", "county", "city", "province")
_STATUSES = (
    "received", "assessed", "dispatched", "handling", "resolved", "failed", "closed", "followed_up",
    "rejected", "withdrawn",
)  # fmt: skip

FACT_FIELDS: dict[str, FactField] = {
    "type": _f("string", "the event type (what `on` matched)"),
    "event_id": _f("number", "the event's id"),
    "depth": _f("number", "how many rule steps led to the event (0: a person's or partner's action)"),
    "payload": _f("object", "the event's own data; its fields are listed as `payload.*`"),
    "case_id": _f("number", "the case's id"),
    "number": _f("string", "the case number (案件编号)"),
    "title": _f("string", "the case's title"),
    "text": _f("string", "title and description together, for `regex` and `contains`"),
    "category": _f("string", "code: `neighbor`, `marriage_family`, `labor`, … and plugin categories"),
    "kind": _f("string", "`dispute`, `hazard`, `service`, `opinion`"),
    "channel": _f(
        "string",
        "`window`, `grid`, `hotline`, `online`, `court`, `police`, `petition`, `referral`, plugin channels",
    ),
    "severity": _f("number", "1 to 4"),
    "complexity": _f("string", "how hard the case is", "simple", "complex", "difficult"),
    "risk": _f("string", "the case's risk", "none", "low", "medium", "high"),
    "status": _f("string", "the case's status", *_STATUSES),
    "tags": _f("list", "the case's tags"),
    "address": _f("string", "the case's address"),
    "has_location": _f("boolean", "the case has coordinates"),
    "external": _f("boolean", "the case came from a partner plugin (court, police, petition, …)"),
    "hours_open": _f("number", "hours since the case was received"),
    "has_deadline": _f("boolean", "a resolve-by deadline is set"),
    "overdue": _f("boolean", "the resolve-by deadline has passed"),
    "center": _f("object", "the owning center"),
    "center.id": _f("number", "the owning center's id"),
    "center.code": _f("string", "the owning center's 12-digit code"),
    "center.level": _f("string", "the owning center's level", *_LEVELS),
    "center.ancestors": _f(
        "list",
        "codes of the centers from the top down to the owner "
        '(`center.ancestors: {contains: "330110001000"}` is "in 甲镇")',
    ),
    "center.has_parent": _f("boolean", "there is a center above to escalate to"),
    "grid": _f("object", "the case's grid; missing fields when it has none"),
    "grid.id": _f("number", "the case's grid id; missing when it has none"),
    "grid.code": _f("string", "the case's grid code; missing when it has none"),
    "party": _f("object", "counts over the case's parties"),
    "party.count": _f("number", "parties on the case, every role"),
    "party.applicants": _f("number", "applicants (申请人) on the case: `{gte: 5}` is a group dispute"),
    "party.respondents": _f("number", "respondents (被申请人) on the case"),
    "party.others": _f("number", "other parties (其他当事人) on the case"),
    "party.prior_cases_90d": _f(
        "number", "the most cases any party of this case had in the 90 days before it"
    ),
    "party.same_pair_cases_90d": _f(
        "number", "earlier cases in 90 days between the same applicant and respondent"
    ),
    "address_cases_90d": _f("number", "other cases at the same address in 90 days"),
    "grid_category_cases_90d": _f("number", "other cases of the same category in the same grid in 90 days"),
    "time": _f("object", "when the event happened, China time"),
    "time.date": _f("string", "the event's date, China time: `2027-01-15`"),
    "time.year": _f("number", "the event's year (China time)"),
    "time.month": _f("number", "the event's month, 1 to 12 (China time)"),
    "time.day": _f("number", "the event's day of the month (China time)"),
    "time.weekday": _f("number", "the event's weekday, 1 (Monday) to 7 (Sunday)"),
    "time.hour": _f("number", "the event's hour, 0 to 23 (China time)"),
    "time.is_workday": _f(
        "boolean", "the event's date is a working day (official calendar, 调休 and the center's closures)"
    ),
    "time.workdays_to_holiday": _f(
        "number", "working days after the event's date and before the next official holiday begins"
    ),
    "time.next_holiday": _f("string", "the festival whose official holiday begins next", *FESTIVALS),
    "time.days_to": _f("object", "days to each festival"),
    "time.days_since": _f("object", "days since each festival"),
    **{
        f"time.days_to.{name}": _f(
            "number", f"calendar days from the event's date to the first day of the next {label} holiday"
        )
        for name, label in FESTIVALS.items()
    },
    **{
        f"time.days_since.{name}": _f(
            "number", f"calendar days since the first day of the latest {label} holiday"
        )
        for name, label in FESTIVALS.items()
    },
    # The core's event payloads (services and rule actions write them).
    "payload.channel": _f("string", "`case.received`: the intake channel"),
    "payload.category": _f("string", "`case.received`: the category"),
    "payload.parties": _f("any", "`case.received`: the parties, `{person_id, role}` each"),
    "payload.reason": _f("string", "the reason given (`case.escalated`, `case.rejected`, `case.routed`, …)"),
    "payload.level": _f("string", "`case.supervised`, `case.risk_flagged`: the level"),
    "payload.note": _f("string", "a note (`case.accepted`, `case.progress`, `case.closed`, …)"),
    "payload.outcome": _f("string", "`case.resolved`, `case.failed`: the outcome"),
    "payload.next_step": _f("string", "`case.failed`: what happens next"),
    "payload.method": _f("string", "`case.followed_up`, `case.followup_required`: `visit` or `call`"),
    "payload.satisfaction": _f("number", "`case.followed_up`: satisfaction 1 to 5"),
    "payload.executed": _f("boolean", "`case.followed_up`: the agreement was carried out"),
    "payload.added": _f("list", "`case.tagged`: tags added"),
    "payload.removed": _f("list", "`case.tagged`: tags removed"),
    "payload.message": _f("string", "`case.notified`: the message"),
    "payload.departments": _f("list", "`case.whistle`: department codes summoned"),
    "payload.mode": _f("string", "`case.dispatched`, `case.assigned`: the assignment mode"),
    "payload.from": _f("string", "`case.reopened`: the status before"),
}


def add_plugin_fields(plugin: str, fields: dict[str, dict[str, Any]], into: dict[str, FactField]) -> None:
    """Declare a plugin's payload fields (``{"payload.x": {"type": ..., "description": ...}}``) in
    ``into``, the fact fields of the platform being built."""
    for path, spec in fields.items():
        if not path.startswith("payload.") or path in FACT_FIELDS:
            raise ValueError(f"plugin {plugin}: {path!r} is not a new payload.* field")
        if spec.get("type") not in FIELD_TYPES:
            raise ValueError(f"plugin {plugin}: {path!r} has no type among {FIELD_TYPES}")
        into.setdefault(
            path, FactField(spec["type"], spec.get("description", ""), tuple(spec.get("values", ())), plugin)
        )


def fact_fields(sources: set[str] | None = None) -> dict[str, FactField]:
    """Every path a rule may read: the core's and the loaded plugins' payload fields (or only those
    of ``sources``: ``core`` and plugin names)."""
    from zongzhi.platform.base.current import current

    every = {**FACT_FIELDS, **current().fact_fields}
    return every if sources is None else {p: f for p, f in every.items() if f.source in sources}


_JSON_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "string"}},
    "object": {"type": "object"},
    "any": {},
}


def fact_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the fact, nested by path; plugins' fields included."""
    root: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zongzhi rule fact",
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }
    for path, f in sorted(fact_fields().items()):
        node = root
        *parents, leaf = path.split(".")
        for part in parents:
            node = node["properties"].setdefault(
                part, {"type": "object", "properties": {}, "additionalProperties": part == "payload"}
            )
        entry = node["properties"].setdefault(leaf, {})
        entry.update(_JSON_TYPES[f.type])
        if f.type == "object":
            entry.setdefault("properties", {})
            entry.setdefault("additionalProperties", leaf == "payload")
        entry["description"] = f.description + (f" (plugin {f.source})" if f.source != "core" else "")
        if f.values:
            entry["enum"] = list(f.values)
    return root


def fact_table(sources: set[str] | None = None) -> str:
    """The guide's reference table of the fact (docs/rules.md), one row per path."""
    rows = ["| path | type | what |", "|---|---|---|"]
    for path, f in fact_fields(sources).items():
        if f.type == "object":
            continue
        what = f.description + (f"; one of {', '.join(f'`{v}`' for v in f.values)}" if f.values else "")
        if f.source != "core":
            what += f" (plugin `{f.source}`)"
        kind = {"list": "list of strings"}.get(f.type, f.type)
        rows.append(f"| `{path}` | {kind} | {what} |")
    return "\n".join(rows) + "\n"


# The party counts in one statement on PostgreSQL (the ORM's three to four queries, and building
# them, were a fifth of a worker's time per event), for one case or, joined laterally, for a
# worker's whole batch. The same numbers as ``_party_counts_orm``.
_PARTY_COUNTS = """
WITH p AS (SELECT person_id, role FROM case_party WHERE case_id = {case})
SELECT
  (SELECT count(*) FROM p) AS count,
  (SELECT count(DISTINCT person_id) FROM p WHERE role = 'applicant') AS applicants,
  (SELECT count(DISTINCT person_id) FROM p WHERE role = 'respondent') AS respondents,
  (SELECT count(DISTINCT person_id) FROM p WHERE role = 'other') AS others,
  (SELECT coalesce(max(n), 0) FROM (
      SELECT count(DISTINCT o.case_id) AS n FROM p
      JOIN case_party o ON o.person_id = p.person_id AND o.case_id <> {case}
      JOIN "case" c ON c.id = o.case_id AND c.created_at >= {since}
      GROUP BY p.person_id) per_party) AS prior_cases_90d,
  (SELECT count(DISTINCT r.id) FROM case_party r
      JOIN "case" c ON c.id = r.case_id AND c.created_at >= {since}
      WHERE r.case_id <> {case}
        AND r.person_id IN (SELECT person_id FROM p WHERE role = 'respondent')
        AND r.case_id IN (SELECT a.case_id FROM case_party a
                          WHERE a.person_id IN (SELECT person_id FROM p WHERE role = 'applicant'))
  ) AS same_pair_cases_90d
"""
_PARTY_COUNTS_PG = _PARTY_COUNTS.format(case="$1", since="$2")
_PARTY_COUNTS_MANY_PG = (
    "SELECT t.case_id, x.* FROM unnest($1::bigint[], $2::timestamptz[]) AS t(case_id, since) "
    f"CROSS JOIN LATERAL ({_PARTY_COUNTS.format(case='t.case_id', since='t.since')}) x"
)


def _postgres():
    conn = Tortoise.get_connection("default")
    return conn if conn.capabilities.dialect == "postgres" else None


async def _party_counts(case: Case, since: datetime) -> dict[str, int]:
    conn = _postgres()
    if conn is None:
        return await _party_counts_orm(case, since)
    row = (await conn.execute_query_dict(_PARTY_COUNTS_PG, [case.id, since]))[0]
    return {key: int(value) for key, value in row.items()}


async def party_counts_many(cases: list[Case]) -> dict[int, dict[str, int]]:
    """The ``party`` part of the fact of each case, by case id: one statement on PostgreSQL."""
    conn = _postgres()
    if conn is None:
        return {case.id: await _party_counts_orm(case, case.created_at - HISTORY) for case in cases}
    rows = await conn.execute_query_dict(
        _PARTY_COUNTS_MANY_PG, [[c.id for c in cases], [c.created_at - HISTORY for c in cases]]
    )
    return {row.pop("case_id"): {key: int(value) for key, value in row.items()} for row in rows}


async def _party_counts_orm(case: Case, since: datetime) -> dict[str, int]:
    parties = await CaseParty.filter(case_id=case.id).values("person_id", "role")
    prior = 0
    for p in parties:
        n = (
            await CaseParty.filter(person_id=p["person_id"], case__created_at__gte=since)
            .exclude(case_id=case.id)
            .distinct()
            .values_list("case_id", flat=True)
        )
        prior = max(prior, len(set(n)))
    applicants = [p["person_id"] for p in parties if p["role"] == PartyRole.applicant]
    respondents = [p["person_id"] for p in parties if p["role"] == PartyRole.respondent]
    same_pair = 0
    if applicants and respondents:
        with_applicant = CaseParty.filter(person_id__in=applicants).values("case_id")
        same_pair = (
            await CaseParty.filter(person_id__in=respondents, case_id__in=Subquery(with_applicant))
            .filter(case__created_at__gte=since)
            .exclude(case_id=case.id)
            .distinct()
            .count()
        )
    return {
        "count": len(parties),
        "applicants": len(set(applicants)),
        "respondents": len(set(respondents)),
        "others": len({p["person_id"] for p in parties if p["role"] == PartyRole.other}),
        "prior_cases_90d": prior,
        "same_pair_cases_90d": same_pair,
    }


@functools.lru_cache(maxsize=64)
def _prefixes(paths: frozenset[str]) -> frozenset[str]:
    """Every path the rules read and every prefix of one (``party`` for ``party.count``)."""
    parts = (p.split(".") for p in paths)
    return frozenset(".".join(split[:n]) for split in parts for n in range(1, len(split) + 1))


async def _read_centers(ids: list[int]) -> dict[int, Center]:
    """Centers by id in one plain statement (the ORM's query building cost more than the read)."""
    if not ids:
        return {}
    conn = Tortoise.get_connection("default")
    unique = sorted(set(ids))
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query('SELECT * FROM "center" WHERE "id" = ANY($1::int[])', [unique])
    else:
        marks = ", ".join("?" * len(unique))
        _, rows = await conn.execute_query(f'SELECT * FROM "center" WHERE "id" IN ({marks})', unique)
    centers = (Center._init_from_db(**dict(row)) for row in rows)
    return {c.id: c for c in centers}


async def _centers(ids: list[int], known: dict[int, Center] | None) -> dict[int, Center]:
    """Centers by id; with ``known`` (a batch's), read only the ones it lacks and keep them there."""
    if known is None:
        return await _read_centers(ids)
    missing = [i for i in ids if i not in known]
    if missing:
        known.update(await _read_centers(missing))
    return known


async def build_fact(
    event: CaseEvent,
    case: Case | None = None,
    paths: frozenset[str] | None = None,
    centers: dict[int, Center] | None = None,
    party: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The fact for ``event``. With ``paths`` (what the active rules read), the history counts no
    rule reads are left out: they are the costly part, and most rulesets never look at them.
    ``centers``: centers already read (a batch of events shares them; a center changes rarely, and a
    batch is one transaction of a few hundred milliseconds). ``party``: the case's party counts,
    read with a batch's (``party_counts_many``)."""

    read = _prefixes(paths) if paths is not None else None

    def wanted(prefix: str) -> bool:
        return read is None or prefix in read

    case = case or await Case.get(id=event.case_id)
    now = datetime.now(UTC)
    since = case.created_at - HISTORY
    # The case's center path lists the ids of its center and every ancestor: one query for all.
    chain_ids = [int(p) for p in case.center_path.strip("/").split("/") if p]
    by_id = await _centers([*chain_ids, case.center_id], centers)
    center = by_id[case.center_id]
    if center.path != case.center_path:  # a stale copy of the path: the center's own is the truth
        chain_ids = [int(p) for p in center.path.strip("/").split("/") if p]
        by_id = await _centers(chain_ids, centers)
    chain = [by_id[i] for i in chain_ids if i in by_id]
    grid_fact: dict[str, Any] = {}
    if case.grid_id:
        grid_fact["id"] = case.grid_id
        if wanted("grid.code"):
            grid_fact["code"] = (await Grid.get(id=case.grid_id)).code
    address_cases = 0
    if case.address and wanted("address_cases_90d"):
        address_cases = (
            await Case.filter(address=case.address, created_at__gte=since).exclude(id=case.id).count()
        )
    grid_category = 0
    if case.grid_id and wanted("grid_category_cases_90d"):
        grid_category = (
            await Case.filter(grid_id=case.grid_id, category=case.category, created_at__gte=since)
            .exclude(id=case.id)
            .count()
        )
    if not wanted("party"):
        party = {}
    elif party is None:
        party = await _party_counts(case, since)
    return {
        "type": event.type,
        "event_id": event.id,
        "depth": event.depth,
        "payload": event.payload,
        "case_id": case.id,
        "number": case.number,
        "title": case.title,
        "text": f"{case.title} {case.description}",
        "category": case.category,
        "kind": case.kind,
        "channel": case.channel,
        "severity": case.severity,
        "complexity": case.complexity,
        "risk": str(case.risk),
        "status": str(case.status),
        "tags": list(case.tags),
        "address": case.address,
        "has_location": case.lat is not None and case.lng is not None,
        "external": case.external_channel is not None,
        "hours_open": round((now - case.created_at).total_seconds() / 3600, 2),
        "has_deadline": case.resolve_by is not None,
        "overdue": bool(case.resolve_by and case.resolve_by < now),
        "center": {
            "id": center.id,
            "code": center.code,
            "level": str(center.level),
            "ancestors": [c.code for c in chain],
            "has_parent": center.parent_id is not None,
        },
        "grid": grid_fact,
        "party": party,
        "time": await time_fact(
            event.at,
            chain_ids,
            workdays=any(wanted(f"time.{p}") for p in ("is_workday", "workdays_to_holiday", "next_holiday")),
            festivals=wanted("time.days_to") or wanted("time.days_since"),
        ),
        "address_cases_90d": address_cases,
        "grid_category_cases_90d": grid_category,
    }
