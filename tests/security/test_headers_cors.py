"""Security headers on every answer, the front end's CSP, HSTS in production, and strict CORS."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth.models import Role
from app.config import Settings, get_settings
from app.main import create_app
from tests.factories import PASSWORD, bearer, make_compound, make_staff

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "https://app.example.cn"
EVIL = "https://evil.example.com"
PDF = b"%PDF-1.4\n" + b"0" * 64


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _assert_hardened(response, *, no_store: bool = True) -> None:  # type: ignore[no-untyped-def]
    h = response.headers
    assert h.get_list("x-content-type-options") == ["nosniff"]
    assert h["x-frame-options"] == "DENY"
    assert "'none'" in _directives(h["content-security-policy"])["frame-ancestors"]
    assert h["referrer-policy"] == "same-origin"
    assert "camera=()" in h["permissions-policy"] and "geolocation=()" in h["permissions-policy"]
    if no_store:
        assert h["cache-control"] == "no-store"


def _cors_headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.fixture
def cors_client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(get_settings(), "cors_origins", f"{ALLOWED},https://admin.example.cn:8443")
    with TestClient(create_app(), base_url="https://testserver") as c:
        yield c


# --- security headers ------------------------------------------------------------------------


def test_api_answers_carry_the_security_headers(client: TestClient, db: Session) -> None:
    make_staff(db, username="hdr")
    db.commit()
    answers = {
        "public": client.get("/api/v1/audit/public-key"),
        "health": client.get("/healthz"),
        "unauthenticated": client.get("/api/v1/auth/me"),
        "unknown route": client.get("/api/v1/nope"),
        "invalid body": client.post("/api/v1/auth/login", json={"username": ""}),
        "wrong password": client.post("/api/v1/auth/login",
                                      json={"username": "hdr", "password": "wrong-password"}),
        "login": client.post("/api/v1/auth/login",
                             json={"username": "hdr", "password": PASSWORD, "mode": "bearer"}),
    }
    assert [r.status_code for r in answers.values()] == [200, 200, 401, 404, 422, 401, 200]
    for name, response in answers.items():
        try:
            _assert_hardened(response)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    # JSON answers load nothing at all.
    api_csp = _directives(answers["login"].headers["content-security-policy"])
    assert api_csp["default-src"] == ["'none'"]
    assert "strict-transport-security" not in answers["login"].headers  # not production


def test_an_unexpected_error_answers_500_with_the_security_headers(engine: Engine) -> None:
    app = create_app()

    @app.get("/api/v1/test-boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    app.router.routes.insert(0, app.router.routes.pop())  # before the API's catch-all 404
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        response = c.get("/api/v1/test-boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "unexpected" not in response.text  # no internals leak
    _assert_hardened(response)
    assert _directives(response.headers["content-security-policy"])["default-src"] == ["'none'"]


def test_a_route_that_sets_its_own_caching_keeps_it(
    client: TestClient, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path)
    compound = make_compound(db)
    make_staff(db, username="wy", roles={compound.id: [Role.COMMITTEE]})
    db.commit()
    headers = bearer(client, "wy")
    up = client.post(f"/api/v1/compounds/{compound.id}/files", headers=headers,
                     data={"purpose": "attachment"},
                     files={"file": ("决议.pdf", io.BytesIO(PDF), "application/pdf")})
    assert up.status_code == 201, up.text
    down = client.get(f"/api/v1/compounds/{compound.id}/files/{up.json()['id']}", headers=headers)
    assert down.status_code == 200 and down.content == PDF
    assert down.headers["cache-control"] == "private, max-age=3600"  # the route's own, kept
    _assert_hardened(down, no_store=False)  # nosniff once, not twice
    # A PDF keeps the frame denial but not a policy that could stop the built-in viewer.
    assert _directives(down.headers["content-security-policy"]) == {"frame-ancestors": ["'none'"]}


@pytest.fixture
def spa_client(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="/assets/index-abc.js"></script>'
        '</head><body><div id="app"></div></body></html>', encoding="utf-8")
    (dist / "assets" / "index-abc.js").write_text("console.log('共决')", encoding="utf-8")
    monkeypatch.setattr(get_settings(), "frontend_dist", dist)
    with TestClient(create_app(), base_url="https://testserver") as c:
        yield c


def test_front_end_pages_get_the_page_policy(spa_client: TestClient) -> None:
    page = spa_client.get("/c/1/ballots/2")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    _assert_hardened(page, no_store=False)
    assert page.headers["cache-control"] == "no-cache"  # the SPA's own rule, kept
    csp = _directives(page.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no other host
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    for directive, sources in csp.items():
        assert "*" not in sources and "'unsafe-eval'" not in sources, directive
        assert not any(s.startswith(("http:", "https:")) for s in sources), directive
    asset = spa_client.get("/assets/index-abc.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["x-content-type-options"] == "nosniff"


def _inline_scripts(html: str) -> list[str]:
    return [m.group(0)[:80] for m in re.finditer(r"<script\b(?![^>]*\bsrc=)[^>]*>", html, re.I)]


def test_the_front_end_fits_the_policy() -> None:
    """No inline scripts or handlers in the page; the built code needs no eval."""
    source = (ROOT / "frontend" / "index.html").read_text(encoding="utf-8")
    assert _inline_scripts(source) == []
    assert not re.search(r"\son[a-z]+\s*=", source, re.I)
    built = ROOT / "frontend" / "dist" / "index.html"
    if not built.is_file():
        return  # not built on this machine; the browser tests build and run it under the CSP
    html = built.read_text(encoding="utf-8")
    assert _inline_scripts(html) == []
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)
    for src in re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html):
        assert src.startswith("/") and not src.startswith("//"), src  # same origin only
    for js in (built.parent / "assets").glob("*.js"):
        code = js.read_text(encoding="utf-8")
        assert "new Function(" not in code and not re.search(r"\beval\(", code), js.name


def test_production_adds_hsts_and_secure_cookies(
    engine: Engine, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_staff(db, username="prod")
    db.commit()
    monkeypatch.setattr(get_settings(), "env", "production")
    with TestClient(create_app(), base_url="https://testserver") as c:
        r = c.post("/api/v1/auth/login", json={"username": "prod", "password": PASSWORD})
        assert r.status_code == 200
        assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        cookies = r.headers.get_list("set-cookie")
        assert len(cookies) == 3
        for cookie in cookies:
            assert "; secure" in cookie.lower(), cookie
            assert "samesite=" in cookie.lower(), cookie
        assert all("httponly" in c.lower() for c in cookies if not c.startswith("gj_csrf="))
        _assert_hardened(r)
        assert "strict-transport-security" in c.get("/healthz").headers


def test_production_settings_refuse_insecure_cookies() -> None:
    strong = "s" * 48
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(env="production", secret_key=strong, id_hash_key=strong + "x",
                 cookie_secure=False)


# --- CORS ------------------------------------------------------------------------------------


def test_no_cors_for_foreign_origins_by_default(client: TestClient, db: Session) -> None:
    make_staff(db, username="cors")
    db.commit()
    r = client.get("/api/v1/audit/public-key", headers={"Origin": EVIL})
    assert r.status_code == 200 and _cors_headers(r) == {}
    login = client.post("/api/v1/auth/login", headers={"Origin": EVIL},
                        json={"username": "cors", "password": PASSWORD})
    assert _cors_headers(login) == {}  # the answer may be sent, but the page cannot read it
    pre = client.options("/api/v1/auth/login", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-csrf-token"})
    assert pre.status_code == 403 and pre.json()["error"] == "cors_forbidden"
    assert _cors_headers(pre) == {}
    _assert_hardened(pre)


def test_same_origin_requests_need_no_cors(client: TestClient, db: Session) -> None:
    make_staff(db, username="same")
    db.commit()
    r = client.post("/api/v1/auth/login", headers={"Origin": "https://testserver"},
                    json={"username": "same", "password": PASSWORD})
    assert r.status_code == 200 and _cors_headers(r) == {}


def test_configured_origin_gets_cors_with_credentials(cors_client: TestClient) -> None:
    r = cors_client.get("/api/v1/audit/public-key", headers={"Origin": ALLOWED})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED  # the origin, never "*"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in r.headers["vary"]
    pre = cors_client.options("/api/v1/auth/login", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, X-CSRF-Token"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == ALLOWED
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "x-csrf-token" in pre.headers["access-control-allow-headers"]
    second = cors_client.get("/api/v1/audit/public-key",
                             headers={"Origin": "https://admin.example.cn:8443"})
    assert second.headers["access-control-allow-origin"] == "https://admin.example.cn:8443"


@pytest.mark.parametrize("origin", [
    EVIL, "https://app.example.cn.evil.com", "http://app.example.cn", "https://evilapp.example.cn",
    "https://app.example.cn:8443", "null", "https://admin.example.cn",
])
def test_configured_cors_refuses_every_other_origin(cors_client: TestClient, origin: str) -> None:
    r = cors_client.get("/api/v1/audit/public-key", headers={"Origin": origin})
    assert r.status_code == 200 and _cors_headers(r) == {}
    pre = cors_client.options("/api/v1/auth/login", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 403 and _cors_headers(pre) == {}


def test_configured_origin_cannot_preflight_unlisted_headers_or_methods(
    cors_client: TestClient,
) -> None:
    for extra in ({"Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "content-type, x-forwarded-for"},
                  {"Access-Control-Request-Method": "TRACE"}):
        pre = cors_client.options("/api/v1/auth/login", headers={"Origin": ALLOWED, **extra})
        assert pre.status_code == 403 and _cors_headers(pre) == {}


def test_cors_setting_takes_exact_origins_only() -> None:
    assert Settings(cors_origins=" https://A.example.cn/ , https://b.example.cn:8443"
                    ).cors_origin_list == ("https://a.example.cn", "https://b.example.cn:8443")
    assert Settings().cors_origin_list == ()
    for bad in ("*", "https://*.example.cn", "https://a.example.cn/app", "a.example.cn",
                "ftp://a.example.cn"):
        with pytest.raises(ValidationError, match="CORS_ORIGINS"):
            Settings(cors_origins=bad)
