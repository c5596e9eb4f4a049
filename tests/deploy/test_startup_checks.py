"""Production refuses to start half-configured: the public address, the PDF font, the API docs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from app import pdf_pages
from app.config import Settings, get_settings
from app.main import DOCS_CSP, create_app
from app.security import PAGE_CSP
from tests.fakes.sms_server import settings_kwargs

STRONG = "k" * 48


def production(**overrides: object) -> Settings:
    given: dict[str, object] = {"env": "production", "secret_key": STRONG,
                                "id_hash_key": STRONG + "x",
                                # production needs a real SMS provider (nothing is sent here)
                                **settings_kwargs("aliyun", "http://127.0.0.1:9")}
    return Settings(**(given | overrides))  # type: ignore[arg-type]


# --- GONGJUE_PUBLIC_BASE_URL --------------------------------------------------------------------


def test_production_refuses_the_default_public_address() -> None:
    with pytest.raises(ValidationError, match="GONGJUE_PUBLIC_BASE_URL") as refused:
        production()
    assert "公告二维码" in str(refused.value)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000", "http://127.0.0.1:8000/", "http://gongjue.example.cn",
    "gongjue.example.cn", "https://", "https://gongjue.example.cn/?q=1",
])
def test_production_refuses_a_public_address_that_is_not_https(url: str) -> None:
    with pytest.raises(ValidationError, match="GONGJUE_PUBLIC_BASE_URL"):
        production(public_base_url=url)


@pytest.mark.parametrize("url", [
    "https://gongjue.example.cn", "https://gongjue.example.cn:8443/", "https://example.cn/gj",
])
def test_production_accepts_an_https_public_address(url: str) -> None:
    assert production(public_base_url=url).public_base_url == url


def test_development_keeps_the_local_default() -> None:
    assert Settings(env="development").public_base_url == "http://127.0.0.1:8000"


# --- the CJK font of the PDFs -------------------------------------------------------------------


def test_the_font_comes_with_the_python_install() -> None:
    """The wheel's font is the one used (a box without Debian's fonts-wqy-microhei prints too),
    and it is byte for byte the font Debian ships (the checksum pinned in app/pdf_pages.py)."""
    bundled = pdf_pages.bundled_font_path()
    assert bundled is not None, "paperang-p2-fonts-cjk is not installed"
    assert bundled == pdf_pages.FONT_PATH
    assert hashlib.sha256(bundled.read_bytes()).hexdigest() == pdf_pages.FONT_SHA256
    assert not bundled.is_relative_to("/usr/share/fonts")


def test_production_refuses_to_start_without_the_font(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(get_settings(), "env", "production")
    monkeypatch.setattr(pdf_pages, "FONT_PATH", tmp_path / "missing.ttc")
    with pytest.raises(RuntimeError) as refused:
        create_app()
    message = str(refused.value)
    assert "未找到中文字体文件" in message and "Refusing to start" in message
    assert "paperang-p2-fonts-cjk" in message and "fonts-wqy-microhei" in message


def test_production_starts_with_the_font(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "env", "production")
    create_app()
    assert pdf_pages.font_name() == pdf_pages.FONT_NAME


def test_development_starts_without_the_font(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Outside production a missing font is the PDF route's clear 500, not a refusal to start."""
    monkeypatch.setattr(pdf_pages, "FONT_PATH", tmp_path / "missing.ttc")
    create_app()
    with pytest.raises(pdf_pages.PdfFontMissing):
        pdf_pages.font_name()


# --- /api/v1/docs -------------------------------------------------------------------------------


def test_api_docs_are_off_in_production(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "env", "production")
    with TestClient(create_app(), base_url="https://testserver") as c:
        docs = c.get("/api/v1/docs")
        assert docs.status_code == 404 and docs.json()["error"] == "not_found"
        assert c.get("/api/v1/openapi.json").status_code == 200


def test_api_docs_carry_their_own_csp(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside production (or with GONGJUE_API_DOCS=true) the page loads Swagger UI from its CDN:
    only that page's policy names the CDN; the front end's pages keep the strict one."""
    monkeypatch.setattr(get_settings(), "env", "production")
    monkeypatch.setattr(get_settings(), "api_docs", True)
    with TestClient(create_app(), base_url="https://testserver") as c:
        docs = c.get("/api/v1/docs")
        assert docs.status_code == 200
        assert docs.headers["content-security-policy"] == DOCS_CSP
        assert "swagger-ui-bundle.js" in docs.text and "/api/v1/openapi.json" in docs.text
        assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist" in docs.text
        assert "cdn.jsdelivr.net" not in PAGE_CSP


def test_api_docs_default_on_outside_production() -> None:
    assert Settings(env="development").api_docs_enabled
    assert Settings(env="test").api_docs_enabled
    assert not production(public_base_url="https://gongjue.example.cn").api_docs_enabled
    assert production(public_base_url="https://gongjue.example.cn", api_docs=True).api_docs_enabled
