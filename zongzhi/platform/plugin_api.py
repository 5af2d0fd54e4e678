"""The platform's public API for plugins: with ``hookspecs``, the only module a plugin imports.

Everything a docking plugin needs from the platform is named here, so the platform's internals can
move without breaking a partner's package, and a test checks that the shipped plugins import
nothing else of ``zongzhi.platform``. In the order a plugin meets them:

- **hooks**: ``hookimpl`` and the types of what hooks return (``zongzhi.platform.hookspecs``);
- **webhooks**: ``read_payload`` (signature, size and JSON Schema in one call), ``invalid`` (422),
  ``PERSON_SCHEMA`` / ``PARTY_SCHEMA``, ``receiving_center``, ``party_input``, ``partner_case``
  (the partner intake service: one transaction), ``own_case``, ``case_response``;
- **outbound**: ``deliver_case_event``, the body of every docking plugin's ``zongzhi_case_event``,
  and ``queue_delivery`` underneath it;
- **services** a plugin's steps call (``get_case``, ``note_event``, ``reject``, ``route``,
  ``dispatch``, ...), the models it reads, the code lists and the standard errors;
- **rules and GraphQL**: ``ActionSpec`` / ``ActionContext`` for rule actions; ``Info``,
  ``actor_of``, ``pk_of``, ``to_global_id`` and ``scoped_cases`` for resolvers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import JSONResponse

from zongzhi.platform.base.codes import CATEGORIES, AssignmentMode, CaseStatus, CenterLevel, PartyRole, Role
from zongzhi.platform.base.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.geo import grid_at
from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.hookspecs import CodeContribution, DockingFigures, FactFieldSpec, hookimpl
from zongzhi.platform.models import (
    Assignment,
    Case,
    CaseEvent,
    Center,
    Delivery,
    Department,
    Grid,
    PartnerCredential,
    PartnerRecord,
)
from zongzhi.platform.partners import (
    PARTY_SCHEMA,
    PERSON_SCHEMA,
    VerifiedRequest,
    invalid,
    queue_delivery,
    read_payload,
    receiving_center,
)
from zongzhi.platform.rules import ActionSpec
from zongzhi.platform.rules.builtin_actions import ActionContext
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.services.cases import (
    CaseInput,
    PartyInput,
    UnitInput,
    add_assignment,
    dispatch,
    get_case,
    note_event,
    reject,
    route,
    set_deadline,
)
from zongzhi.platform.services.org import ancestor_at
from zongzhi.platform.services.outbox import change
from zongzhi.platform.services.partner_intake import own_case, partner_actor, partner_case
from zongzhi.platform.services.people import PersonInput

__all__ = [
    "CATEGORIES",
    "PARTY_SCHEMA",
    "PERSON_SCHEMA",
    "ActionContext",
    "ActionSpec",
    "Actor",
    "Assignment",
    "AssignmentMode",
    "Case",
    "CaseEvent",
    "CaseInput",
    "CaseStatus",
    "Center",
    "CenterLevel",
    "CodeContribution",
    "Delivery",
    "Department",
    "DockingFigures",
    "FactFieldSpec",
    "Forbidden",
    "Grid",
    "Info",
    "InvalidTransition",
    "NotFound",
    "PartnerCredential",
    "PartnerRecord",
    "PartyInput",
    "PartyRole",
    "PersonInput",
    "Role",
    "ServiceError",
    "UnitInput",
    "ValidationFailed",
    "VerifiedRequest",
    "actor_of",
    "add_assignment",
    "ancestor_at",
    "case_response",
    "change",
    "deliver_case_event",
    "dispatch",
    "get_case",
    "grid_at",
    "hookimpl",
    "invalid",
    "note_event",
    "own_case",
    "partner_actor",
    "partner_case",
    "party_input",
    "pk_of",
    "queue_delivery",
    "read_payload",
    "receiving_center",
    "reject",
    "route",
    "scoped_cases",
    "set_deadline",
    "to_global_id",
]

#: Builds a delivery's payload: ``(kind, event, case, the plugin's record of the case) → dict``.
PayloadBuilder = Callable[[str, CaseEvent, Case, PartnerRecord], dict[str, Any]]


async def deliver_case_event(
    plugin: str,
    channel: str,
    outbound: Mapping[str, str],
    event: CaseEvent,
    case: Case,
    payload: PayloadBuilder,
) -> Delivery | None:
    """Queue the delivery a case event owes the partner that sent the case, if it owes one.

    ``outbound`` maps the event types the partner is told about to the kind of delivery they are
    there. Nothing is queued for another event type, a case on another channel, or a case without
    the plugin's record naming a credential; otherwise ``payload(kind, event, case, record)`` is
    queued (at most once per event, partner and kind) to the record's credential.
    """
    kind = outbound.get(event.type)
    if kind is None or case.channel != channel:
        return None
    record = await PartnerRecord.get_or_none(case_id=case.id, plugin=plugin)
    if record is None or record.credential_id is None:
        return None
    credential = await PartnerCredential.get(id=record.credential_id)
    return await queue_delivery(
        plugin, credential, kind, payload(kind, event, case, record), case=case, event=event
    )


def party_input(person: dict[str, Any], role: str | None = None) -> PartyInput:
    """A ``PartyInput`` from a payload person (``PERSON_SCHEMA``), with its own or the given role."""
    return PartyInput(
        role=PartyRole(role or person["role"]),
        person=PersonInput(
            person["name"], person.get("id_number"), person.get("phone"), person.get("address", "")
        ),
    )


def case_response(case: Case, created: bool, extra: Mapping[str, Any] | None = None) -> JSONResponse:
    """A webhook's answer for the partner's case: 201 when it was created now, 200 when found again."""
    body = {
        "case_id": to_global_id("Case", case.id),
        "number": case.number,
        "status": str(case.status),
        "created": created,
        **(extra or {}),
    }
    return JSONResponse(body, status_code=201 if created else 200)
