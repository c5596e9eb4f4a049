"""Application settings, read from GONGJUE_* environment variables."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"
DEFAULT_ID_HASH_KEY = "dev-insecure-id-hash-key-change-me-0123456789"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
ROOT_DIR = Path(__file__).resolve().parent.parent
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
# app/notify/messages.py MESSAGE_KINDS (settings sit below every package, so the names repeat
# here; tests/notify checks they agree): one template setting each.
SMS_KINDS = ("login_code", "ballot_opened", "ballot_reminder", "result_published",
             "notice_published")
_PUBLIC_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


class Settings(BaseSettings):
    """Deployment settings; production refuses the development defaults."""

    model_config = SettingsConfigDict(env_prefix="GONGJUE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT_DIR / 'data' / 'gongjue.db'}"
    secret_key: str = DEFAULT_SECRET
    id_hash_key: str = DEFAULT_ID_HASH_KEY
    jwt_issuer: str = "gongjue"
    jwt_audience: str = "gongjue-api"
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    # A rotated refresh token still works this long: its successor's answer may have been lost.
    refresh_reuse_grace_seconds: int = Field(default=60, ge=0, le=600)
    cookie_secure: bool = True
    # Who delivers SMS: console (development: printed to the log), memory (tests), aliyun, tencent.
    sms_provider: Literal["console", "memory", "aliyun", "tencent"] = "console"
    # The approved sign name (签名) shown as 【…】 before every message, e.g. 共决 or the
    # property committee's registered name; and each kind's approved template code.
    sms_sign_name: str = ""
    sms_template_login_code: str = ""
    sms_template_ballot_opened: str = ""
    sms_template_ballot_reminder: str = ""
    sms_template_result_published: str = ""
    sms_template_notice_published: str = ""
    # Alibaba Cloud SMS (dysmsapi): a RAM user's AccessKey with AliyunDysmsFullAccess.
    sms_aliyun_access_key_id: str = ""
    sms_aliyun_access_key_secret: SecretStr = SecretStr("")
    sms_aliyun_region: str = "cn-hangzhou"
    # Tencent Cloud SMS: a CAM SecretId/SecretKey and the SMS application's SdkAppId.
    sms_tencent_secret_id: str = ""
    sms_tencent_secret_key: SecretStr = SecretStr("")
    sms_tencent_sdk_app_id: str = ""
    sms_tencent_region: str = "ap-guangzhou"
    # The provider's API address, empty for its public endpoint; tests point it at a local fake
    # (e.g. http://127.0.0.1:8125).
    sms_endpoint: str = ""
    # Connecting and reading the answer each give up after this long; the send is then retried.
    sms_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # The outbox worker: a background thread in each server process (off: only
    # `python -m app.notify deliver`, e.g. from a timer, delivers).
    notify_worker: bool = True
    # The ballot scheduler: opens ballots at their start and closes them at their end, from a
    # background thread in each server process (off: only `python -m app.voting tick`, e.g. from
    # the gongjue-tick timer); safe with several processes.
    schedule_worker: bool = True
    schedule_poll_seconds: float = Field(default=30.0, gt=0, le=600)
    notify_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    notify_batch_size: int = Field(default=20, ge=1, le=500)
    # A claimed row is another worker's again after this (its worker died mid-send).
    notify_lease_seconds: int = Field(default=120, ge=5)
    notify_max_attempts: int = Field(default=5, ge=1, le=20)
    # Retry n waits base × 2^(n-1) seconds, at most an hour.
    notify_backoff_seconds: int = Field(default=30, ge=1)
    # Daily caps (Asia/Shanghai calendar day): messages to one phone (login codes included), and
    # notifications of one compound. Over a cap a message is recorded as skipped, not sent.
    notify_phone_daily_cap: int = Field(default=20, ge=1)
    notify_compound_daily_cap: int = Field(default=20000, ge=1)
    # The bounded wait: a send not answered within this many seconds counts as a provider
    # failure, and so do retryable answers; this many of them in the window (and no success
    # since) make login-code requests answer 503 for every phone alike until the provider
    # recovers.
    notify_send_bound_seconds: float = Field(default=25.0, gt=0, le=120)
    notify_breaker_failures: int = Field(default=3, ge=1)
    notify_breaker_window_seconds: int = Field(default=300, ge=10)
    # Price of one SMS (70 characters; longer ones count as several) in fen, for previews.
    sms_price_fen: int = Field(default=5, ge=0)
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_per_phone_per_hour: int = 5
    otp_per_address_per_hour: int = 30
    login_per_address_per_hour: int = 60
    # Wrong one-time codes lock the phone (over every code it was sent) and the client address.
    otp_failures_per_phone_per_hour: int = Field(default=10, ge=1)
    otp_failures_per_address_per_hour: int = Field(default=30, ge=1)
    # Online/proxy vote submissions per ballot subject per minute (0 turns the limit off).
    votes_per_subject_per_minute: int = Field(default=10, ge=0)
    # Browser origins other than the app's own allowed to call the API with cookies, comma
    # separated (e.g. "https://gongjue.example.cn"); empty means same-origin only.
    cors_origins: str = ""
    signing_key_path: Path = ROOT_DIR / "data" / "checkpoint_ed25519.pem"
    frontend_dist: Path = ROOT_DIR / "frontend" / "dist"
    files_dir: Path = ROOT_DIR / "data" / "files"
    max_upload_bytes: int = 20 * 1024 * 1024
    # Uploads per account in any 24 hours: owners (files, bytes), and accounts with a staff role.
    owner_uploads_per_day: int = Field(default=30, ge=1)
    owner_upload_bytes_per_day: int = Field(default=100 * 1024 * 1024, ge=1)
    staff_uploads_per_day: int = Field(default=500, ge=1)
    staff_upload_bytes_per_day: int = Field(default=2 * 1024 * 1024 * 1024, ge=1)
    # The address owners reach the site at: printed as QR codes on notice-board PDFs.
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    # Swagger UI at /api/v1/docs (it loads its scripts from a CDN): on outside production, off in
    # production unless turned on. /api/v1/openapi.json is always served.
    api_docs: bool | None = None
    demo_data: bool = True
    db_pool_size: int = 20
    # Requests holding a database session at once, per process (< thread pool and pool size).
    db_request_concurrency: int = Field(default=16, ge=1, le=64)
    # Of those, writes at once per process: they queue on their compound's audit-chain head anyway.
    db_write_concurrency: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        if len(self.secret_key.encode()) < 32:
            raise ValueError("GONGJUE_SECRET_KEY must be at least 32 bytes")
        if self.env == "production":
            if self.secret_key == DEFAULT_SECRET or self.id_hash_key == DEFAULT_ID_HASH_KEY:
                raise ValueError(
                    "production mode refuses the default GONGJUE_SECRET_KEY / GONGJUE_ID_HASH_KEY"
                )
            if not self.cookie_secure:
                raise ValueError("production mode requires GONGJUE_COOKIE_SECURE=true")
            if (self.public_base_url.rstrip("/") == DEFAULT_PUBLIC_BASE_URL
                    or not _PUBLIC_URL.fullmatch(self.public_base_url)):
                raise ValueError(
                    "production mode requires GONGJUE_PUBLIC_BASE_URL, the https address owners "
                    "reach (e.g. https://gongjue.example.cn); notice QR codes point there / "
                    "生产环境须设置 GONGJUE_PUBLIC_BASE_URL（业主访问的 https 地址，公告二维码指向它）"
                )
        self._refuse_unusable_sms()
        return self

    def _refuse_unusable_sms(self) -> None:
        if self.sms_provider in ("console", "memory"):
            # Only the bench's production-like servers (which read login codes back from their
            # own log) may run production without a real SMS provider.
            if self.env == "production" and os.environ.get("GONGJUE_BENCH") != "1":
                raise ValueError(
                    f"production mode cannot send SMS with GONGJUE_SMS_PROVIDER={self.sms_provider}:"
                    " set it to aliyun or tencent with its credentials, sign name and templates"
                )
            return
        missing = [f"GONGJUE_{name.upper()}" for name in self.sms_required_settings()
                   if not self._setting_text(name)]
        if missing:
            raise ValueError(
                f"GONGJUE_SMS_PROVIDER={self.sms_provider} needs these settings: "
                + ", ".join(missing)
            )

    def sms_required_settings(self) -> tuple[str, ...]:
        """The settings the configured SMS provider cannot send without."""
        templates = tuple(f"sms_template_{kind}" for kind in SMS_KINDS)
        if self.sms_provider == "aliyun":
            return ("sms_aliyun_access_key_id", "sms_aliyun_access_key_secret",
                    "sms_sign_name", *templates)
        if self.sms_provider == "tencent":
            return ("sms_tencent_secret_id", "sms_tencent_secret_key", "sms_tencent_sdk_app_id",
                    "sms_sign_name", *templates)
        return ()

    def _setting_text(self, name: str) -> str:
        value = getattr(self, name)
        return (value.get_secret_value() if isinstance(value, SecretStr) else str(value)).strip()

    def sms_template(self, kind: str) -> str:
        """The provider's template code for a message kind (see app/notify/messages.py)."""
        return str(getattr(self, f"sms_template_{kind}")).strip()

    @field_validator("sms_endpoint")
    @classmethod
    def _endpoint_origin(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not _ORIGIN.fullmatch(value):
            raise ValueError(f"GONGJUE_SMS_ENDPOINT: {value!r} is not like https://host[:port]")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: str) -> str:
        origins = [o.strip().rstrip("/").lower() for o in value.split(",") if o.strip()]
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):  # no wildcard, no path: exact origins only
                raise ValueError(
                    f"GONGJUE_CORS_ORIGINS: {origin!r} is not an origin like https://host[:port]"
                )
        return ",".join(origins)

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return tuple(o for o in self.cors_origins.split(",") if o)

    @property
    def api_docs_enabled(self) -> bool:
        return self.env != "production" if self.api_docs is None else self.api_docs

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
