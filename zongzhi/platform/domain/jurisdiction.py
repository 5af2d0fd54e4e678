"""Row-level jurisdiction (DESIGN.md §9): which cases, people and org objects an actor may see.

A user sees the cases owned by a center in their center's subtree, the cases assigned to their
department or to them, the cases their department was summoned to by a whistle (吹哨报到), and —
for grid workers — the cases in their grids and those they filed.
The same ``Q`` filters lists, node lookups, statistics and evidence, so no surface can leak what
another forbids.

Every ID an actor sends (in an argument or nested in an input) is resolved by ``resolve_ref`` through
``visible``, the one definition per kind of what the actor may see. An ID outside it is
``NOT_FOUND``, worded exactly as an ID that does not exist, so IDs cannot be probed:

- cases: the rule above; case events, assignments, whistles, evidence and decisions: their case's
  (and a whistle is seen by the department it summons);
- people: parties to a case the actor can see (unless the party was linked blind, see
  ``blind_link``), and the residents of the grids in the actor's territory (their center's subtree,
  a grid worker's own grids);
- centers: the actor's center, its subtree and its ancestors (a township knows its county);
- grids: the grids of the actor's subtree, and a grid worker's own grids;
- departments: those stationed at a visible center, the actor's own, and those stationed nowhere
  (agencies of no particular place);
- users: the actor; for center staff, leaders and admins also the users of visible centers and of
  their department (a township admin manages the accounts of its tree);
- deliveries: admins only (an admin of a center: those of the cases they can see);
- notifications: the user's inbox (to them, or to their role at their center), about no case or a
  case they can see; sweep tasks: those of the actor's center subtree and of their own grids;
- sweep schedules: their county's subtree and the centers below the county; analysis meetings and
  (for staff, leaders and admins) citizens' reports: the actor's center subtree; mediator requests:
  their case's, and the mediator asked; API tokens: an admin's, of the accounts they may see; the
  audit log: auditors only (an auditor of a center: the rows of its subtree's users);
- the registry (houses, units, visits): the rows in the actor's registry grids (``grid_scope``: the
  grids of their center's subtree and their own grids, for the roles that keep the registry; a
  center-less admin: all); a house member through its house; a person's key-group tag also needs a
  role that may see that tag (``registry_codes.may_see_tag``).

System actors (rules engine, plugins acting for a verified partner credential) see everything;
platform admins (an admin attached to no center) manage the org tree, accounts and deliveries, so
they see every center, grid, department, user and delivery, but cases and people only through the
case rule; an admin attached to a center is held to that center like anyone else. Partner
accounts (role ``partner``) see nothing here: a partner reaches exactly what its own credential
brought in, through its plugin's signed endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.errors import NotFound
from zongzhi.platform.base.registry_codes import KEY_GROUPS, may_see_tag
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import (
    AnalysisMeeting,
    ApiToken,
    Assignment,
    AuditLog,
    Case,
    CaseEvent,
    CaseParty,
    Center,
    CenterDepartment,
    CitizenReport,
    Decision,
    Delivery,
    Department,
    Evidence,
    Grid,
    House,
    HouseMember,
    MediatorChoice,
    Notification,
    OrgUnit,
    Person,
    PersonTag,
    SweepSchedule,
    SweepTask,
    User,
    Visit,
    Whistle,
)

NOTHING = Q(id__in=[])


@dataclass(frozen=True)
class ScopePart:
    """One alternative of the jurisdiction rule: the cases it lets the actor see, and all others."""

    within: Q
    outside: Q  # the negation of ``within``, true where ``within``'s column is NULL


def is_partner(actor: Actor) -> bool:
    """A partner agency's account: it reads and acts only through its plugin's signed endpoints."""
    return not actor.system and (actor.plugin is not None or str(Role.partner) in actor.roles)


def _parts(actor: Actor, center: ScopePart | None) -> list[ScopePart]:
    """The alternatives of the rule, ``center`` standing for the actor's center subtree."""
    parts: list[ScopePart] = []
    if is_partner(actor):
        return parts
    if actor.center_path and center is not None:
        parts.append(center)
    if actor.department_id:
        assigned = Subquery(Assignment.filter(department_id=actor.department_id).values("case_id"))
        parts.append(ScopePart(Q(id__in=assigned), Q(id__not_in=assigned)))
        # 吹哨报到: a summoned department sees the case from the whistle on, and keeps what it answered.
        summoned = Subquery(Whistle.filter(department_id=actor.department_id).values("case_id"))
        parts.append(ScopePart(Q(id__in=summoned), Q(id__not_in=summoned)))
    if actor.user_id:
        assigned = Subquery(Assignment.filter(user_id=actor.user_id).values("case_id"))
        parts.append(ScopePart(Q(id__in=assigned), Q(id__not_in=assigned)))
        parts.append(ScopePart(Q(created_by_id=actor.user_id), Q(created_by_id__not=actor.user_id)))
    if actor.grid_ids:
        grids = list(actor.grid_ids)
        parts.append(ScopePart(Q(grid_id__in=grids), Q(grid_id__not_in=grids)))
    return parts


