"""Providers that send nothing: the console (development) and memory (tests)."""

from __future__ import annotations

import logging

from app.notify.messages import render
from app.notify.providers.base import Outgoing, SendResult
from app.privacy import mask_phone

log = logging.getLogger("gongjue.sms")


class ConsoleProvider:
    """Prints each message to the server log (development and demos only, never production)."""

    name = "console"

    def send(self, message: Outgoing) -> SendResult:
        text = render(message.kind, message.params)
        log.warning("【共决】%s → %s（开发模式，未真实发送短信）", text, mask_phone(message.phone))
        print(f"[gongjue] SMS to {message.phone}: {text}", flush=True)
        return SendResult("sent", self.name, code="OK")


class MemoryProvider:
    """Keeps the messages in a list (tests)."""

    name = "memory"

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> SendResult:
        self.sent.append(message)
        return SendResult("sent", self.name, message_id=str(len(self.sent)), code="OK")

    def to(self, phone: str) -> list[Outgoing]:
        return [m for m in self.sent if m.phone == phone]
