"""Sending a text message (the one-time codes that prove a phone is the worker's). Pluggable.

`XINYE_SMS_SENDER` names the sender class by dotted path (default `xinye.people.sms.ConsoleSender`). A
sender has one method, `send(phone, text)`. A production deployment supplies a class that calls its SMS
gateway; the console sender is for development only, and the in-memory one for tests.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("xinye.sms")

#: messages sent by `LocmemSender` (tests read and clear it), as (phone, text)
outbox: list[tuple[str, str]] = []


class BaseSender:
    def send(self, phone: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSender(BaseSender):
    """Development: writes the message (with the code) to the console and the log. Never in production."""

    def send(self, phone: str, text: str) -> None:
        line = f"[sms to {phone}] {text}"
        print(line, file=sys.stderr)
        log.warning("%s", line)


class LocmemSender(BaseSender):
    """Tests: keeps messages in `outbox`."""

    def send(self, phone: str, text: str) -> None:
        outbox.append((phone, text))


def get_sender() -> BaseSender:
    path = getattr(settings, "XINYE_SMS_SENDER", "") or "xinye.people.sms.ConsoleSender"
    return import_string(path)()