def case_scope(actor: Actor) -> Q | None:
    """A filter on ``Case`` for what ``actor`` may see, or ``None`` when it may see everything."""
    if actor.system:
        return None
    prefix = actor.center_path or ""
    center = ScopePart(Q(center_path__startswith=prefix), ~Q(center_path__startswith=prefix))
    parts = [p.within for p in _parts(actor, center)]
    if not parts:
        return NOTHING
    return Q(*parts, join_type=Q.OR)


async def subtree_paths(path: str) -> list[str]:
    """The paths of the center at ``path`` and of every center below it."""
    return list(await Center.filter(path__startswith=path).values_list("path", flat=True))


async def case_scope_parts(actor: Actor) -> list[ScopePart] | None:
    """``case_scope`` as its alternatives (their OR), or ``None`` when the actor sees everything.

    For lists on a large table: an OR of them cannot use an index on PostgreSQL, each one alone
    can, so a list reads each part on its own and merges. The center part is ``center_path IN``
    the paths of the actor's subtree, an equality that uses the ``center_path`` indexes under any
    collation, where ``LIKE 'prefix%'`` cannot. It selects the same cases as the prefix: a case's
    ``center_path`` is its center's path, and a center's path never changes.
    """
    if actor.system:
        return None
    center = None
    if actor.center_path:
        paths = await subtree_paths(actor.center_path)
        center = ScopePart(Q(center_path__in=paths), Q(center_path__not_in=paths))
    return _parts(actor, center)


def scoped_cases(actor: Actor):
    q = case_scope(actor)
    return Case.all() if q is None else Case.filter(q)


def center_in_scope(actor: Actor, center_path: str) -> bool:
    """Whether a center lies in the actor's subtree (where the actor may act, not only look)."""
    return actor.system or bool(actor.center_path and center_path.startswith(actor.center_path))


async def can_see_case(actor: Actor, case_id: int) -> bool:
    return await scoped_cases(actor).filter(id=case_id).exists()


# --- everything else an ID can name ----------------------------------------------------------


def _ancestor_ids(path: str | None) -> list[int]:
    return [int(p) for p in (path or "").strip("/").split("/") if p]


def _sees_org(actor: Actor) -> bool:
    """System actors and platform admins (an admin of no center) see the whole org tree."""
    return actor.system or (actor.has(Role.admin) and actor.center_path is None)


def _visible_cases_ids(actor: Actor) -> Subquery:
    return Subquery(scoped_cases(actor).values("id"))


def _centers_q(actor: Actor) -> Q:
    parts: list[Q] = []
    if actor.center_path:
        parts += [Q(path__startswith=actor.center_path), Q(id__in=_ancestor_ids(actor.center_path))]
    if actor.grid_ids:
        parts.append(Q(id__in=Subquery(Grid.filter(id__in=list(actor.grid_ids)).values("center_id"))))
    if actor.department_id:
        stationed = CenterDepartment.filter(department_id=actor.department_id).values("center_id")
        parts.append(Q(id__in=Subquery(stationed)))
    return Q(*parts, join_type=Q.OR) if parts else NOTHING


def _grids_q(actor: Actor) -> Q:
    parts: list[Q] = []
    if actor.center_path:
        parts.append(Q(center__path__startswith=actor.center_path))
    if actor.grid_ids:
        parts.append(Q(id__in=list(actor.grid_ids)))
    return Q(*parts, join_type=Q.OR) if parts else NOTHING


def grid_visible(actor: Actor, grid_id: int, center_path: str) -> bool:
    """Whether ``visible(actor, Grid)`` holds the grid ``grid_id`` whose center's path is
    ``center_path``, decided without a query (intake reads the grid and its center in one statement).
    The rule of ``_scope_q`` for grids; tests hold the two equal for every actor of the test world."""
    if _sees_org(actor):
        return True
    if is_partner(actor):
        return False
    return bool(actor.center_path and center_path.startswith(actor.center_path)) or grid_id in actor.grid_ids


