"""The door to a case's services: intake and every lifecycle step, under one name.

GraphQL, webhooks, rule actions and plugins call ``services.cases.<step>``; the code lives where
its name says: ``intake`` (registering a case), ``case_access`` (loading a case and the actor's
standing on it), ``lifecycle`` (the table of steps, statuses and who may take each), and the steps
by phase in ``steps_triage``, ``steps_handling``, ``steps_closing``, ``steps_routing`` and
``steps_marks``. Each step is one change: its case, CaseEvent and outbox row in one transaction;
anything refused raises a ``ServiceError`` before a single row is written.
"""

from __future__ import annotations

from zongzhi.platform.services.case_access import get_case
from zongzhi.platform.services.intake import CaseInput, PartyInput, find_existing, intake
from zongzhi.platform.services.steps_closing import close, follow_up, reopen, withdraw
from zongzhi.platform.services.steps_handling import (
    NEXT_STEPS,
    accept,
    add_progress,
    fail,
    resolve,
    return_case,
    supervise,
)
from zongzhi.platform.services.steps_marks import flag_risk, note_event, set_deadline, tag
from zongzhi.platform.services.steps_routing import escalate, route
from zongzhi.platform.services.steps_triage import UnitInput, add_assignment, assess, dispatch, reject

__all__ = [
    "NEXT_STEPS",
    "CaseInput",
    "PartyInput",
    "UnitInput",
    "accept",
    "add_assignment",
    "add_progress",
    "assess",
    "close",
    "dispatch",
    "escalate",
    "fail",
    "find_existing",
    "flag_risk",
    "follow_up",
    "get_case",
    "intake",
    "note_event",
    "reject",
    "reopen",
    "resolve",
    "return_case",
    "route",
    "set_deadline",
    "supervise",
    "tag",
    "withdraw",
]
