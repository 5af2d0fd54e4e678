"""Vocabularies and checks of the registry: house uses, unit kinds, key-group tags, credit codes."""

from __future__ import annotations

from zongzhi.platform.base.codes import Role

HOUSE_USES = {"residential": "自住", "rental": "出租", "business": "经营", "vacant": "空置", "other": "其他"}
HOUSE_ROLES = {"owner": "产权人", "occupant": "居住人", "tenant": "承租人"}
UNIT_KINDS = {
    "enterprise": "企业",
    "shop": "商铺",
    "school": "学校",
    "organisation": "机关团体",
    "other": "其他",
}

_CASEWORK = frozenset(
    {str(Role.staff), str(Role.leader), str(Role.admin), str(Role.grid_worker), str(Role.mediator)}
)
_WATCH = frozenset({str(Role.leader), str(Role.admin), str(Role.grid_worker)})
#: Key groups a grid worker tracks: code → (label, the roles that may see the tag).
KEY_GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "elderly_alone": ("独居老人", _CASEWORK),
    "left_behind_child": ("留守儿童", _CASEWORK),
    "disabled": ("残疾人", _CASEWORK),
    "low_income": ("低保户", _CASEWORK),
    "key_person": ("重点人员", _WATCH),
    "mental_illness": ("严重精神障碍患者", _WATCH),
}
_BY_LABEL = {label: code for code, (label, _) in KEY_GROUPS.items()}


def key_group(value: str) -> str | None:
    """The key-group code for a code or its Chinese label, or ``None`` if it is not one."""
    value = value.strip()
    return value if value in KEY_GROUPS else _BY_LABEL.get(value)


def may_see_tag(roles: frozenset[str], tag: str, system: bool = False) -> bool:
    return system or bool(KEY_GROUPS.get(tag, ("", frozenset()))[1] & roles)


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> str | None:
    """Why ``value`` is not a unified social credit code (GB 32100-2015), or ``None`` if it is."""
    v = value.strip().upper()
    if len(v) != 18 or any(c not in _USCC_CHARS for c in v):
        return "must be 18 characters of 0-9 and A-Y without I, O, S, V, Z"
    if uscc_check_char(v[:17]) != v[17]:
        return "check character does not match (GB 32100)"
    return None
