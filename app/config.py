"""Application settings, read from GONGJUE_* environment variables."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"
DEFAULT_ID_HASH_KEY = "dev-insecure-id-hash-key-change-me-0123456789"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
ROOT_DIR = Path(__file__).resolve().parent.parent
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
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
    otp_sender: Literal["console", "memory"] = "console"
    # Who delivers SMS: console (development: printed to the log), memory (tests), aliyun, tencent.
    sms_provider: Literal["console", "memory", "aliyun", "tencent"] = "console"
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
        return self

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
