"""Accounts over GraphQL (admin only): list a user's API tokens, revoke one, disable or enable a user."""

from __future__ import annotations

from datetime import datetime

import strawberry

from zongzhi.platform.models import ApiToken
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services import accounts


@strawberry.type(description="An API token, without its secret (only a hash of it is stored).")
class ApiTokenInfo(ModelNode):
    model = ApiToken
    node_name = "ApiToken"
    name: str = strawberry.field(description="The label it was created with.")
    prefix: str = strawberry.field(
        description="Its first characters, to recognise it (not enough to use it)."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    expires_at: datetime | None = strawberry.field(description="When it stops working (null: never).")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used (to the minute; null: never)."
    )
    revoked_at: datetime | None = strawberry.field(description="When it was revoked (null: it was not).")
    revoked: bool = strawberry.field(description="Whether it was revoked.")

    @classmethod
    def of(cls, t: ApiToken) -> ApiTokenInfo:
        return copy_of(cls, t, revoked=t.revoked_at is not None)


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="A user's API tokens, oldest first, without their secrets (admin).")
    async def api_tokens(self, info: Info, user_id: strawberry.ID) -> list[ApiTokenInfo]:
        rows = await accounts.list_api_tokens(actor_of(info), pk_of(user_id, "User", "userId"))
        return [ApiTokenInfo.of(t) for t in rows]


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(
        description="Revoke an API token: it gets 401 from the next request on (admin, audited)."
    )
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> ApiTokenInfo:
        row = await accounts.revoke_api_token(actor_of(info), pk_of(id, "ApiToken", "id"))
        return ApiTokenInfo.of(row)

    @strawberry.mutation(
        description="Disable an account: all its API tokens and JWTs get 401 from the next request on "
        "(admin, audited; not your own)."
    )
    async def disable_user(self, info: Info, user_id: strawberry.ID) -> types.User:
        user = await accounts.set_user_active(actor_of(info), pk_of(user_id, "User", "userId"), False)
        return types.User.of(user)

    @strawberry.mutation(description="Enable a disabled account again (admin, audited).")
    async def enable_user(self, info: Info, user_id: strawberry.ID) -> types.User:
        user = await accounts.set_user_active(actor_of(info), pk_of(user_id, "User", "userId"), True)
        return types.User.of(user)
