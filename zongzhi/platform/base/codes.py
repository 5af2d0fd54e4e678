"""Code lists with their Chinese labels.

Fixed vocabularies that the state machine and access rules depend on are enums (status, risk, role,
assignment mode, party role, center level). Vocabularies that plugins may extend — categories,
case kinds, intake channels — are data: a ``CodeList`` that the plugin manager adds to at start-up,
validated on input and shown to front ends as ``{code, label}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label: ``Member = ("code", "标签")``."""

    label: str

    def __new__(cls, value: str, label: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    def __str__(self) -> str:
        return self.value


class CenterLevel(LabelledEnum):
    province = ("province", "省级")
    city = ("city", "市级")
    county = ("county", "县级")
    township = ("township", "乡镇级")
    village = ("village", "村（社区）级")

    @property
    def rank(self) -> int:
        return list(CenterLevel).index(self)


class Residence(LabelledEnum):
    resident = ("resident", "常驻")
    rotating = ("rotating", "轮驻")
    on_call = ("on_call", "随驻")


class Role(LabelledEnum):
    staff = ("staff", "中心工作人员")
    mediator = ("mediator", "调解员")
    grid_worker = ("grid_worker", "网格员")
    leader = ("leader", "领导")
    rule_author = ("rule_author", "规则维护员")
    admin = ("admin", "管理员")
    partner = ("partner", "对接单位")
    department = ("department", "部门承办人")
    auditor = ("auditor", "安全审计员")


class CaseStatus(LabelledEnum):
    received = ("received", "已受理")
    assessed = ("assessed", "已研判")
    rejected = ("rejected", "不予受理")
    dispatched = ("dispatched", "已分流")
    handling = ("handling", "办理中")
    resolved = ("resolved", "调处成功")
    failed = ("failed", "调处失败")
    closed = ("closed", "已办结")
    followed_up = ("followed_up", "已回访")
    withdrawn = ("withdrawn", "已撤回")


class Risk(LabelledEnum):
    none = ("none", "无")
    low = ("low", "低")
    medium = ("medium", "中")
    high = ("high", "高")


class AssignmentMode(LabelledEnum):
    self_handle = ("self", "自办")
    transfer = ("transfer", "转办")
    joint = ("joint", "联办")
    supervise = ("supervise", "督办")


class UnitKind(LabelledEnum):
    center = ("center", "中心")
    department = ("department", "部门")
    user = ("user", "个人")


class PartyRole(LabelledEnum):
    applicant = ("applicant", "申请人")
    respondent = ("respondent", "被申请人")
    other = ("other", "其他当事人")


class FollowUpMethod(LabelledEnum):
    visit = ("visit", "走访")
    call = ("call", "电话")
    online = ("online", "线上")


class CodeList:
    """An ordered, extendable list of ``code → label``; codes are lowercase identifiers."""

    def __init__(self, name: str, items: dict[str, str]) -> None:
        self.name = name
        self._items = dict(items)

    def add(self, code: str, label: str) -> None:
        if not code.replace("_", "").isalnum() or code.lower() != code:
            raise ValueError(f"{self.name} code {code!r} must be a lowercase identifier")
        self._items.setdefault(code, label)

    def label(self, code: str) -> str:
        return self._items.get(code, code)

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def items(self) -> list[tuple[str, str]]:
        return list(self._items.items())

    def codes(self) -> list[str]:
        return list(self._items)


BASE_CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        "marriage_family": "婚姻家庭",
        "neighbor": "邻里纠纷",
        "housing_homestead": "房屋宅基地",
        "contract": "合同纠纷",
        "business": "生产经营",
        "damages": "损害赔偿",
        "land_forest": "山林土地",
        "land_acquisition": "征地拆迁",
        "environment": "环境污染",
        "labor": "劳动争议",
        "consumer": "消费纠纷",
        "medical": "医疗纠纷",
        "traffic": "道路交通事故",
        "property_management": "物业纠纷",
        "safety_hazard": "公共安全隐患",
        "livelihood_service": "民生服务",
        "public_opinion": "社情民意",
        "other": "其他",
    },
)

BASE_KINDS: Mapping[str, str] = MappingProxyType(
    {"dispute": "矛盾纠纷", "hazard": "安全隐患", "service": "民生服务", "opinion": "社情民意"},
)

BASE_CHANNELS: Mapping[str, str] = MappingProxyType(
    {
        "window": "窗口受理",
        "grid": "网格上报",
        "hotline": "热线电话",
        "online": "网上受理",
        "referral": "上级交办",
    },
)

#: Channels that partner plugins own; their cases arrive through signed webhooks, not intake. Each
#: is declared by its plugin's ``zongzhi_codes`` hook (court, police, petition: the built-in
#: docking plugins) and joins the platform's set, so a disabled plugin's channel is in no list.
BASE_PARTNER_CHANNELS: frozenset[str] = frozenset()


@dataclass
class Vocabulary:
    """One platform's code lists: the core's, plus what its plugins added at start-up."""

    categories: CodeList
    kinds: CodeList
    channels: CodeList
    partner_channels: set[str]
    #: Every case event type with its label; ``extra_event_types`` are the ones plugins added.
    event_types: dict[str, str]
    extra_event_types: set[str] = field(default_factory=set)

    @classmethod
    def core(cls) -> Vocabulary:
        from zongzhi.platform.base.event_types import EVENT_TYPES

        return cls(
            CodeList("category", dict(BASE_CATEGORIES)),
            CodeList("kind", dict(BASE_KINDS)),
            CodeList("channel", dict(BASE_CHANNELS)),
            set(BASE_PARTNER_CHANNELS),
            dict(EVENT_TYPES),
        )


class CurrentCodes:
    """A read-only view of one code list of the current platform (``CATEGORIES``, ``CHANNELS``, ...).

    It holds no codes itself: each call reads the running platform's vocabulary, so a plugin's codes
    exist exactly where that plugin is loaded, and a test's platform never leaks into the next test.
    """

    def __init__(self, attribute: str) -> None:
        self._attribute = attribute

    def _target(self) -> CodeList:
        from zongzhi.platform.base.current import current

        return getattr(current().codes, self._attribute)

    def label(self, code: str) -> str:
        return self._target().label(code)

    def __contains__(self, code: object) -> bool:
        return code in self._target()

    def __iter__(self) -> Iterator[str]:
        return iter(self._target().codes())

    def items(self) -> list[tuple[str, str]]:
        return self._target().items()

    def codes(self) -> list[str]:
        return self._target().codes()


class CurrentPartnerChannels:
    """The current platform's partner channels (read-only view, as :class:`CurrentCodes`)."""

    def __contains__(self, code: object) -> bool:
        from zongzhi.platform.base.current import current

        return code in current().codes.partner_channels

    def __iter__(self) -> Iterator[str]:
        from zongzhi.platform.base.current import current

        return iter(sorted(current().codes.partner_channels))


CATEGORIES = CurrentCodes("categories")
KINDS = CurrentCodes("kinds")
CHANNELS = CurrentCodes("channels")
PARTNER_CHANNELS = CurrentPartnerChannels()
