"""Partner credentials and outbound deliveries over GraphQL (admins), and the loaded plugins."""

from __future__ import annotations

from datetime import datetime

import strawberry

from zongzhi.platform import partners
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.current import current
from zongzhi.platform.base.errors import Forbidden
from zongzhi.platform.domain.jurisdiction import visible
from zongzhi.platform.models import Delivery as DeliveryRow
from zongzhi.platform.models import DeliveryAttempt, PartnerCredential
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.schema.nodes import ModelNode, copy_of


@strawberry.type(
    description="A partner agency's credential for one plugin's endpoints (the secret is never shown again)."
)
class PartnerCredentialInfo:
    key_id: str
    plugin: str
    name: str
    callback_url: str
    active: bool
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, c: PartnerCredential) -> PartnerCredentialInfo:
        return copy_of(cls, c)


@strawberry.type
class IssuedSecret:
    credential: PartnerCredentialInfo
    secret: str = strawberry.field(description="Shown once: give it to the partner over a safe channel")


@strawberry.type
class DeliveryAttemptInfo:
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


@strawberry.type(description="One outbound message to a partner, with every attempt at sending it.")
class Delivery(ModelNode):
    model = DeliveryRow
    plugin: str
    kind: str
    status: str = strawberry.field(description="pending | sent | failed")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: strawberry.scalars.JSON

    @strawberry.field
    async def attempt_log(self) -> list[DeliveryAttemptInfo]:
        rows = await DeliveryAttempt.filter(delivery_id=self.pk).order_by("id")
        return [
            DeliveryAttemptInfo(at=r.at, status_code=r.status_code, error=r.error, duration_ms=r.duration_ms)
            for r in rows
        ]



@strawberry.type
class PluginInfo:
    name: str
    version: str
    source: str
    hooks: list[str]


def _admin(info: Info) -> None:
    if not actor_of(info).has(Role.admin):
        raise Forbidden("this needs the admin role")


@strawberry.type
class PartnersQuery:
    @strawberry.field(
        description="Loaded plugins, where they come from and which hooks they implement (admin)."
    )
    def plugins(self, info: Info) -> list[PluginInfo]:
        _admin(info)
        loaded = (info.context.platform or current()).plugins
        return [
            PluginInfo(name=p.name, version=p.version, source=p.source, hooks=list(p.hooks))
            for p in loaded.describe()
        ]

    @strawberry.field
    async def partner_credentials(self, info: Info, plugin: str | None = None) -> list[PartnerCredentialInfo]:
        _admin(info)
        query = PartnerCredential.all() if plugin is None else PartnerCredential.filter(plugin=plugin)
        return [PartnerCredentialInfo.of(c) for c in await query.order_by("id")]

    @strawberry.field(description="Outbound deliveries, newest first (admin).")
    async def deliveries(
        self, info: Info, plugin: str | None = None, status: str | None = None, first: int = 50
    ) -> list[Delivery]:
        _admin(info)
        query = visible(actor_of(info), DeliveryRow)
        if plugin:
            query = query.filter(plugin=plugin)
        if status:
            query = query.filter(status=status)
        return [Delivery.of(d) for d in await query.order_by("-id").limit(min(first, 200))]


@strawberry.type
class PartnersMutation:
    @strawberry.mutation(description="A partner credential for a plugin; returns the secret once (admin).")
    async def create_partner_credential(
        self, info: Info, plugin: str, name: str, callback_url: str = "", center_code: str | None = None
    ) -> IssuedSecret:
        credential, secret = await partners.create_credential(
            actor_of(info), plugin, name, callback_url, center_code
        )
        return IssuedSecret(credential=PartnerCredentialInfo.of(credential), secret=secret)

    @strawberry.mutation(
        description="A new secret for a credential; the old one stops working at once (admin)."
    )
    async def rotate_partner_secret(self, info: Info, key_id: str) -> IssuedSecret:
        secret = await partners.rotate_secret(actor_of(info), key_id)
        credential = await PartnerCredential.get(key_id=key_id)
        return IssuedSecret(credential=PartnerCredentialInfo.of(credential), secret=secret)

    @strawberry.mutation(description="Revoke a credential: its requests get 401 from now on (admin).")
    async def revoke_partner_credential(self, info: Info, key_id: str) -> PartnerCredentialInfo:
        await partners.revoke(actor_of(info), key_id)
        return PartnerCredentialInfo.of(await PartnerCredential.get(key_id=key_id))

    @strawberry.mutation(description="Send a failed delivery again (admin).")
    async def retry_delivery(self, info: Info, delivery_id: strawberry.ID) -> Delivery:
        row = await partners.retry_delivery(actor_of(info), pk_of(delivery_id, "Delivery", "deliveryId"))
        return Delivery.of(row)
