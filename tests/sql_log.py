"""The SQL tortoise sends while a block runs: for tests that count or inspect statements."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _Recorder(logging.Handler):
    def __init__(self, sent: list[tuple[str, list]]) -> None:
        super().__init__(logging.DEBUG)
        self.sent = sent

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 2:
            self.sent.append((str(args[0]), list(args[1] or [])))
        else:
            self.sent.append((record.getMessage(), []))


@contextmanager
def sql_sent() -> Iterator[list[tuple[str, list]]]:
    """Yields the list that fills with ``(sql, parameters)`` for each statement sent inside."""
    logger = logging.getLogger("tortoise.db_client")
    sent: list[tuple[str, list]] = []
    recorder = _Recorder(sent)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(recorder)
    try:
        yield sent
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)
