"""Partner intake: the case, its record and what a plugin adds to a new case are one transaction."""

from __future__ import annotations

import pytest

from zongzhi.platform.base.codes import CaseStatus, PartyRole
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import Case, CaseEvent, Outbox, PartnerRecord
from zongzhi.platform.partners import create_credential
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.partner_intake import own_case, partner_case
from zongzhi.platform.services.people import PersonInput


async def _credential(world, plugin: str = "court_docking"):
    credential, _ = await create_credential(Actor.system_actor("test admin"), plugin, "示范县人民法院")
    return credential


def _input(world, id_number: str | None = None) -> svc.CaseInput:
    return svc.CaseInput(
        title="诉前调解：装修款",
        category="contract",
        center_id=world.centers["ta"].id,
        parties=[svc.PartyInput(PartyRole.applicant, person=PersonInput("张三", id_number))],
    )


async def test_a_new_case_and_its_record_are_written_with_the_plugins_events(rules):
    world = rules
    credential = await _credential(world)
    referred = ("court.confirmation_requested", {"agreement": "分期付款"})
    case, created = await partner_case(
        credential, "court", "(2026)1号", _input(world), {"case_number": "(2026)1号"}, events=[referred]
    )
    assert created and case.channel == "court" and case.external_channel == f"court#{credential.id}"
    record = await PartnerRecord.get(case_id=case.id, plugin="court_docking")
    assert record.credential_id == credential.id and record.data == {"case_number": "(2026)1号"}
    types = await CaseEvent.filter(case_id=case.id, rule=None).order_by("id").values_list("type", flat=True)
    assert list(types)[:2] == ["case.received", "court.confirmation_requested"]
    assert await Outbox.filter(event__case_id=case.id).count() >= 2
    again, created = await partner_case(
        credential, "court", "(2026)1号", _input(world), {"case_number": "other"}, events=[referred]
    )
    assert (again.id, created) == (case.id, False)
    assert await CaseEvent.filter(case_id=case.id, type="court.confirmation_requested").count() == 1


async def test_a_refusal_is_written_with_the_case(rules):
    world = rules
    credential = await _credential(world, "petition_docking")
    case, created = await partner_case(
        credential, "petition", "XF-1", _input(world), {"item_number": "XF-1"}, refusal="不属于申诉求决类"
    )
    assert created and case.status == CaseStatus.rejected and case.reject_reason == "不属于申诉求决类"
    assert await PartnerRecord.exists(case_id=case.id, plugin="petition_docking")


async def test_anything_refused_leaves_nothing_written(rules):
    """A bad event type after the case was inserted rolls the case and the record back with it."""
    world = rules
    credential = await _credential(world)
    with pytest.raises(ValidationFailed) as refused:
        await partner_case(
            credential, "court", "(2026)2号", _input(world), {}, events=[("court.no_such_event", {})]
        )
    assert refused.value.field == "type"
    assert await own_case(credential, "court", "(2026)2号") is None
    assert not await Case.exists(external_id="(2026)2号")
    assert not await PartnerRecord.exists(credential_id=credential.id)
    with pytest.raises(ValidationFailed) as bad_id:
        await partner_case(credential, "court", "(2026)3号", _input(world, "123"), {})
    assert bad_id.value.field.startswith("parties[0].person.")
    assert not await Case.exists(external_id="(2026)3号")


async def test_another_credentials_id_is_another_case(rules):
    world = rules
    first, second = await _credential(world), await _credential(world)
    a, _ = await partner_case(first, "court", "(2026)9号", _input(world), {})
    b, created = await partner_case(second, "court", "(2026)9号", _input(world), {})
    assert created and a.id != b.id
    assert (await own_case(first, "court", "(2026)9号")).id == a.id
