"""The audit log: one way in for every row, each chained to the one before by a keyed hash.

Every ``AuditLog`` row is written through ``append_row`` (``AuditLog.save`` calls it, so
``AuditLog.create`` anywhere in the code is chained too). Inside one transaction it first writes to
the single ``AuditChainHead`` row, which locks it (a row lock on PostgreSQL, the write lock on
SQLite) until commit, so concurrent writers append one after another. The row gets the next
``seq``, the head's hash as ``prev_hash`` and ``hash = HMAC-SHA256(key, canonical content +
prev_hash)``; the head then takes the new seq and hash, with a MAC of its own so that cutting rows
off the end and rewinding the head is detected too. ``seq`` is unique: even a writer that somehow
bypassed the lock could not fork the chain, only fail.
The head stays locked until the caller's transaction ends, so a service writes its audit row as its
transaction's last statement (as every one does): a transaction that took the head first and then
waited for another lock could deadlock with one holding that lock and waiting for the head.

``verify`` walks the chain: a row changed, inserted or deleted in the database (by anyone without
the key) breaks it at that row. Rows written before the chain existed (``seq`` null) are counted
and left alone, but one appearing after the chain began is an insertion.

Reveals of full ID or phone numbers are audited here for every transport (``record_reveal``):
GraphQL over HTTP and WebSocket through ``schema.reveal_audit``, the command line from ``cli``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from zongzhi.platform.base import security
from zongzhi.platform.models import AuditChainHead, AuditLog, AuditSubject

HEAD_ID = 1
#: What ``AuditLog.action`` says for each reveal of full ID or phone numbers.
REVEAL_ACTION = "pii.read"
VERIFY_BATCH = 1000


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(seq: int, at: datetime, actor_id: int | None, action: str, target: str, details: Any) -> bytes:
    """The bytes a row's hash covers: every column but the id and the hashes, in a fixed form."""
    content = {
        "seq": seq,
        "at": _utc(at),
        "actor": actor_id,
        "action": action,
        "target": target,
        "details": details,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(key: bytes, content: bytes, prev_hash: str) -> str:
    return hmac.new(key, content + b"|" + prev_hash.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    return hmac.new(key, f"head|{seq}|{last_hash}".encode(), hashlib.sha256).hexdigest()


async def _locked_head(conn, key: bytes) -> AuditChainHead:
    """The chain head, locked for the rest of the transaction (created on first use)."""
    # A write first: it takes the lock before the head is read, on PostgreSQL and SQLite alike.
    if not await AuditChainHead.filter(id=HEAD_ID).using_db(conn).update(seq=F("seq")):
        try:
            async with in_transaction(conn.connection_name) as savepoint:
                await AuditChainHead.create(
                    id=HEAD_ID, seq=0, hash="", mac=head_mac(key, 0, ""), using_db=savepoint
                )
        except IntegrityError:
            pass  # another writer created it: lock theirs
        await AuditChainHead.filter(id=HEAD_ID).using_db(conn).update(seq=F("seq"))
    return await AuditChainHead.get(id=HEAD_ID).using_db(conn)


def subjects_of(details: Any) -> list[tuple[str, int]]:
    """The people and cases a row's details name (``people``/``person``, ``cases``/``case``)."""
    if not isinstance(details, dict):
        return []
    found: list[tuple[str, int]] = []
    for kind, many, one in (("person", "people", "person"), ("case", "cases", "case")):
        values = list(details.get(many) or []) + ([details[one]] if details.get(one) is not None else [])
        found += [(kind, v) for v in dict.fromkeys(values) if isinstance(v, int) and not isinstance(v, bool)]
    return found


async def append_row(row: AuditLog, using_db=None) -> None:
    """Give ``row`` its place in the chain and insert it, in the caller's transaction if there is one."""
    key = security.audit_key()
    name = using_db.connection_name if using_db is not None else "default"
    async with in_transaction(name) as conn:
        head = await _locked_head(conn, key)
        row.seq = head.seq + 1
        row.at = datetime.now(UTC)
        row.details = row.details if row.details is not None else {}
        row.prev_hash = head.hash
        content = canonical(row.seq, row.at, row.actor_id, row.action, row.target, row.details)
        row.hash = row_hash(key, content, head.hash)
        await row._insert(conn)
        subjects = [AuditSubject(entry_id=row.id, kind=k, ref=r) for k, r in subjects_of(row.details)]
        if subjects:
            await AuditSubject.bulk_create(subjects, using_db=conn)
        await (
            AuditChainHead.filter(id=HEAD_ID)
            .using_db(conn)
            .update(seq=row.seq, hash=row.hash, mac=head_mac(key, row.seq, row.hash))
        )


async def record(
    action: str, target: str = "", *, actor_id: int | None = None, details: dict | None = None
) -> AuditLog:
    """Append one audit row (the function new code calls; ``AuditLog.create`` does the same)."""
    return await AuditLog.create(actor_id=actor_id, action=action, target=target, details=details or {})


async def record_reveal(
    actor_id: int | None, people: Iterable[int], via: str, **details: Any
) -> AuditLog | None:
    """One row for one answer that showed full ID or phone numbers: who, whose, and over what.

    ``via`` is the transport: ``http``, ``websocket`` (one row per pushed message) or ``cli``.
    """
    ids = sorted(set(people))
    if not ids:
        return None
    return await record(
        REVEAL_ACTION, "person", actor_id=actor_id, details={"people": ids, "via": via, **details}
    )


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: the rows checked and, if the chain is broken, where and why."""

    checked: int
    unchained: int
    last_seq: int
    last_hash: str
    broken_id: int | None = None
    broken_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


async def verify() -> Verification:
    """Walk the chain in order and report the first row that does not fit."""
    key = security.audit_key()
    first = await AuditLog.filter(seq__isnull=False).order_by("seq").first().values("id")
    unchained = await AuditLog.filter(seq__isnull=True).count()
    if first is not None:
        intruder = await AuditLog.filter(seq__isnull=True, id__gt=first["id"]).order_by("id").first()
        if intruder is not None:
            return Verification(
                0, unchained, 0, "", intruder.id, None, "a row without a place in the chain was inserted"
            )
    expected, prev, checked = 1, "", 0
    while True:
        batch = await AuditLog.filter(seq__gte=expected).order_by("seq").limit(VERIFY_BATCH)
        for row in batch:
            problem = ""
            if row.seq != expected:
                problem = f"row(s) with seq {expected}..{row.seq - 1} are missing (deleted)"
            elif row.prev_hash != prev:
                problem = "prev_hash does not match the previous row's hash"
            else:
                content = canonical(row.seq, row.at, row.actor_id, row.action, row.target, row.details)
                if not hmac.compare_digest(row.hash, row_hash(key, content, prev)):
                    problem = "content does not match its hash (changed after it was written)"
            if problem:
                return Verification(checked, unchained, expected - 1, prev, row.id, row.seq, problem)
            checked += 1
            expected, prev = row.seq + 1, row.hash
        if len(batch) < VERIFY_BATCH:
            break
    head = await AuditChainHead.get_or_none(id=HEAD_ID)
    last_seq = expected - 1
    head_seq, head_hash, mac = (head.seq, head.hash, head.mac) if head else (0, "", head_mac(key, 0, ""))
    if head_seq != last_seq or head_hash != prev:
        return Verification(
            checked,
            unchained,
            last_seq,
            prev,
            None,
            last_seq + 1,
            f"the chain head says seq {head_seq}: row(s) after seq {last_seq} are missing (deleted)",
        )
    if head is not None and not hmac.compare_digest(mac, head_mac(key, head_seq, head_hash)):
        return Verification(checked, unchained, last_seq, prev, None, None, "the chain head was rewritten")
    return Verification(checked, unchained, last_seq, prev)
