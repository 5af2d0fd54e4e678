"""Periodic evidence housekeeping: remove uploads that were never confirmed.

A Celery beat task calls :func:`remove_orphans` with ``timedelta(hours=settings.evidence_orphan_hours)``.
Three kinds of leftovers are removed once older than that:

- pending Evidence rows (the client never confirmed), with their object or unfinished multipart upload;
- objects under ``cases/`` that no Evidence row names (a row that was never created or was discarded);
- unfinished multipart uploads the store still holds parts for.

Stored and withdrawn evidence is never touched.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from zongzhi.platform.models import Evidence
from zongzhi.storage import EvidenceStore, ObjectLocked

log = logging.getLogger(__name__)

_BATCH = 500


async def remove_orphans(store: EvidenceStore, older_than: timedelta) -> int:
    """Remove unconfirmed uploads older than ``older_than``; returns how many files or rows went."""
    cutoff = datetime.now(UTC) - older_than
    removed = 0
    for evidence in await Evidence.filter(status="pending", created_at__lt=cutoff).order_by("id"):
        if evidence.multipart_upload_id:
            await store.abort_multipart(evidence.key, evidence.multipart_upload_id)
        try:
            await store.delete(evidence.key)
        except ObjectLocked:
            # Locked just before a confirmation whose commit failed: the object must stay, but the
            # row goes so the upload is not offered as pending any more.
            log.warning("orphan evidence %s is under retention; its object is kept", evidence.key)
        # Conditional, so a confirmation that just won the race keeps its row.
        removed += await Evidence.filter(id=evidence.id, status="pending").delete()
    removed += await _remove_unreferenced(store, cutoff)
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
