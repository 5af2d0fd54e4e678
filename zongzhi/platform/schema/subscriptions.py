"""Subscriptions for the live dispatch board (指挥调度), over graphql-transport-ws on ``/graphql``.

The connection is authenticated once, from ``connectionParams`` (see ``graphql_http``); each event
is then filtered to the subscriber's jurisdiction with the same rule as ``case_scope``, so a
township's screen never sees another township's cases.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from zongzhi.platform.base import codes
from zongzhi.platform.pipeline import broadcast
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.schema.stats import EarlyWarning, early_warning_for, scope_of

if TYPE_CHECKING:
    from zongzhi.platform.schema.workspace import Notification


@strawberry.enum(description="What happened, as the dispatch board groups it.")
class BoardEventKind(enum.Enum):
    NEW_CASE = "new_case"
    STATUS = "status"
    ESCALATION = "escalation"
    RISK = "risk"
    OVERDUE = "overdue"
    DEADLINE_WARNING = "deadline_warning"
    WHISTLE_UNANSWERED = "whistle_unanswered"


KIND_LABELS = {
    "new_case": "新案件",
    "status": "状态变化",
    "escalation": "上报升级",
    "risk": "风险标记",
    "overdue": "超期",
    "deadline_warning": "临期预警",
    "whistle_unanswered": "吹哨未报到",
}


@strawberry.type(description="One committed case event, as the dispatch board shows it.")
class BoardEvent:
    kind: BoardEventKind
    type: str = strawberry.field(description="The case event type, e.g. case.escalated.")
    event_id: strawberry.ID
    case_id: strawberry.ID
    number: str
    title: str
    status: str
    risk: str
    category: str
    channel: str
    center_id: strawberry.ID
    at: datetime
    actor: str
    payload: strawberry.scalars.JSON

    @strawberry.field(description="The event type's Chinese label, e.g. 上报升级.")
    def type_label(self) -> str:
        from zongzhi.platform.base import event_types

        return event_types.label(self.type)

    @strawberry.field(description="The kind's Chinese label, e.g. 超期.")
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind.value]

    @strawberry.field(description="The case status's Chinese label.")
    def status_label(self) -> str:
        return codes.CaseStatus(self.status).label

    @strawberry.field(description="The risk level's Chinese label.")
    def risk_label(self) -> str:
        return codes.Risk(self.risk).label

    @strawberry.field(description="The category's Chinese label.")
    def category_label(self) -> str:
        return codes.CATEGORIES.label(self.category)

    @strawberry.field(description="The intake channel's Chinese label.")
    def channel_label(self) -> str:
        return codes.CHANNELS.label(self.channel)

    @strawberry.field(description="The name of the center that owns the case.")
    async def center_name(self, info: Info) -> str:
        from zongzhi.platform.schema.ids import from_global_id

        center = await info.context.loaders.center.load(from_global_id(self.center_id)[1])
        return center.name if center else ""

    @classmethod
    def of(cls, m: dict) -> BoardEvent:
        return cls(
            kind=BoardEventKind(m["kind"]),
            type=m["type"],
            event_id=strawberry.ID(to_global_id("CaseEvent", m["event_id"])),
            case_id=strawberry.ID(to_global_id("Case", m["case_id"])),
            number=m["number"],
            title=m["title"],
            status=m["status"],
            risk=m["risk"],
            category=m["category"],
            channel=m["channel"],
            center_id=strawberry.ID(to_global_id("Center", m["center_id"])),
            at=datetime.fromisoformat(m["at"]),
            actor=m.get("actor", ""),
            payload=m.get("payload") or {},
        )


BOARD_KINDS = frozenset(k.value for k in BoardEventKind)
WARNING_KINDS = frozenset({"new_case", "status", "escalation", "risk", "overdue", "deadline_warning"})


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="New cases, status changes, escalations, risk flags, deadline warnings, overdue cases "
        "and unanswered whistles in your jurisdiction, as they are committed. `kinds` narrows the feed."
    )
    async def dispatch_board(
        self, info: Info, kinds: list[BoardEventKind] | None = None
    ) -> AsyncGenerator[BoardEvent, None]:
        actor = actor_of(info)
        wanted = {k.value for k in kinds} if kinds else None
        async with broadcast.hub().subscribe() as queue:
            while True:
                message = await queue.get()
                if message.get("kind") not in BOARD_KINDS:
                    continue  # e.g. the inbox's wake-ups
                if wanted is not None and message.get("kind") not in wanted:
                    continue
                if await broadcast.visible_to(actor, message):
                    yield BoardEvent.of(message)

    @strawberry.subscription(
        description="New notifications of your inbox (to you, or to your role at your center), as they are "
        "written."
    )
    async def notification_added(
        self, info: Info
    ) -> AsyncGenerator[Annotated[Notification, strawberry.lazy("zongzhi.platform.schema.workspace")], None]:
        from zongzhi.platform.schema.workspace import notification_added

        async for n in notification_added(info):
            yield n

    @strawberry.subscription(
        description="The earlyWarning lists of a center (default: yours), sent at once, again after each "
        "relevant event in the subtree (at most once per `minSeconds`), and at least every `refreshSeconds`."
    )
    async def early_warning(
        self,
        info: Info,
        center_id: strawberry.ID | None = None,
        window_days: int = 90,
        min_cases: int = 3,
        limit: int = 50,
        refresh_seconds: int = 60,
        min_seconds: float = 2.0,
    ) -> AsyncGenerator[EarlyWarning, None]:
        scope = await scope_of(info, center_id)
        refresh = max(5, min(refresh_seconds, 3600))
        pause = max(0.0, min(min_seconds, 60.0))
        async with broadcast.hub().subscribe() as queue:
            yield await early_warning_for(scope, window_days, min_cases, limit)
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=refresh)
                except TimeoutError:
                    yield await early_warning_for(scope, window_days, min_cases, limit)
                    continue
                if message.get("kind") not in WARNING_KINDS:
                    continue
                if not str(message.get("center_path", "")).startswith(scope.center.path):
                    continue
                await asyncio.sleep(pause)
                while not queue.empty():  # one refresh for a burst of events
                    queue.get_nowait()
                yield await early_warning_for(scope, window_days, min_cases, limit)
