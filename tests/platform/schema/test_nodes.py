"""``node(id:)``: one mechanism (Strawberry's ``relay.Node``) for every type with a global ID.

The IDs keep their spelling from before relay (unpadded base64url of ``Type:pk``), so ids clients
stored keep working; each type resolves through ``jurisdiction.visible`` (the outsider's ``null``
is the jurisdiction matrix's ``query.node`` probes).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import strawberry
from strawberry import relay

from tests.casework import new_case
from tests.gql import gql
from tests.security.townships import build_targets
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.schema.context import Context
from zongzhi.platform.schema.ids import from_global_id, to_global_id
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services.accounts import create_user

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"

#: Each target's GraphQL type (the ID's type name differs for three of them).
TYPENAMES = {
    "b_case": "Case",
    "b_person": "Person",
    "b_event": "CaseEvent",
    "b_assignment": "Assignment",
    "b_center": "Center",
    "b_grid": "Grid",
    "b_user": "User",
    "b_department": "Department",
    "b_whistle": "Whistle",
    "b_evidence": "Evidence",
    "b_pending": "Evidence",
    "b_delivery": "Delivery",
    "b_house": "House",
    "b_unit": "OrgUnit",
    "b_visit": "Visit",
    "b_sweep_task": "SweepTask",
    "b_meeting": "AnalysisMeeting",
    "b_report": "CitizenReport",
    "b_choice": "MediatorChoice",
    "b_token": "ApiTokenInfo",
}


def test_global_ids_keep_their_spelling():
    """``base64url("Case:42")`` without padding, where relay's own GlobalID pads standard base64."""
    assert to_global_id("Case", 42) == "Q2FzZTo0Mg"
    assert str(relay.GlobalID("Case", "42")) == "Q2FzZTo0Mg=="
    assert from_global_id("Q2FzZTo0Mg") == ("Case", 42)


async def test_node_fetches_every_type_with_a_global_id(client, world):
    targets = await build_targets(world)
    context = Context(settings=client.app.state.settings, actor=Actor.system_actor("node test"))
    schema = client.app.state.schema
    for key, typename in TYPENAMES.items():
        gid = targets.ids[key]
        result = await schema.execute(NODE, variable_values={"id": gid}, context_value=context)
        assert result.errors is None, (key, result.errors)
        assert result.data["node"] == {"__typename": typename, "id": gid}, key
    # Every served type that implements Node is covered above (the audit row needs an auditor).
    implementing = {t.name for t in schema._schema.get_implementations(schema._schema.type_map["Node"]).objects}
    assert implementing - set(TYPENAMES.values()) == {"AuditEntry", "Notification", "SweepSchedule"}


async def test_inbox_schedule_and_audit_rows_are_nodes_for_their_readers(client, world):
    targets = await build_targets(world)
    inbox = await gql(client, world.tokens["b_staff"], "{ notifications { edges { node { id } } } }")
    note = inbox["notifications"]["edges"][0]["node"]["id"]
    assert (await gql(client, world.tokens["b_staff"], NODE, {"id": note}))["node"]["id"] == note
    assert (await gql(client, world.tokens["a_staff"], NODE, {"id": note}))["node"] is None
    schedules = await gql(client, world.tokens["b_staff"], "{ sweepSchedules { id } }")
    schedule = schedules["sweepSchedules"][0]["id"]
    found = await gql(client, world.tokens["a_staff"], NODE, {"id": schedule})  # the county's, for both
    assert found["node"] == {"__typename": "SweepSchedule", "id": schedule}
    auditor = await create_user("county_auditor", "县审计员", ["auditor"])
    token = issue_jwt(auditor.id, auditor.username)
    row = targets.ids["b_audit"]
    assert (await gql(client, token, NODE, {"id": row}))["node"] == {"__typename": "AuditEntry", "id": row}
    assert (await gql(client, world.tokens["b_staff"], NODE, {"id": row}))["node"] is None


async def test_node_ids_are_the_ones_the_lists_hand_out(client, world):
    case = await new_case(world)
    data = await gql(client, world.tokens["county_staff"], "{ cases(first: 1) { edges { node { id } } } }")
    gid = data["cases"]["edges"][0]["node"]["id"]
    assert not gid.endswith("=")
    assert base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode() == f"Case:{case.id}"


def test_copy_of_fills_same_named_fields():
    @strawberry.type
    class Shown(ModelNode):
        name: str
        count: int = 0
        note: str = "given"

    @dataclass
    class Row:
        id: int
        name: str
        count: int

    shown = copy_of(Shown, Row(7, "甲", 3), note="override")
    assert (shown.pk, shown.name, shown.count, shown.note) == (7, "甲", 3, "override")
    with pytest.raises(TypeError):  # no name to copy, and no default for it
        copy_of(Shown, SimpleNamespace(id=8))
