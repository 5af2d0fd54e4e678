"""Township B's objects and township A's users, for probing one township's reach into the other.

``build_targets`` adds to the test county (``tests/world.py``): a user of every role in township A
(the world has some; leader, rule author, admin, partner and department officer are added here),
and in township B a court referral with a party, an open case, their events, a decision, stored
and pending evidence, a whistle to B's own police station, a delivery to B's court, a ruleset
owned by B, and B's registry (``_b_registry``): a house with B's party as its owner, a
unit with a contact phone, a key-group tag and a visit. ``Targets.ids`` names them by key (``"b_case"``) as global IDs; ``Targets.secrets``
are strings of B that must appear in no reply to township A.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.casework import actor, new_case, take_to
from tests.security.practices_matrix import add_practice_targets
from tests.world import World
from zongzhi.platform.base import pii
from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, PartyRole, Residence, Risk, Role
from zongzhi.platform.base.registry_codes import uscc_check_char
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.domain import audit
from zongzhi.platform.domain.actor import Actor, actor_for_user
from zongzhi.platform.models import (
    ApiToken,
    CaseEvent,
    Decision,
    Delivery,
    Evidence,
    Notification,
    Visit,
    Whistle,
)
from zongzhi.platform.partners import create_credential
from zongzhi.platform.rules.versions import save_draft
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services import registry as registry_svc
from zongzhi.platform.services.accounts import create_api_token, create_user
from zongzhi.platform.services.org import create_department, station_department
from zongzhi.platform.services.partner_intake import partner_case
from zongzhi.platform.services.people import PersonInput

#: Township A's users, one per role: the rows of the matrix. A new role is one line here and one in
#: ``A_USERS_ADDED`` (e.g. ``"auditor": "a_auditor"`` and ``"a_auditor": (["auditor"], "ta", {})``).
A_ROLES = {
    "staff": "a_staff",
    "mediator": "a_mediator",
    "grid_worker": "a1_grid",
    "leader": "a_leader",
    "rule_author": "a_rule_author",
    "admin": "a_admin",
    "partner": "a_partner",
    "department": "a_police",
    "auditor": "a_auditor",
}

#: Township A's users the test county lacks: ``username: (roles, center key, other create_user args)``.
A_USERS_ADDED: dict[str, tuple[list[str], str | None, dict]] = {
    "a_leader": (["leader"], "ta", {}),
    "a_rule_author": (["rule_author"], "ta", {}),
    "a_admin": (["admin"], "ta", {}),
    "a_partner": (["partner"], "ta", {"plugin": "court_docking"}),
    "a_police": (["department"], None, {"department": "police"}),
    "a_auditor": (["auditor"], "ta", {}),
}


def valid_id_number(first17: str) -> str:
    return first17 + pii.id_check_char(first17)


B_PERSON = {
    "name": "乙镇秘密当事人",
    "id_number": valid_id_number("33011019800202123"),
    "phone": "13955550123",
    "address": "乙镇保密路88号",
}
B_CASE_NUMBER = "(2026)浙0110民诉前调乙001号"
B_MARK = "乙镇内部标记"  # in B's title, evidence name, decision, delivery, ruleset, tag and visit
B_HOUSE = {"code": "H-B1-SECRET", "address": "乙镇秘密房屋9号"}
B_UNIT = {"name": "乙镇秘密商店", "phone": "13966660456"}


def credit_code(first17: str) -> str:
    return first17 + uscc_check_char(first17)


B_CREDIT_CODE = credit_code("91330110MB2B3C4D5")


def ruleset_source(name: str) -> str:
    return f"""ruleset: {name}
rules:
  - id: tag-b
    on: case.received
    when:
      all:
        - category: neighbor
    then:
      - tag: {{add: [{B_MARK}]}}
