"""GraphQL for 检调对接: the referral behind a case (``procuratorateReferral(caseId)``)."""

from __future__ import annotations

import strawberry
from zongzhi.platform.domain.jurisdiction import scoped_cases
from zongzhi.platform.models import PartnerRecord
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.ids import pk_of

from .payloads import MATTERS


@strawberry.type(description="检调对接: what the procuratorate sent when it referred the case for mediation.")
class ProcuratorateReferral:
    referral_id: str
    procuratorate: str
    matter: str = strawberry.field(description="criminal_reconciliation | public_interest")
    matter_label: str = strawberry.field(description="刑事和解 | 公益诉讼线索")
    criminal_case_number: str | None
    summary: str
    referral_date: str


@strawberry.type
class ProcuratorateQuery:
    @strawberry.field(description="检调对接: the procuratorate's referral behind a case, if there is one.")
    async def procuratorate_referral(
        self, info: Info, case_id: strawberry.ID
    ) -> ProcuratorateReferral | None:
        pk = pk_of(case_id, "Case", "caseId")
        if not await scoped_cases(actor_of(info)).filter(id=pk).exists():
            return None
        record = await PartnerRecord.get_or_none(case_id=pk, plugin="procuratorate_docking")
        if record is None:
            return None
        d = record.data
        return ProcuratorateReferral(
            referral_id=d["referral_id"],
            procuratorate=d["procuratorate"],
            matter=d["matter"],
            matter_label=MATTERS[d["matter"]],
            criminal_case_number=d.get("criminal_case_number"),
            summary=d["summary"],
            referral_date=d["referral_date"],
        )