def _departments_q(actor: Actor) -> Q:
    parts = [Q(id__not_in=Subquery(CenterDepartment.all().values("department_id")))]
    if actor.center_path or actor.grid_ids or actor.department_id:
        centers = Center.filter(_centers_q(actor)).values("id")
        stationed = CenterDepartment.filter(center_id__in=Subquery(centers)).values("department_id")
        parts.append(Q(id__in=Subquery(stationed)))
    if actor.department_id:
        parts.append(Q(id=actor.department_id))
    return Q(*parts, join_type=Q.OR)


def _users_q(actor: Actor) -> Q:
    parts = [Q(id=actor.user_id)] if actor.user_id else []
    if not actor.has(Role.staff, Role.leader, Role.admin):
        return Q(*parts, join_type=Q.OR) if parts else NOTHING  # others see only their own account
    if actor.center_path or actor.grid_ids or actor.department_id:
        parts.append(Q(center_id__in=Subquery(Center.filter(_centers_q(actor)).values("id"))))
    if actor.department_id:
        parts.append(Q(department_id=actor.department_id))
    return Q(*parts, join_type=Q.OR) if parts else NOTHING


def people_q(actor: Actor) -> Q | None:
    """Which people ``actor`` may see (``None``: all). One definition for node, search and references.

    A party linked blind (``CaseParty.blind``) does not make its person visible: knowing an ID
    number and filing a case with it must not be a way to read that person's phone or address.
    """
    if actor.system:
        return None
    if is_partner(actor):
        return NOTHING
    sighted = CaseParty.filter(case_id__in=_visible_cases_ids(actor), blind=False).values("person_id")
    parts = [Q(id__in=Subquery(sighted))]
    if actor.center_path:
        parts.append(Q(grid__center__path__startswith=actor.center_path))
    if actor.grid_ids:
        parts.append(Q(grid_id__in=list(actor.grid_ids)))
    return Q(*parts, join_type=Q.OR)


#: Roles that read and keep the registry (department and partner accounts do not).
REGISTRY_ROLES = (Role.staff, Role.leader, Role.admin, Role.grid_worker, Role.mediator)


def grid_scope(actor: Actor) -> Q | None:
    """A filter on ``Grid`` for the grids whose registry ``actor`` sees; ``None``: all of them."""
    if actor.system:
        return None
    if not actor.has(*REGISTRY_ROLES) or is_partner(actor):
        return NOTHING
    parts = []
    if actor.center_path:
        parts.append(Q(center__path__startswith=actor.center_path))
    if actor.grid_ids:
        parts.append(Q(id__in=list(actor.grid_ids)))
    if not parts:
        return None if actor.has(Role.admin) else NOTHING
    return Q(*parts, join_type=Q.OR)


def _registry_q(actor: Actor, model: type[Model]) -> Q | None:
    """House, OrgUnit, Visit: in the registry grids; PersonTag: its person's grid and a tag the role
    may see; HouseMember: through its house."""
    grids = grid_scope(actor)
    if model is HouseMember:
        houses = _registry_q(actor, House)
        return None if houses is None else Q(house_id__in=Subquery(House.filter(houses).values("id")))
    in_grids = None if grids is None else Subquery(Grid.filter(grids).values("id"))
    if model is PersonTag:
        tags = [t for t in KEY_GROUPS if may_see_tag(actor.roles, t, actor.system)]
        if actor.system:
            return None
        q = Q(tag__in=tags)
        if in_grids is None:
            return q
        return q & Q(person_id__in=Subquery(Person.filter(grid_id__in=in_grids).values("id")))
    return None if in_grids is None else Q(grid_id__in=in_grids)


def _through_case(actor: Actor) -> Q | None:
    return None if actor.system else Q(case_id__in=_visible_cases_ids(actor))


def _notifications_q(actor: Actor) -> Q:
    """An inbox: to the user or their role at their center, about no case or a case they can see."""
    if actor.user_id is None:
        return NOTHING
    parts = [Q(user_id=actor.user_id)]
    if actor.center_id and actor.roles:
        parts.append(Q(center_id=actor.center_id, role__in=sorted(actor.roles)))
    return Q(*parts, join_type=Q.OR) & (Q(case_id=None) | Q(case_id__in=_visible_cases_ids(actor)))


def _sweep_tasks_q(actor: Actor) -> Q | None:
    """Sweep tasks of the actor's center subtree, and of a grid worker's grids."""
    if actor.system:
        return None
    parts = []
    if actor.center_path:
        parts.append(Q(center_path__startswith=actor.center_path))
    if actor.grid_ids:
        parts.append(Q(grid_id__in=list(actor.grid_ids)))
    return Q(*parts, join_type=Q.OR) if parts else NOTHING


