"""Settings refuse unsafe production configurations."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import DEFAULT_SECRET, Settings
from tests.fakes.sms_server import settings_kwargs

STRONG = "k" * 48


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="default"):
        Settings(env="production", secret_key=DEFAULT_SECRET, id_hash_key=STRONG)


def test_production_refuses_the_default_id_hash_key() -> None:
    with pytest.raises(ValidationError, match="default"):
        Settings(env="production", secret_key=STRONG)


def test_short_secrets_are_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(env="development", secret_key="too-short")


def test_production_requires_secure_cookies() -> None:
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(env="production", secret_key=STRONG, id_hash_key=STRONG + "x", cookie_secure=False)


def test_production_accepts_real_secrets() -> None:
    s = Settings(env="production", secret_key=STRONG, id_hash_key=STRONG + "x",
                 public_base_url="https://gongjue.example.cn",
                 **settings_kwargs("aliyun", "http://127.0.0.1:9"))
    assert s.env == "production" and s.cookie_secure


def test_env_prefix_is_gongjue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGJUE_ACCESS_TOKEN_MINUTES", "7")
    assert Settings().access_token_minutes == 7
