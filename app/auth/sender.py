"""Login codes are messages of the notify outbox (kind `login_code`); this keeps their reader.

`MemorySender` is an SMS provider that keeps messages in memory and answers "which code did this
phone get" (tests install it with `app.notify.providers.set_provider`).
"""

from __future__ import annotations

from app.notify.providers import Outgoing, SendResult


class MemorySender:
    """Keeps every message (`messages`); `codes` lists the login codes as (phone, code)."""

    name = "memory"

    def __init__(self) -> None:
        self.messages: list[Outgoing] = []
        self.codes: list[tuple[str, str]] = []

    def send(self, message: Outgoing) -> SendResult:
        self.messages.append(message)
        if message.kind == "login_code":
            self.codes.append((message.phone, message.params["code"]))
        return SendResult("sent", self.name, message_id=str(len(self.messages)), code="OK")

    def last_code(self, phone: str) -> str:
        return next(code for p, code in reversed(self.codes) if p == phone)