"""


@dataclass
class Targets:
    ids: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    b_case_number: str = ""
    b_ruleset: str = "b_local"


def _gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


async def _a_users(world: World, targets: Targets) -> None:
    for username, (roles, center, extra) in A_USERS_ADDED.items():
        kwargs = dict(extra)
        if "department" in kwargs:
            kwargs["department"] = world.departments[kwargs["department"]]
        if center is not None:
            kwargs["center"] = world.centers[center]
        user = await create_user(username, username, roles, **kwargs)
        world.users[username] = user
        world.tokens[username] = issue_jwt(user.id, user.username)
    targets.tokens = {role: world.tokens[username] for role, username in A_ROLES.items()}


async def _b_registry(world: World, person_id: int) -> dict[str, int]:
    """B's registry in grid B1-G1 (house with B's party, unit, tag, visit) and a house of A's."""
    system = Actor.system_actor("test registry")
    grid = world.grids["b1g1"].id
    house = await registry_svc.save_house(
        system, registry_svc.HouseInput(code=B_HOUSE["code"], address=B_HOUSE["address"], grid_id=grid)
    )
    await registry_svc.link_person(system, house.id, person_id, "owner", "户主")
    unit = await registry_svc.save_unit(
        system,
        registry_svc.UnitInput(
            name=B_UNIT["name"],
            kind="shop",
            credit_code=B_CREDIT_CODE,
            grid_id=grid,
            contact_phone=B_UNIT["phone"],
        ),
    )
    await registry_svc.tag_person(system, person_id, "elderly_alone", note=B_MARK)
    visit = await Visit.create(
        worker=world.users["b1_grid"], grid_id=grid, at=datetime.now(UTC), house=house, findings=B_MARK
    )
    a_house = await registry_svc.save_house(
        system,
        registry_svc.HouseInput(code="H-A1-PROBE", address="甲一村探针1号", grid_id=world.grids["a1g1"].id),
    )
    return {"house": house.id, "unit": unit.id, "visit": visit.id, "a_house": a_house.id}


