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


def test_write_turns_default_to_one_on_sqlite_and_four_on_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGJUE_DB_WRITE_CONCURRENCY", raising=False)
    assert Settings(database_url="sqlite:///./x.db").db_write_concurrency == 1
    assert Settings(database_url="postgresql://u@h/db").db_write_concurrency == 4
    # Set explicitly, it is kept on either.
    assert Settings(database_url="sqlite:///./x.db", db_write_concurrency=3).db_write_concurrency == 3
    monkeypatch.setenv("GONGJUE_DB_WRITE_CONCURRENCY", "2")
    assert Settings(database_url="sqlite:///./x.db").db_write_concurrency == 2
    assert Settings(database_url="postgresql://u@h/db").db_write_concurrency == 2
