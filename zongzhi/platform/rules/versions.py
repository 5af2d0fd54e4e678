"""Rule authoring: drafts, simulation, activation and rollback, without a redeploy.

A draft is validated and compiled when saved, so a version in the database always compiles. At
most one version of a ruleset is active; activating another (newer or older: that is rollback)
retires the current one in the same transaction, and workers pick it up on their next refresh.

A ruleset belongs to a center (``Ruleset.center``; none: the root of the center tree, as for
``core`` and the plugins' rulesets). Only a rule author whose center is the owner or above it (or
an admin without a center, or the platform itself) saves or activates its versions; a new ruleset
belongs to its first author's center. Ownership decides who changes a ruleset, not what it
governs: every active version is evaluated on every event, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.current import current
from zongzhi.platform.base.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import AuditLog, CaseEvent, Center, Ruleset, RulesetVersion
from zongzhi.platform.models.db import lock_for_transaction
from zongzhi.platform.rules import Firing, RulesetInvalid, compile_ruleset, parse_ruleset, simulate
from zongzhi.platform.rules.examples import run_examples
from zongzhi.platform.rules.facts import build_fact, fact_fields


class RulesetRejected(ServiceError):
    """A draft that does not validate; ``errors`` lists each problem with its rule, field and line."""

    code = "RULESET_INVALID"

    def __init__(self, invalid: RulesetInvalid) -> None:
        errors = [
            {"rule": e.rule_id, "field": e.field_path, "message": e.message, "line": e.line}
            for e in invalid.errors
        ]
        first = errors[0] if errors else {}
        super().__init__(str(invalid), field=first.get("field"), details={"errors": errors})


def require_author(actor: Actor) -> None:
    if not actor.has(Role.rule_author, Role.admin):
        raise Forbidden("rule authoring needs the rule_author role")


async def owner_path(ruleset: Ruleset) -> str | None:
    """The path of the center that owns the ruleset; ``None`` for the root of the center tree."""
    if ruleset.center_id is None:
        return None
    return (await Center.get(id=ruleset.center_id)).path


async def require_owner(actor: Actor | None, ruleset: Ruleset) -> None:
    """Refuse unless ``actor`` may change ``ruleset`` (its center's subtree holds the owner)."""
    if actor is None or actor.system or (actor.has(Role.admin) and actor.center_path is None):
        return
    owner = await owner_path(ruleset)
    if actor.center_path is None:
        allowed = False
    elif owner is None:  # the root's: authors of a root center (a center with no parent)
        allowed = actor.center_path.count("/") == 2
    else:
        allowed = owner.startswith(actor.center_path)
    if not allowed:
        raise Forbidden(f"ruleset {ruleset.name!r} belongs to a center above or beside yours", field="name")


def parse_source(source: str | dict[str, Any], **options: Any) -> Any:
    """Parse a ruleset in the running platform's language: its plugins' event types and actions."""
    platform = current()
    return parse_ruleset(
        source, extra_event_types=platform.codes.extra_event_types, registry=platform.actions, **options
    )


def compile_source(source: str, expected_name: str | None = None) -> tuple[str, dict[str, Any]]:
    """Validate and compile YAML; returns (ruleset name, compiled form). Raises ``RulesetRejected``."""
    try:
        parsed = parse_source(source, fields=fact_fields())
    except RulesetInvalid as invalid:
        raise RulesetRejected(invalid) from None
    if expected_name is not None and parsed.name != expected_name:
        raise ValidationFailed(
            f"the source declares ruleset {parsed.name!r}, not {expected_name!r}", field="source.ruleset"
        )
    try:
        compiled = compile_ruleset(parsed).to_dict()
        failed = run_examples(parsed, source, fact_fields())
    except RulesetInvalid as invalid:  # too complex for the engine: an author's error like the others
        raise RulesetRejected(invalid) from None
    if failed:
        raise RulesetRejected(RulesetInvalid(failed))
    return parsed.name, compiled


def check_examples(source: str) -> None:
    """Run a stored version's ``tests:`` again (before activation); raises ``RulesetRejected``."""
    try:
        failed = run_examples(parse_source(source), source)
    except RulesetInvalid as invalid:
        raise RulesetRejected(invalid) from None
    if failed:
        raise RulesetRejected(RulesetInvalid(failed))


async def save_draft(
    actor: Actor | None, name: str, source: str, *, owner_plugin: str | None = None
) -> RulesetVersion:
    """Store a new draft version (actor ``None``: a plugin installing its own ruleset)."""
    if actor is not None:
        require_author(actor)
    _, compiled = compile_source(source, expected_name=name)
    async with in_transaction():
        center_id = actor.center_id if actor is not None and not actor.system else None
        ruleset, _ = await Ruleset.get_or_create(
            name=name, defaults={"owner_plugin": owner_plugin, "center_id": center_id}
        )
        await require_owner(actor, ruleset)
        last = await RulesetVersion.filter(ruleset=ruleset).order_by("-version").first()
        version = await RulesetVersion.create(
            ruleset=ruleset,
            version=(last.version + 1) if last else 1,
            source=source,
            compiled=compiled,
            author_id=actor.user_id if actor else None,
        )
        await AuditLog.create(
            actor_id=actor.user_id if actor else None,
            action="ruleset.draft",
            target=f"{name} v{version.version}",
        )
    return version


async def get_version(name: str, version: int) -> RulesetVersion:
    row = await RulesetVersion.get_or_none(ruleset__name=name, version=version).select_related("ruleset")
    if row is None:
        raise NotFound(f"no version {version} of ruleset {name!r}", field="version")
    return row


async def activate(actor: Actor | None, name: str, version: int, reason: str = "") -> RulesetVersion:
    """Make ``version`` the active one (rollback is activating an older version); who and why are kept."""
    if actor is not None:
        require_author(actor)
    row = await get_version(name, version)
    await require_owner(actor, row.ruleset)
    check_examples(row.source)  # a version whose examples fail is never activated
    async with in_transaction():
        now = datetime.now(UTC)
        await (
            RulesetVersion.filter(ruleset_id=row.ruleset_id, status="active")
            .exclude(id=row.id)
            .update(status="retired")
        )
        row.status, row.activated_at = "active", now
        row.activated_by_id = actor.user_id if actor else None
        row.activation_reason = reason.strip()[:2000]
        await row.save(update_fields=["status", "activated_at", "activated_by_id", "activation_reason"])
        await AuditLog.create(
            actor_id=actor.user_id if actor else None,
            action="ruleset.activate",
            target=f"{name} v{version}",
            details={"reason": row.activation_reason},
        )
    current().active_versions.invalidate()
    return row


async def set_enabled(actor: Actor, name: str, enabled: bool, reason: str = "") -> Ruleset:
    """Switch a ruleset off (its active version stays, but is not evaluated) or on again."""
    require_author(actor)
    ruleset = await Ruleset.get_or_none(name=name)
    if ruleset is None:
        raise NotFound(f"no ruleset {name!r}", field="name")
    await require_owner(actor, ruleset)
    async with in_transaction():
        ruleset.enabled = enabled
        await ruleset.save(update_fields=["enabled"])
        await AuditLog.create(
            actor_id=actor.user_id,
            action="ruleset.enable" if enabled else "ruleset.disable",
            target=name,
            details={"reason": reason.strip()[:2000]},
        )
    current().active_versions.invalidate()
    return ruleset


async def install(name: str, source: str, owner_plugin: str | None) -> RulesetVersion | None:
    """Install a shipped ruleset: version 1 active when first seen; a changed source later becomes a
    new draft, so a rule author's tuning of the active version is never overwritten.

    The check and the insert run under one lock: the API and every worker install the shipped
    rulesets when they start, and two processes starting on a fresh database would otherwise both
    see no ruleset and store the same source twice (versions 1 and 2, both once active).
    """
    async with in_transaction() as connection:
        await lock_for_transaction(connection, f"zongzhi.ruleset.install:{name}")
        ruleset = await Ruleset.get_or_none(name=name)
        if ruleset is not None and await RulesetVersion.filter(ruleset=ruleset, source=source).exists():
            return None
        version = await save_draft(None, name, source, owner_plugin=owner_plugin)
        if ruleset is None:
            return await activate(None, name, version.version)
        return version


@dataclass
class Simulation:
    event_id: int | None
    case_id: int | None
    event_type: str
    firings: list[Firing]


async def simulate_on_events(actor: Actor, source: str, event_ids: list[int]) -> list[Simulation]:
    """What ``source`` would do on these past events: rules fired and actions, nothing written."""
    require_author(actor)
    try:
        parsed = parse_source(source)
    except RulesetInvalid as invalid:
        raise RulesetRejected(invalid) from None
    events = await CaseEvent.filter(id__in=event_ids).order_by("id")
    facts = [await build_fact(e) for e in events]
    results = simulate(parsed, facts)
    return [Simulation(e.id, e.case_id, e.type, f) for e, f in zip(events, results, strict=True)]


def simulate_on_facts(source: str, facts: list[dict[str, Any]]) -> list[list[Firing]]:
    try:
        parsed = parse_source(source)
    except RulesetInvalid as invalid:
        raise RulesetRejected(invalid) from None
    return simulate(parsed, facts)
