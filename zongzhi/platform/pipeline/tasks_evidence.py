"""Periodic evidence housekeeping: remove uploads that were never confirmed.

A Celery beat task calls :func:`remove_orphans` with ``timedelta(hours=settings.evidence_orphan_hours)``.
Three kinds of leftovers are removed once older than that:

- pending Evidence rows (the client never confirmed; or a confirmation that died half-way), with their
  staged and final objects and unfinished multipart upload;
- objects under ``cases/`` that no Evidence row names (a row that was never created or was discarded);
- objects under ``staging/`` that no unconfirmed row is waiting for: among them whatever a client sent
  to an upload link after its evidence was confirmed (never served, see ``services/evidence.py``);
- unfinished multipart uploads the store still holds parts for.

Stored and withdrawn evidence is never touched.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from zongzhi.platform.models import Evidence
from zongzhi.platform.services.evidence import UNCONFIRMED
from zongzhi.storage import EvidenceStore, ObjectLocked

log = logging.getLogger(__name__)

_BATCH = 500


async def remove_orphans(store: EvidenceStore, older_than: timedelta) -> int:
    """Remove unconfirmed uploads older than ``older_than``; returns how many files or rows went."""
    cutoff = datetime.now(UTC) - older_than
    removed = 0
    for evidence in await Evidence.filter(status__in=UNCONFIRMED, created_at__lt=cutoff).order_by("id"):
        staged = evidence.staging_key or evidence.key
        if evidence.multipart_upload_id:
            await store.abort_multipart(staged, evidence.multipart_upload_id)
        try:
            if evidence.staging_key:
                await store.delete(evidence.staging_key)
            await store.delete(evidence.key)
        except ObjectLocked:
            # Locked just before a confirmation whose commit failed: the object must stay, but the
            # row goes so the upload is not offered as pending any more.
            log.warning("orphan evidence %s is under retention; its object is kept", evidence.key)
        # Conditional, so a confirmation that just won the race keeps its row.
        removed += await Evidence.filter(id=evidence.id, status=evidence.status).delete()
    removed += await _remove_unreferenced(store, cutoff)
    removed += await _remove_unclaimed_staging(store, cutoff)
    removed += await store.abort_stale_multipart(older_than)
    return removed


async def _remove_unreferenced(store: EvidenceStore, cutoff: datetime) -> int:
    stale = [o for o in await store.list_keys("cases/") if o.last_modified < cutoff]
    removed = 0
    for start in range(0, len(stale), _BATCH):
        batch = stale[start : start + _BATCH]
        known = set(await Evidence.filter(key__in=[o.key for o in batch]).values_list("key", flat=True))
        for obj in batch:
            if obj.key in known:
                continue
            try:
                await store.delete(obj.key)
            except ObjectLocked:
                log.warning("unreferenced evidence object %s is under retention; kept", obj.key)
                continue
            removed += 1
    return removed


async def _remove_unclaimed_staging(store: EvidenceStore, cutoff: datetime) -> int:
    stale = [o for o in await store.list_keys("staging/") if o.last_modified < cutoff]
    removed = 0
    for start in range(0, len(stale), _BATCH):
        batch = stale[start : start + _BATCH]
        waiting = set(
            await Evidence.filter(
                staging_key__in=[o.key for o in batch], status__in=UNCONFIRMED
            ).values_list("staging_key", flat=True)
        )
        for obj in batch:
            if obj.key in waiting:
                continue
            await store.delete(obj.key)
            removed += 1
    return removed
