"""Log lines as plain text (default, for a terminal) or JSON lines (``ZONGZHI_LOG_FORMAT=json``).

Both carry the request id of the request or Celery task that logged them (``context``), so one
request can be followed from the API into the worker. The JSON form has one object per line with
``ts``, ``level``, ``logger``, ``message``, ``request_id`` and, where known, ``operation``,
``user_id``, ``outcome``, ``task``, ``task_id`` and the fields passed as ``extra={"fields": {...}}``.
Only ids and codes go in there, never personal data (DESIGN.md §4: PII never appears in logs).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from zongzhi.platform.base.observability import context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


def _snapshot() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    info = context.current()
    if info is not None:
        fields["request_id"] = info.request_id
        for name in ("operation", "user_id", "outcome", "task", "task_id"):
            value = getattr(info, name)
            if value is not None:
                fields[name] = value
    return fields


_previous_factory = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Records take the request context when they are made: a handler may format them later."""
    record = _previous_factory(*args, **kwargs)
    record.zongzhi_context = _snapshot()
    return record


if not getattr(_previous_factory, "zongzhi", False):
    _record_with_context.zongzhi = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(_record_with_context)


def _context_fields(record: logging.LogRecord, *, extra_fields: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = dict(getattr(record, "zongzhi_context", None) or _snapshot())
    if not extra_fields:
        return fields
    extra = getattr(record, "fields", None)
    if isinstance(extra, dict):
        fields.update(extra)
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        entry.update(_context_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``fmt`` with ``[request_id=... operation=...]`` (the request context) before the message.

    Before, not after: the message stays the end of the line, where tools (and Celery's task result
    in ``succeeded in 0.1s: <result>``) expect it.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = _context_fields(record, extra_fields=False)  # the message says the rest
        if not fields:
            return super().formatMessage(record)
        message = record.message
        record.message = "[" + " ".join(f"{k}={v}" for k, v in fields.items()) + "] " + message
        try:
            return super().formatMessage(record)
        finally:
            record.message = message


def formatter(log_format: str, text_format: str = TEXT_FORMAT) -> logging.Formatter:
    if log_format not in FORMATS:
        raise ValueError(f"ZONGZHI_LOG_FORMAT must be text or json, not {log_format!r}")
    return JsonFormatter() if log_format == "json" else TextFormatter(text_format)


class _OurHandler(logging.StreamHandler):
    """The root handler ``configure`` installs (and replaces on the next call)."""


def configure(log_format: str, level: str) -> None:
    """One handler on the root logger, on stderr, in the chosen format.

    It replaces the handler of an earlier call and ``logging.basicConfig``'s, and leaves other
    handlers (pytest's capture, an embedding application's) alone.
    """
    handler = _OurHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) in (_OurHandler, logging.StreamHandler) and getattr(old, "stream", None) in (
            sys.stderr,
            sys.__stderr__,
        ):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(log_format == "json")  # warnings become log lines, not loose text


def reformat_handlers(logger: logging.Logger, log_format: str) -> None:
    """Give handlers someone else set up (Celery's) our formatter, keeping their text layout."""
    for handler in logger.handlers:
        fmt = getattr(handler.formatter, "_fmt", None) or TEXT_FORMAT
        handler.setFormatter(formatter(log_format, fmt))
