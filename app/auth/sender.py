"""Delivery of one-time codes: a console sender for development, an interface for SMS."""

from __future__ import annotations

import logging
import os
from typing import Protocol

from app.config import get_settings
from app.errors import DomainError, ServiceUnavailable
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


class UnconfiguredSender:
    """Production without an SMS gateway: refuse to send rather than print codes to the log."""

    @staticmethod
    def error() -> DomainError:
        return ServiceUnavailable("短信服务尚未配置，暂时无法发送验证码，请联系业委会",
                           code="otp_sender_unconfigured")

    def send(self, phone: str, code: str) -> None:
        raise self.error()


_sender: CodeSender | None = None


def get_sender() -> CodeSender:
    global _sender
    if _sender is None:
        settings = get_settings()
        if settings.otp_sender == "memory":
            _sender = MemorySender()
        elif settings.env == "production" and os.environ.get("GONGJUE_BENCH") != "1":
            # The console sender writes codes into the log; only the bench's production-like
            # servers (which read them back from their own log) may use it.
            _sender = UnconfiguredSender()
        else:
            _sender = ConsoleSender()
    return _sender


def ensure_sender_ready() -> None:
    """Refuse before anything else when codes cannot be delivered, for every phone alike."""
    if isinstance(get_sender(), UnconfiguredSender):
        raise UnconfiguredSender.error()


def set_sender(sender: CodeSender | None) -> None:
    global _sender
    _sender = sender
