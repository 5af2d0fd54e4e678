"""Township B's objects and township A's users, for probing one township's reach into the other.

``build_targets`` adds to the test county (``tests/world.py``): a user of every role in township A
(the world has some; leader, rule author, admin, partner and department officer are added here),
and in township B a court referral with a party, an open case, their events, a decision, stored
and pending evidence, a whistle to B's own police station, a delivery to B's court and a ruleset
owned by B. ``Targets.ids`` names them by key (``"b_case"``) as global IDs; ``Targets.secrets``
are strings of B that must appear in no reply to township A.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.casework import actor, new_case, take_to
from tests.security.practices_matrix import add_practice_targets
from tests.world import World
from zongzhi.platform import pii
from zongzhi.platform.actor import Actor, actor_for_user
from zongzhi.platform.codes import AssignmentMode, CaseStatus, PartyRole, Residence, Risk, Role
from zongzhi.platform.models import ApiToken, CaseEvent, Decision, Delivery, Evidence, Notification, Whistle
from zongzhi.platform.partners import create_credential, partner_case
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.security import issue_jwt
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.accounts import create_api_token, create_user
from zongzhi.platform.services.org import create_department, station_department
from zongzhi.platform.services.people import PersonInput
from zongzhi.platform.services.rulesets import save_draft

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
B_MARK = "乙镇内部标记"  # in B's title, evidence name, decision, delivery and ruleset


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
        "b_notification": _gid("Notification", b_note.id),
        "a_center": _gid("Center", world.centers["ta"].id),
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
    ]
    await add_practice_targets(world, targets, B_MARK)
    return targets
