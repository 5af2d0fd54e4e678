"""Partner intake: a case a partner agency sends through its plugin's signed webhook.

Every docking plugin's webhook registers its partner's case here, and only here: the case, its
``case.received`` event, the plugin's ``PartnerRecord`` and whatever the plugin adds on a new case
(an event of its own, an immediate refusal) are one change, written in one transaction with their
outbox rows. So the rules on ``case.received``, and the deliveries they cause, already find the
record naming the partner; and a webhook retried while the first request is still running gets
the first request's case, never a second one.

A partner's own ids (a court's case number, an incident or item number) are scoped per credential:
the case keeps them with ``external_channel`` = ``<channel>#<credential id>``, so two credentials
may use the same id without meeting, and ``own_case`` is the only way a webhook finds a case again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.exceptions import BaseORMException
from tortoise.expressions import Subquery

from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, PartnerCredential, PartnerRecord
from zongzhi.platform.services.cases import CaseInput, intake, note_event, reject
from zongzhi.platform.services.outbox import change


def partner_actor(credential: PartnerCredential) -> Actor:
    """The system actor a partner's requests act as, named after the credential."""
    return Actor.system_actor(credential.name, plugin=credential.plugin)


def scoped_channel(credential: PartnerCredential, channel: str) -> str:
    """The namespace of one credential's external ids on a channel (``Case.external_channel``)."""
    return f"{channel}#{credential.id}"


async def own_case(credential: PartnerCredential, channel: str, external_id: str) -> Case | None:
    """The case this credential sent with ``external_id``; another credential's is never found.

    Cases stored before ids were scoped per credential keep the bare channel: they are found
    through the plugin's record naming the credential.
    """
    found = await Case.get_or_none(
        external_channel=scoped_channel(credential, channel), external_id=external_id
    )
    if found is not None:
        return found
    legacy = PartnerRecord.filter(credential_id=credential.id, plugin=credential.plugin).values("case_id")
    return await Case.filter(
        external_channel=channel, external_id=external_id, id__in=Subquery(legacy)
    ).first()


async def partner_case(
    credential: PartnerCredential,
    channel: str,
    external_id: str,
    data: CaseInput,
    record: dict[str, Any],
    *,
    events: Sequence[tuple[str, dict[str, Any]]] = (),
    refusal: str | None = None,
) -> tuple[Case, bool]:
    """Register (or find again) the case a partner sent; returns ``(case, created)``.

    In one transaction: the case and its ``case.received`` event, the plugin's record of it
    (``record``), then, for a new case only, each of ``events`` (``(type, payload)``, recorded as
    the partner) and, if ``refusal`` is given, its rejection with that reason (received and at once
    refused). A ``ServiceError`` (bad input) leaves nothing written. The same id sent twice at once:
    the request that loses the race gets the winner's case.
    """
    existing = await own_case(credential, channel, external_id)
    if existing is not None:
        return existing, False
    actor = partner_actor(credential)
    data.channel, data.external_id = channel, external_id
    data.external_channel = scoped_channel(credential, channel)
    try:
        async with change():
            case, created = await intake(data, actor)
            if created:
                await PartnerRecord.get_or_create(
                    case=case, plugin=credential.plugin, defaults={"credential": credential, "data": record}
                )
                for event_type, payload in events:
                    case = await note_event(actor, case.id, event_type, payload)
                if refusal is not None:
                    case = await reject(actor, case.id, refusal)
    except BaseORMException:
        # The loser's transaction failed on the unique key (on PostgreSQL the whole transaction is
        # aborted, so the case is looked up again only after it has rolled back).
        found = await own_case(credential, channel, external_id)
        if found is None:
            raise
        return found, False
    return case, created