async def build_targets(world: World) -> Targets:
    targets = Targets()
    await _a_users(world, targets)
    tb, vb1 = world.centers["tb"], world.centers["vb1"]
    b_police = await create_department("ga-b", "乙镇派出所", "公安")
    await station_department(tb, b_police, Residence.resident)
    b_author = await create_user("b_rule_author", "b_rule_author", [str(Role.rule_author)], center=tb)
    b_staff = await actor(world, "b_staff")

    credential, _ = await create_credential(
        Actor.system_actor("test admin"), "court_docking", "乙镇法庭", "http://127.0.0.1:9/cb", tb.code
    )
    referral = svc.CaseInput(
        title=f"诉前调解：{B_MARK}",
        category="contract",
        center_id=tb.id,
        grid_id=world.grids["b1g1"].id,
        parties=[
            svc.PartyInput(
                role=PartyRole.applicant,
                person=PersonInput(
                    B_PERSON["name"],
                    B_PERSON["id_number"],
                    B_PERSON["phone"],
                    B_PERSON["address"],
                    grid_id=world.grids["b1g1"].id,
                ),
            )
        ],
    )
    record = {
        "case_number": B_CASE_NUMBER,
        "court": "乙镇法庭",
        "claim": B_MARK,
        "amount": None,
        "referral_date": "2026-10-01",
    }
    b_case, _ = await partner_case(credential, "court", B_CASE_NUMBER, referral, record)
    await svc.assess(b_staff, b_case.id)
    await svc.dispatch(b_staff, b_case.id, AssignmentMode.self_handle, [])
    await svc.accept(b_staff, b_case.id)
    await svc.resolve(b_staff, b_case.id, "达成协议", f"协议：{B_MARK}", 100)
    b_open = await new_case(world, grid="b1g1", filer="b1_grid", title=f"乙镇未结案件{B_MARK}")
    await svc.flag_risk(b_staff, b_open.id, Risk.high, "民转刑风险")
    person_id = (await b_case.parties.all())[0].person_id
    event = await CaseEvent.filter(case_id=b_case.id).order_by("id").first()
    assignment = await b_case.assignments.all().first()
    await Decision.create(
        event=event, case=b_case, ruleset="core", version=1, rule_id=B_MARK, action_index=0, action="tag"
    )
    stored = await Evidence.create(
        case=b_case,
        key="b/stored",
        filename=f"{B_MARK}.jpg",
        content_type="image/jpeg",
        size=3,
        sha256="0" * 64,
        status="stored",
    )
    pending = await Evidence.create(
        case=b_open,
        key="b/pending",
        filename=f"{B_MARK}-待传.jpg",
        content_type="image/jpeg",
        size=3,
        sha256="0" * 64,
        status="pending",
    )
    whistle = await Whistle.create(
        case=b_open, department=b_police, due=datetime.now(UTC) + timedelta(days=1)
    )
    delivery = await Delivery.create(
        plugin="court_docking",
        credential=credential,
        case=b_case,
        event=event,
        kind="b",
        payload={"note": B_MARK},
        status="failed",
    )
    b_note = await Notification.create(
        case=b_case, role="staff", center=tb, kind="overdue", message=f"{b_case.number} {B_MARK}"
    )
    # Addressed to township A's staff but about B's case: an inbox shows only what its owner can see.
    await Notification.create(case=b_case, role="staff", center=world.centers["ta"], message=B_MARK)
    await create_api_token(world.users["b_staff"], f"令牌{B_MARK}")
    b_token = await ApiToken.filter(user_id=world.users["b_staff"].id).order_by("-id").first()
    await save_draft(await actor_for_user(b_author), targets.b_ruleset, ruleset_source(targets.b_ruleset))
    await save_draft(None, "core", ruleset_source("core"))

    registry = await _b_registry(world, person_id)
    b_audit = await audit.record("case.read", B_MARK, actor_id=world.users["b_staff"].id)

    # Township A's own cases, the vehicles for probes whose ID inside an input points into B.
    a_assessed = await take_to(world, await new_case(world), CaseStatus.assessed)
    a_handling = await take_to(world, await new_case(world), CaseStatus.handling)

    targets.ids = {
        "b_case": _gid("Case", b_case.id),
        "b_open": _gid("Case", b_open.id),
        "b_person": _gid("Person", person_id),
        "b_event": _gid("CaseEvent", event.id),
        "b_assignment": _gid("Assignment", assignment.id),
        "b_evidence": _gid("Evidence", stored.id),
        "b_pending": _gid("Evidence", pending.id),
        "b_whistle": _gid("Whistle", whistle.id),
        "b_delivery": _gid("Delivery", delivery.id),
        "b_center": _gid("Center", tb.id),
        "b_village": _gid("Center", vb1.id),
        "b_grid": _gid("Grid", world.grids["b1g1"].id),
        "b_user": _gid("User", world.users["b_staff"].id),
        "b_department": _gid("Department", b_police.id),
        "b_token": _gid("ApiToken", b_token.id),
        "b_house": _gid("House", registry["house"]),
        "b_unit": _gid("OrgUnit", registry["unit"]),
        "b_visit": _gid("Visit", registry["visit"]),
        "b_grid_worker": _gid("User", world.users["b1_grid"].id),
        "b_notification": _gid("Notification", b_note.id),
        "b_audit": _gid("AuditLog", b_audit.id),
        "a_center": _gid("Center", world.centers["ta"].id),
        "a_village": _gid("Center", world.centers["va1"].id),
        "a_grid": _gid("Grid", world.grids["a1g1"].id),
        "a_house": _gid("House", registry["a_house"]),
        "a_user": _gid("User", world.users["a_staff"].id),
        "a_assessed": _gid("Case", a_assessed.id),
        "a_handling": _gid("Case", a_handling.id),
    }
    targets.b_case_number = b_case.number
    targets.secrets = [
        B_MARK,
        b_case.number,
        b_open.number,
        B_CASE_NUMBER,
        B_PERSON["name"],
        B_PERSON["id_number"],
        B_PERSON["phone"],
        B_PERSON["address"],
        B_HOUSE["code"],
        B_HOUSE["address"],
        B_UNIT["name"],
        B_UNIT["phone"],
        B_CREDIT_CODE,
    ]
    await add_practice_targets(world, targets, B_MARK)
    return targets
