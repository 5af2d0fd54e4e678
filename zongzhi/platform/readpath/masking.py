"""A person's fields as ``types.Person`` shows them to the asker, from the row the statement read.

The same rules, in the same order: a party linked blind (``CaseParty.blind``) is seen only if the
asker may see the person anyway (``jurisdiction.people_q``, looked up once per answer for the
blind ones); an unseen person is ``***`` with no address, tags or phone; ID and phone numbers are
decrypted and shown in full only to the roles that may see them (``Actor.sees_pii``), and every
person shown in full is noted for the one audit row the answer writes, else they are masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zongzhi.platform.base import pii
from zongzhi.platform.base.security import cipher
from zongzhi.platform.domain.actor import Actor

#: What a person you cannot see is called (``types.UNSEEN_NAME``).
UNSEEN_NAME = "***"


@dataclass
class Sight:
    """Per answer: who asks, which blind-linked people they may see anyway, whom the answer revealed."""

    actor: Actor
    blind_seen: set[int] = field(default_factory=set)
    revealed: set[int] = field(default_factory=set)

    def seen(self, row: dict) -> bool:
        return not row.get("_blind") or row["id"] in self.blind_seen

    def reveal(self, row: dict) -> bool:
        if self.actor.sees_pii and self.seen(row):
            self.revealed.add(row["id"])
            return True
        return False


def name(row: dict, sight: Sight) -> str:
    return row["name"] if sight.seen(row) else UNSEEN_NAME


def address(row: dict, sight: Sight) -> str:
    return row["address"] if sight.seen(row) else ""


def tags(row: dict, sight: Sight) -> list[str]:
    return row["tags"] if sight.seen(row) else []


def id_number(row: dict, sight: Sight) -> str | None:
    if not row["id_number_enc"]:
        return None
    value = cipher().decrypt(row["id_number_enc"])
    return value if sight.reveal(row) else pii.mask_id_number(value)


def phone(row: dict, sight: Sight) -> str | None:
    if not row["phone_enc"]:
        return None
    value = cipher().decrypt(row["phone_enc"])
    if not sight.seen(row):
        return None
    return value if sight.reveal(row) else pii.mask_phone(value)


def blind_people(plan: Any, raw: dict, found: set[int]) -> None:
    """Add the ids of the people of the parties linked blind in ``raw`` (a row read for ``plan``)."""
    for key, relation, child in plan.relations:
        if not child.has_person or raw.get(key) is None:
            continue
        rows = raw[key] if relation.many else [raw[key]]
        for row in rows:
            if row.get("blind"):  # a party linked blind: the person read with it is checked
                found.update(row[k]["id"] for k, _r, c in child.relations if c.type_name == "Person")
            blind_people(child, row, found)
