"""``PROMETHEUS_MULTIPROC_DIR``: where every process writes its samples for one scrape to add up.

Kept apart from ``metrics`` because defining a metric already writes a file there: the directory
must exist, and be emptied of an earlier run's files, before that module is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def ensure_dir() -> None:
    where = multiprocess_dir()
    if where is not None:
        Path(where).mkdir(parents=True, exist_ok=True)


def prepare_multiprocess_dir() -> None:
    """Create ``PROMETHEUS_MULTIPROC_DIR`` and remove an earlier run's files, before a process group starts.

    Files left by an earlier run would be added to the new run's counters. Called by ``zongzhi
    serve`` and ``zongzhi worker`` in the parent, before any worker process exists.
    """
    where = multiprocess_dir()
    if where is None:
        return
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.glob("*.db"):  # only prometheus-client's own files, whatever else is there
        entry.unlink()
