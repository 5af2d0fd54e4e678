"""How this API spells a Relay global ID: unpadded base64url of ``Type:pk`` (``Case:42`` → ``Q2FzZTo0Mg``).

The node types are Strawberry's ``relay.Node`` (``schema.nodes``), but Relay's ``GlobalID`` prints
padded standard base64 (``Q2FzZTo0Mg==``) and cannot parse the unpadded form, so the IDs clients
have stored since the first release are encoded and checked here: a malformed ID, a number out of
range or an ID of another type is a ``VALIDATION`` error naming the argument.
"""

from __future__ import annotations

import base64
import binascii

from zongzhi.platform.base.errors import ValidationFailed

#: Primary keys are 32-bit integers, except in the tables that grow with every event (64-bit).
PK_MAX = 2**31 - 1
BIG_PK_MAX = 2**63 - 1
BIG_PK_TYPES = frozenset({"CaseEvent", "Decision", "Delivery", "AuditLog", "Notification"})


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str, expected: str | None = None, field: str = "id") -> tuple[str, int]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        value = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed(f"{global_id[:40]!r} is not a valid ID", field=field) from None
    if not 1 <= value <= (BIG_PK_MAX if type_name in BIG_PK_TYPES else PK_MAX):
        raise ValidationFailed(f"{global_id[:40]!r} is not a valid ID (number out of range)", field=field)
    if expected is not None and type_name != expected:
        raise ValidationFailed(f"{global_id[:40]!r} is not a {expected} ID", field=field)
    return type_name, value


def pk_of(global_id: str, expected: str, field: str) -> int:
    return from_global_id(global_id, expected, field)[1]
