"""The data model (DESIGN.md §4). Tortoise reads every module listed in ``MODEL_MODULES``."""

from zongzhi.platform.models.cases import (
    Assignment,
    Case,
    CaseCounter,
    CaseEvent,
    CaseParty,
    FollowUp,
    Whistle,
)
from zongzhi.platform.models.evidence import Evidence, EvidenceAccess
from zongzhi.platform.models.org import Center, CenterDepartment, Department, Grid
from zongzhi.platform.models.partners import Delivery, DeliveryAttempt, PartnerCredential, PartnerRecord
from zongzhi.platform.models.people import ApiToken, Person, User, UserGrid
from zongzhi.platform.models.practices import (
    AnalysisMeeting,
    AssessmentConfig,
    CitizenCode,
    CitizenReport,
    HomeUnitScore,
    MediatorChoice,
    MediatorProfile,
    SweepSchedule,
    SweepTask,
)
from zongzhi.platform.models.registry import CaseLink, House, HouseMember, OrgUnit, PersonTag, Visit
from zongzhi.platform.models.rules import CalendarDay, Decision, Ruleset, RulesetVersion
from zongzhi.platform.models.system import (
    AuditChainHead,
    AuditLog,
    AuditSubject,
    Notification,
    NotificationRead,
    Outbox,
)

MODEL_MODULES = [
    "zongzhi.platform.models.org",
    "zongzhi.platform.models.people",
    "zongzhi.platform.models.cases",
    "zongzhi.platform.models.system",
    "zongzhi.platform.models.evidence",
    "zongzhi.platform.models.rules",
    "zongzhi.platform.models.partners",
    "zongzhi.platform.models.registry",
    "zongzhi.platform.models.practices",
]

__all__ = [
    "MODEL_MODULES",
    "AnalysisMeeting",
    "ApiToken",
    "AssessmentConfig",
    "Assignment",
    "AuditChainHead",
    "AuditLog",
    "AuditSubject",
    "CalendarDay",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CaseLink",
    "CaseParty",
    "Center",
    "CenterDepartment",
    "CitizenCode",
    "CitizenReport",
    "Decision",
    "Delivery",
    "DeliveryAttempt",
    "Department",
    "Evidence",
    "EvidenceAccess",
    "FollowUp",
    "Grid",
    "HomeUnitScore",
    "House",
    "HouseMember",
    "MediatorChoice",
    "MediatorProfile",
    "Notification",
    "NotificationRead",
    "OrgUnit",
    "Outbox",
    "PartnerCredential",
    "PartnerRecord",
    "Person",
    "PersonTag",
    "Ruleset",
    "RulesetVersion",
    "SweepSchedule",
    "SweepTask",
    "User",
    "UserGrid",
    "Visit",
    "Whistle",
]
