"""Fakes of the SMS providers' HTTP APIs on 127.0.0.1, for the real SDKs to send to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.config import Settings
from tests.fakes.sms_server import FakeSmsServer, settings_kwargs


@pytest.fixture
def aliyun_fake() -> Iterator[FakeSmsServer]:
    with FakeSmsServer("aliyun") as fake:
        yield fake


@pytest.fixture
def tencent_fake() -> Iterator[FakeSmsServer]:
    with FakeSmsServer("tencent") as fake:
        yield fake


def fake_settings(fake: FakeSmsServer, **overrides: Any) -> Settings:
    """Settings that send through `fake` (a short time-out unless told otherwise)."""
    overrides.setdefault("sms_timeout_seconds", 1.0)
    return Settings(**settings_kwargs(fake.provider, fake.url, **overrides))
