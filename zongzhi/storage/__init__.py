"""Evidence storage: MinIO/S3 (``storage = "s3"``) or a local directory (embedded mode).

``build_store(settings)`` picks the store; call ``await store.ensure_ready()`` at start-up, and mount
``evidence_routes(store)`` in the Starlette app so local signed links are served (empty for S3).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from .base import (
    EvidenceStore,
    InvalidUpload,
    MultipartUpload,
    ObjectInfo,
    ObjectLocked,
    ObjectMissing,
    PresignedUpload,
    StorageError,
    StoreUnavailable,
    content_disposition,
    part_size_for,
)
from .keys import evidence_key, is_staging_key, slug, staging_key, validate_key
from .local_store import LocalEvidenceStore
from .minio_store import MinioEvidenceStore
from .sniff import check_declared, detect_type, is_allowed

__all__ = [
    "EvidenceStore",
    "InvalidUpload",
    "LocalEvidenceStore",
    "MinioEvidenceStore",
    "MultipartUpload",
    "ObjectInfo",
    "ObjectLocked",
    "ObjectMissing",
    "PresignedUpload",
    "StorageError",
    "StoreUnavailable",
    "build_store",
    "check_declared",
    "content_disposition",
    "detect_type",
    "evidence_key",
    "evidence_routes",
    "is_allowed",
    "is_staging_key",
    "part_size_for",
    "slug",
    "staging_key",
    "validate_key",
]


def build_store(settings: Any) -> EvidenceStore:
    """The evidence store ``settings.storage`` names (``local`` or ``s3``)."""
    if settings.storage == "local":
        return LocalEvidenceStore.from_settings(settings)
    if settings.storage == "s3":
        return MinioEvidenceStore.from_settings(settings)
    raise ValueError(f"unknown evidence storage {settings.storage!r}: use 'local' or 's3'")


def evidence_routes(store: EvidenceStore) -> list[Route]:
    """Routes serving the local store's signed links; none for stores with real presigned URLs."""
    return store.routes() if isinstance(store, LocalEvidenceStore) else []
