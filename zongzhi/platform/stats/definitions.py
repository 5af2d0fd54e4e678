"""What every figure means. The GraphQL descriptions, the README and the reports quote these texts.

Three families of figures, each with its own clock:

- **received in the period** (by ``created_at``, the receipt time): the counts by status, channel,
  category, kind, risk and center, the closure rate and the time to accept;
- **concluded in the period** (by the time of the ``case.resolved`` / ``case.failed`` event):
  the resolution rate, the on-time rate and the time to conclude;
- **events in the period**: satisfaction (follow-ups), returns (退回), escalations;
- **now**: overdue and high-risk cases still open, whatever the period.

A rate whose denominator is zero is ``null`` (no data), never 0 or 100%.
"""

from __future__ import annotations

RECEIVED = "Cases received (受理) in the period: created_at in [start, end), China time."
CONCLUDED = (
    "Mediations concluded (调处结束) in the period: case.resolved plus case.failed events whose time is "
    "in the period. A case reopened and concluded again counts each time."
)
RESOLUTION_RATE = (
    "化解成功率 = resolved / concluded: case.resolved events in the period divided by case.resolved + "
    "case.failed events in the period. Null when nothing was concluded."
)
CLOSURE_RATE = (
    "办结率 = closed / accepted for handling: among cases received in the period, those now closed "
    "(status closed or followed_up) divided by those not rejected (不予受理) and not withdrawn. "
    "Null when the denominator is 0."
)
ON_TIME_RATE = (
    "按期办结率 = concluded on time / concluded with a deadline: among the mediations concluded in the "
    "period whose case has a resolve-by deadline, those whose concluding event is at or before it. "
    "Concluded cases without a deadline are left out of both. Null when the denominator is 0."
)
TIME_TO_ACCEPT = (
    "Hours from receipt (created_at) to the first acceptance by a handling unit (accepted_at), over "
    "cases received in the period that have been accepted: average and 90th percentile (continuous, "
    "interpolated as percentile_cont)."
)
TIME_TO_CONCLUDE = (
    "Hours from receipt to the concluding event (case.resolved or case.failed), over mediations "
    "concluded in the period: average and 90th percentile (continuous)."
)
SATISFACTION = (
    "满意度 from follow-ups (回访) recorded in the period (case.followed_up events): the average of "
    "the 1–5 ratings and how many of each. The rating is the case's latest one."
)
EXECUTION_RATE = (
    "执行到位率 = carried out / followed up: among follow-ups in the period, those recording that the "
    "agreement was carried out. Null when there was no follow-up."
)
RETURNS = "退回: case.returned events in the period, by the department whose assignment was returned."
ESCALATIONS = "上报升级: case.escalated events in the period (a case escalated twice counts twice)."
OVERDUE_NOW = "Open cases (received, assessed, dispatched, handling) past their resolve-by deadline now."
HIGH_RISK_OPEN = "Open cases whose risk is high, now."
BY_CENTER = (
    "Cases received in the period by the center directly below the chosen one that owns them now "
    "(the chosen center's own cases under its own name)."
)
TREND = (
    "Per day, ISO week (from Monday) or month in China time: cases received, and mediations resolved "
    "and failed."
)
HOT_SPOTS = (
    "Cases received per grid (and per category) in the period, against the period of the same kind "
    "just before it (the previous month for a month, the previous N days for N days). change = "
    "count - previous; growth = change / previous (null when previous is 0)."
)
RISING = (
    "Grids whose count rose most: change > 0, ordered by change, then by growth (a grid going from "
    "0 to n ranks by its change)."
)
DOCKING = (
    "Figures that docking plugins (诉调/警调/访调对接) contribute for the same scope and period, such as "
    "分流率, 调解成功率, 执行到位率 or 群众吸附率; each plugin documents its own."
)

ALL: dict[str, str] = {
    "received": RECEIVED,
    "concluded": CONCLUDED,
    "resolutionRate": RESOLUTION_RATE,
    "closureRate": CLOSURE_RATE,
    "onTimeRate": ON_TIME_RATE,
    "timeToAccept": TIME_TO_ACCEPT,
    "timeToConclude": TIME_TO_CONCLUDE,
    "satisfaction": SATISFACTION,
    "executionRate": EXECUTION_RATE,
    "returns": RETURNS,
    "escalations": ESCALATIONS,
    "overdueNow": OVERDUE_NOW,
    "highRiskOpen": HIGH_RISK_OPEN,
    "byCenter": BY_CENTER,
    "trend": TREND,
    "hotSpots": HOT_SPOTS,
    "rising": RISING,
    "docking": DOCKING,
}
