"""The configured SMS provider (GONGJUE_SMS_PROVIDER)."""

from __future__ import annotations

from app.config import Settings, get_settings
from app.notify.providers.base import Outgoing, SendResult, SmsProvider
from app.notify.providers.local import ConsoleProvider, MemoryProvider

__all__ = ["Outgoing", "SendResult", "SmsProvider", "get_provider", "make_provider", "set_provider"]

_provider: SmsProvider | None = None


def make_provider(name: str, settings: Settings | None = None) -> SmsProvider:
    if name == "memory":
        return MemoryProvider()
    if name == "console":
        return ConsoleProvider()
    settings = settings or get_settings()
    if name == "aliyun":
        from app.notify.providers.aliyun import AliyunProvider  # the SDK loads only when used

        return AliyunProvider(settings)
    if name == "tencent":
        from app.notify.providers.tencent import TencentProvider

        return TencentProvider(settings)
    raise ValueError(f"unknown SMS provider {name!r}")


def get_provider() -> SmsProvider:
    global _provider
    if _provider is None:
        _provider = make_provider(get_settings().sms_provider)
    return _provider


def set_provider(provider: SmsProvider | None) -> None:
    global _provider
    _provider = provider
