"""Sending one-time codes to citizens' phones (``ZONGZHI_SMS_SENDER``).

The interface a real gateway implements is one method::

    class MyGateway:
        def __init__(self, settings): ...
        async def send(self, phone: str, text: str) -> None: ...   # raise to report a failure

and ``ZONGZHI_SMS_SENDER=my_package.sms:MyGateway`` names it. The embedded mode's ``console`` sender
writes the message to the log (and keeps the last ones in memory), so a first run needs no gateway.
"""

from __future__ import annotations

import importlib
import logging
from collections import deque
from typing import Protocol

from zongzhi.platform.base.pii import mask_phone

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class ConsoleSender:
    """Logs each message (the phone masked) and keeps the last 100 for the operator's console."""

    def __init__(self, settings=None) -> None:
        self.sent: deque[tuple[str, str]] = deque(maxlen=100)

    async def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))
        log.warning("SMS to %s: %s", mask_phone(phone), text)


def sender(settings) -> SmsSender:
    """The configured sender, built once per platform."""
    from zongzhi.platform.base.current import current

    _senders = current().sms_senders
    name = settings.sms_sender or "console"
    if name not in _senders:
        if name == "console":
            _senders[name] = ConsoleSender(settings)
        else:
            module, _, attr = name.partition(":")
            _senders[name] = getattr(importlib.import_module(module), attr)(settings)
    return _senders[name]