def _audit_q(actor: Actor) -> Q | None:
    """Auditors only: all rows for an auditor of no center, else the rows of their subtree's users."""
    if actor.system:
        return None
    if not actor.has(Role.auditor):
        return NOTHING
    if not actor.center_path:
        return None
    centers = Subquery(Center.filter(path__startswith=actor.center_path).values("id"))
    return Q(actor_id__in=Subquery(User.filter(center_id__in=centers).values("id")))


#: Roles that review citizens' reports (the same as ``services.citizens.REVIEW_ROLES``).
REPORT_REVIEW_ROLES = (Role.staff, Role.leader, Role.admin)


def _practices_q(actor: Actor, model: type[Model]) -> Q | None:
    """Sweep schedules: their county's subtree and those below the county (who do the sweeps);
    analysis meetings: the actor's center subtree; citizens' reports: the subtree, for reviewers."""
    if actor.system:
        return None
    path = actor.center_path
    if not path or is_partner(actor):
        return NOTHING
    if model is SweepSchedule:
        return Q(county__path__startswith=path) | Q(county_id__in=_ancestor_ids(path))
    if model is CitizenReport and not actor.has(*REPORT_REVIEW_ROLES):
        return NOTHING
    return Q(center__path__startswith=path)


def _scope_q(actor: Actor, model: type[Model]) -> Q | None:
    """The filter on ``model`` for what ``actor`` may see; ``None`` when it sees every row."""
    if model is Case:
        return case_scope(actor)
    if model is Notification:
        return _notifications_q(actor)
    if model is SweepTask:
        return _sweep_tasks_q(actor)
    if model in (SweepSchedule, AnalysisMeeting, CitizenReport):
        return _practices_q(actor, model)
    if model is AuditLog:
        return _audit_q(actor)
    if model is ApiToken:  # an admin's: the tokens of the accounts they manage
        if actor.system:
            return None
        if not actor.has(Role.admin) or is_partner(actor):
            return NOTHING
        return Q(user_id__in=Subquery(visible(actor, User).values("id")))
    if model is MediatorChoice:  # through its case, and the mediator asked sees the request
        through = _through_case(actor)
        return through | Q(mediator_id=actor.user_id) if through is not None and actor.user_id else through
    if model is Person:
        return people_q(actor)
    if model is Whistle and actor.department_id and not actor.system:
        # The summoned department sees its whistle, even on a case outside its jurisdiction.
        return Q(case_id__in=_visible_cases_ids(actor)) | Q(department_id=actor.department_id)
    if model in (CaseEvent, Assignment, Whistle, Evidence, Decision, CaseParty):
        return _through_case(actor)
    if model in (House, OrgUnit, Visit, PersonTag, HouseMember):
        return _registry_q(actor, model)
    if model is Delivery:  # an admin's: all for a platform admin, else those of their cases
        if _sees_org(actor):
            return None
        return _through_case(actor) if actor.has(Role.admin) and not is_partner(actor) else NOTHING
    if _sees_org(actor):
        return None
    if is_partner(actor):
        return Q(id=actor.user_id) if model is User and actor.user_id else NOTHING
    if model is Center:
        return _centers_q(actor)
    if model is Grid:
        return _grids_q(actor)
    if model is Department:
        return _departments_q(actor)
    if model is User:
        return _users_q(actor)
    raise TypeError(f"no jurisdiction rule for {model.__name__}")


def visible(actor: Actor, model: type[Model]) -> QuerySet:
    """The rows of ``model`` that ``actor`` may see: the one place that decides it, per kind."""
    q = _scope_q(actor, model)
    return model.all() if q is None else model.filter(q)


#: The noun an error names, per model (as GraphQL type names spell them).
_NOUNS = {
    Evidence: "evidence",
    CaseEvent: "event",
    Delivery: "delivery",
    OrgUnit: "unit",
    HouseMember: "house member",
    PersonTag: "tag",
}


async def resolve_ref(actor: Actor, model: type[Model], pk: int, field: str, **extra):
    """The row of ``model`` with primary key ``pk`` if ``actor`` may see it, else ``NOT_FOUND``.

    ``extra`` narrows further (``active=True``); a row it excludes is as absent as an invisible one.
    """
    row = await visible(actor, model).filter(id=pk, **extra).first()
    if row is None:
        noun = _NOUNS.get(model, model.__name__.lower())
        raise NotFound(f"no {noun} {pk} in your jurisdiction", field=field)
    return row


async def visible_ids(actor: Actor, model: type[Model], ids: list[int]) -> set[int]:
    """Which of ``ids`` the actor may see, in one statement."""
    if not ids:
        return set()
    return set(await visible(actor, model).filter(id__in=ids).values_list("id", flat=True))


async def may_see_person(actor: Actor, person_id: int) -> bool:
    return await visible(actor, Person).filter(id=person_id).exists()
