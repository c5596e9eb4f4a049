"""Delivery of one-time codes: a console sender for development, an interface for SMS."""

from __future__ import annotations

import logging
from typing import Protocol

from app.config import get_settings
from app.privacy import mask_phone

log = logging.getLogger("gongjue.otp")


class CodeSender(Protocol):
    def send(self, phone: str, code: str) -> None: ...


class ConsoleSender:
    """Prints the code to the server log (development and demos only)."""

    def send(self, phone: str, code: str) -> None:
        log.warning("【共决】登录验证码 %s 发往 %s（开发模式，未真实发送短信）", code, mask_phone(phone))
        print(f"[gongjue] OTP for {phone}: {code}", flush=True)


class MemorySender:
    """Keeps the codes in a list (tests)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, code: str) -> None:
        self.sent.append((phone, code))

    def last_code(self, phone: str) -> str:
        return next(code for p, code in reversed(self.sent) if p == phone)


class SmsGatewaySender:
    """Adapter point for an SMS gateway: subclass and implement `deliver`."""

    template = "【共决】您的登录验证码为{code}，5分钟内有效。如非本人操作请忽略。"

    def send(self, phone: str, code: str) -> None:
        self.deliver(phone, self.template.format(code=code))

    def deliver(self, phone: str, text: str) -> None:
        raise NotImplementedError("configure an SMS gateway adapter")


_sender: CodeSender | None = None


def get_sender() -> CodeSender:
    global _sender
    if _sender is None:
        _sender = MemorySender() if get_settings().otp_sender == "memory" else ConsoleSender()
    return _sender


def set_sender(sender: CodeSender | None) -> None:
    global _sender
    _sender = sender
