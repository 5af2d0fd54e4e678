"""The hooks a zongzhi plugin may implement.

A plugin is any importable object registered under the ``zongzhi.plugins`` entry-point group; the
built-in docking plugins are registered exactly that way in the project's own ``pyproject.toml``.
Implement a hook by defining a function of the same name decorated with ``@hookimpl``; every hook
is optional. ``docs/plugins.md`` documents each one (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("zongzhi")
hookimpl = pluggy.HookimplMarker("zongzhi")


@hookspec
def zongzhi_codes() -> dict[str, dict[str, str]]:
    """Codes the plugin adds to the shared vocabularies, each with its Chinese label.

    Called once at start-up. Return a dict whose keys are any of ``categories``, ``kinds``,
    ``channels`` and ``event_types``, each mapping a lowercase code to its label, e.g.
    ``{"channels": {"procuratorate": "检调对接"}, "event_types": {"court.confirmed": "司法确认"}}``.
    Existing codes are never relabelled. Rules may listen to the event types added here.
    """


@hookspec
def zongzhi_rule_actions() -> list[Any]:
    """Rule actions the plugin provides, as ``zongzhi.platform.rules.ActionSpec`` objects.

    Called once at start-up, before rulesets are validated. Each spec has a unique ``name``, a
    Chinese ``label``, a JSON Schema for its parameters and an async ``handler(ctx, params)``
    that receives a ``zongzhi.platform.rules.builtin_actions.ActionContext`` and must change cases only
    through the services. Return a list (empty if none).
    """


@hookspec
def zongzhi_fact_fields() -> dict[str, dict[str, Any]]:
    """The payload fields the plugin's events carry, so rules may read them (``payload.<name>``).

    Called once at start-up, before rulesets are validated. Return
    ``{"payload.violence": {"type": "boolean", "description": "..."}}``; ``type`` is one of
    ``string``, ``number``, ``boolean``, ``list`` (of strings) or ``any``, and an optional
    ``values`` lists a closed set of strings. A rule reading an undeclared path is refused.
    """


@hookspec
def zongzhi_rulesets() -> list[tuple[str, str]]:
    """Rulesets the plugin ships, as ``(name, YAML source)`` pairs.

    Called at every start-up. A ruleset seen for the first time is installed as version 1 and
    activated; a later release whose source differs is stored as a new draft for a rule author to
    review, so the author's tuning of the active version is never overwritten.
    """


@hookspec
def zongzhi_graphql_queries() -> list[type]:
    """Strawberry types whose fields are merged into the root ``Query``.

    Called once when the schema is built. Field names must not clash with the core's; prefix
    them with the plugin's subject (``courtReferral``). Resolvers get the usual ``info.context``
    (``actor``, ``loaders``, ``settings``) and must apply jurisdiction themselves.
    """


@hookspec
def zongzhi_graphql_mutations() -> list[type]:
    """Strawberry types whose fields are merged into the root ``Mutation``.

    Called once when the schema is built; the same rules as ``zongzhi_graphql_queries`` apply,
    and mutations must call the services so the state machine, roles and audit hold.
    """


@hookspec
def zongzhi_graphql_types() -> list[type]:
    """Extra Strawberry types the schema must know about (for instance ``Node`` implementations).

    Called once when the schema is built. Types reachable from the plugin's fields need not be
    listed here.
    """


@hookspec
def zongzhi_routes() -> list[Any]:
    """Starlette routes (``Route`` / ``Mount``) the app serves, typically a partner's webhooks.

    Called once when the app is built. Mount them under ``/partners/<plugin name>/`` and check
    the partner's signature with ``zongzhi.platform.partners.verify_request`` before anything else.
    """


@hookspec
async def zongzhi_case_event(event: Any, case: Any) -> None:
    """React to a committed case event, after the rules have been evaluated on it.

    Called (awaited) by whoever evaluates events — a Celery worker, or the app itself in the
    embedded mode — once per event, with the ``CaseEvent`` and its ``Case``. Use it to queue
    outbound deliveries with ``zongzhi.platform.partners.queue_delivery``; it must be quick and
    idempotent (an event may be delivered twice). Exceptions are logged and do not stop others.
    """


@hookspec
def zongzhi_docking_figures() -> dict[str, Any]:
    """Statistics the plugin contributes to the command room and reports.

    Called when statistics are computed. Return ``{figure_group_name: async fn(scope_q, start,
    end) -> dict[str, int | float | None]}``; ``scope_q`` is a ``tortoise`` ``Q`` on ``Case`` that
    applies the asking user's jurisdiction, and ``start``/``end`` bound the period.
    """
