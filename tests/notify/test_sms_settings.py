"""SMS settings: a real provider needs its credentials, sign name and every template code, and
production refuses the providers that only print (except the bench's production-like servers)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import SMS_KINDS, Settings
from app.notify.messages import MESSAGE_KINDS
from tests.fakes.sms_server import provider_env, settings_kwargs

STRONG = "k" * 48
PRODUCTION = {"env": "production", "secret_key": STRONG, "id_hash_key": STRONG + "x",
              "public_base_url": "https://gongjue.example.cn"}
URL = "http://127.0.0.1:9"
TEMPLATE_VARS = [f"GONGJUE_SMS_TEMPLATE_{kind.upper()}" for kind in MESSAGE_KINDS]


def test_every_message_kind_has_a_template_setting() -> None:
    assert SMS_KINDS == MESSAGE_KINDS
    settings = Settings(**settings_kwargs("aliyun", URL))
    assert [settings.sms_template(kind) for kind in MESSAGE_KINDS] == [
        "SMS_100000001", "SMS_100000002", "SMS_100000003", "SMS_100000004", "SMS_100000005"]


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_production_without_template_codes_refuses_to_start(provider: str) -> None:
    kwargs = settings_kwargs(provider, URL, **PRODUCTION)
    for kind in MESSAGE_KINDS:
        del kwargs[f"sms_template_{kind}"]
    with pytest.raises(ValidationError) as caught:
        Settings(**kwargs)
    message = str(caught.value)
    assert f"GONGJUE_SMS_PROVIDER={provider} needs these settings" in message
    assert all(name in message for name in TEMPLATE_VARS)


@pytest.mark.parametrize(("provider", "missing"), [
    ("aliyun", "sms_aliyun_access_key_id"),
    ("aliyun", "sms_aliyun_access_key_secret"),
    ("aliyun", "sms_sign_name"),
    ("aliyun", "sms_template_ballot_reminder"),
    ("tencent", "sms_tencent_secret_id"),
    ("tencent", "sms_tencent_secret_key"),
    ("tencent", "sms_tencent_sdk_app_id"),
    ("tencent", "sms_sign_name"),
    ("tencent", "sms_template_notice_published"),
])
def test_each_missing_setting_is_named(provider: str, missing: str) -> None:
    with pytest.raises(ValidationError, match=f"GONGJUE_{missing.upper()}"):
        Settings(**settings_kwargs(provider, URL, **PRODUCTION, **{missing: "  "}))


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_production_accepts_a_complete_provider(provider: str) -> None:
    settings = Settings(**settings_kwargs(provider, URL, **PRODUCTION))
    assert settings.sms_provider == provider and settings.sms_endpoint == URL


@pytest.mark.parametrize("provider", ["console", "memory"])
def test_production_refuses_providers_that_only_print(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GONGJUE_BENCH", raising=False)
    with pytest.raises(ValidationError, match=f"GONGJUE_SMS_PROVIDER={provider}"):
        Settings(**PRODUCTION, sms_provider=provider)
    # The bench's production-like servers read login codes back from their own log.
    monkeypatch.setenv("GONGJUE_BENCH", "1")
    assert Settings(**PRODUCTION, sms_provider=provider).sms_provider == provider
    # Outside production nothing changes.
    monkeypatch.delenv("GONGJUE_BENCH")
    assert Settings(sms_provider=provider).sms_provider == provider


def test_an_env_file_block_configures_tencent(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in provider_env("tencent", URL).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GONGJUE_SMS_TIMEOUT_SECONDS", "4.5")
    settings = Settings(**PRODUCTION)
    assert settings.sms_provider == "tencent" and settings.sms_timeout_seconds == 4.5
    assert settings.sms_template("login_code") == "2000001"
    secret = settings.sms_tencent_secret_key.get_secret_value()
    assert secret and secret not in repr(settings)  # secrets do not print


@pytest.mark.parametrize("endpoint", ["127.0.0.1:8125", "http://127.0.0.1:8125/sms", "ftp://x"])
def test_the_endpoint_override_is_an_origin(endpoint: str) -> None:
    with pytest.raises(ValidationError, match="GONGJUE_SMS_ENDPOINT"):
        Settings(**settings_kwargs("aliyun", endpoint))


@pytest.mark.parametrize("seconds", [0, -1, 61])
def test_the_time_out_is_bounded(seconds: float) -> None:
    with pytest.raises(ValidationError, match="sms_timeout_seconds"):
        Settings(**settings_kwargs("aliyun", URL, sms_timeout_seconds=seconds))
