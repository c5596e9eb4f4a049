"""Staff and owner login, limits, token expiry, refresh, logout and CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import UserAccount
from app.auth.passwords import bcrypt_hash
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.config import get_settings
from tests.factories import PASSWORD, UnitSpec, add_roster, make_compound, make_staff

OWNER_PHONE = "13800000001"


def _owner_compound(db: Session):  # type: ignore[no-untyped-def]
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["张三"])], phones={"张三": OWNER_PHONE})
    db.commit()
    return compound


def test_staff_login_bearer_and_me(client: TestClient, db: Session) -> None:
    make_staff(db, username="alice")
    db.commit()
    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD,
                                                 "mode": "bearer"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_wrong_password_is_refused_in_chinese(client: TestClient, db: Session) -> None:
    make_staff(db, username="bob")
    db.commit()
    r = client.post("/api/v1/auth/login", json={"username": "bob", "password": "nope-nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "bad_credentials", "detail": "用户名或密码错误"}


def test_password_failures_lock_the_username(client: TestClient, db: Session) -> None:
    make_staff(db, username="carol")
    db.commit()
    for _ in range(10):
        assert client.post("/api/v1/auth/login",
                           json={"username": "carol", "password": "wrong-pass"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "carol", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"


def test_long_chinese_password_and_bcrypt_rehash(client: TestClient, db: Session) -> None:
    long_pw = "业主共同决定事项必须公开透明" * 6  # 84 characters, 252 bytes
    make_staff(db, username="dora", password=long_pw)
    legacy = make_staff(db, username="eve")
    legacy.password_hash = bcrypt_hash("legacy-password-1")
    db.add(legacy)
    db.commit()
    assert client.post("/api/v1/auth/login",
                       json={"username": "dora", "password": long_pw}).status_code == 200
    assert client.post("/api/v1/auth/login",
                       json={"username": "dora", "password": long_pw[:-1]}).status_code == 401
    assert client.post("/api/v1/auth/login",
                       json={"username": "eve", "password": "legacy-password-1"}).status_code == 200
    db.expire_all()
    stored = db.execute(select(UserAccount.password_hash).where(UserAccount.username == "eve")).scalar_one()
    assert stored.startswith("$argon2id$")


def test_owner_otp_login_creates_account(client: TestClient, db: Session, outbox: MemorySender) -> None:
    _owner_compound(db)
    assert client.post("/api/v1/auth/otp/request", json={"phone": "138 0000 0001"}).status_code == 202
    code = outbox.last_code(OWNER_PHONE)
    assert len(code) == 6 and code.isdigit()
    r = client.post("/api/v1/auth/otp/verify", json={"phone": OWNER_PHONE, "code": code})
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["phone_masked"] == "138****0001"
    assert [c["roles"] for c in body["user"]["compounds"]] == [["owner"]]
    assert "access_token" not in body or body["access_token"] is None
    # The code is single-use.
    again = client.post("/api/v1/auth/otp/verify", json={"phone": OWNER_PHONE, "code": code})
    assert again.status_code == 401 and again.json()["error"] == "otp_expired"


def test_unregistered_phone_gets_no_code(client: TestClient, db: Session, outbox: MemorySender) -> None:
    _owner_compound(db)
    r = client.post("/api/v1/auth/otp/request", json={"phone": "13900000009"})
    assert r.status_code == 202  # same answer, no enumeration
    assert outbox.sent == []


def test_malformed_phone_is_422(client: TestClient) -> None:
    r = client.post("/api/v1/auth/otp/request", json={"phone": "12345678"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_phone"


def test_five_wrong_codes_lock_the_code(client: TestClient, db: Session, outbox: MemorySender) -> None:
    _owner_compound(db)
    client.post("/api/v1/auth/otp/request", json={"phone": OWNER_PHONE})
    code = outbox.last_code(OWNER_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    details = []
    for _ in range(5):
        r = client.post("/api/v1/auth/otp/verify", json={"phone": OWNER_PHONE, "code": wrong})
        assert r.status_code == 401
        details.append(r.json()["error"])
    assert details == ["otp_wrong"] * 4 + ["otp_locked"]
    # Even the right code no longer works: the attempts were counted and committed.
    r = client.post("/api/v1/auth/otp/verify", json={"phone": OWNER_PHONE, "code": code})
    assert r.status_code == 401


def test_code_expires_after_five_minutes(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    _owner_compound(db)
    client.post("/api/v1/auth/otp/request", json={"phone": OWNER_PHONE})
    frozen_clock.advance(seconds=301)
    r = client.post("/api/v1/auth/otp/verify",
                    json={"phone": OWNER_PHONE, "code": outbox.last_code(OWNER_PHONE)})
    assert r.status_code == 401 and r.json()["error"] == "otp_expired"


def test_code_requests_are_rate_limited_per_phone(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    _owner_compound(db)
    assert client.post("/api/v1/auth/otp/request", json={"phone": OWNER_PHONE}).status_code == 202
    assert client.post("/api/v1/auth/otp/request", json={"phone": OWNER_PHONE}).status_code == 429
    for _ in range(4):
        frozen_clock.advance(seconds=61)
        assert client.post("/api/v1/auth/otp/request", json={"phone": OWNER_PHONE}).status_code == 202
    frozen_clock.advance(seconds=61)
    r = client.post("/api/v1/auth/otp/request", json={"phone": OWNER_PHONE})
    assert r.status_code == 429 and "一小时" in r.json()["detail"]
    assert len(outbox.sent) == 5


def test_code_requests_are_rate_limited_per_address(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    _owner_compound(db)
    for i in range(30):
        assert client.post("/api/v1/auth/otp/request",
                           json={"phone": f"139{i:08d}"}).status_code == 202
    assert client.post("/api/v1/auth/otp/request", json={"phone": "13799999999"}).status_code == 429


def test_access_token_expires(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    make_staff(db, username="frank")
    db.commit()
    r = client.post("/api/v1/auth/login",
                    json={"username": "frank", "password": PASSWORD, "mode": "bearer"})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    frozen_clock.advance(minutes=15, seconds=1)
    r2 = client.get("/api/v1/auth/me", headers=headers)
    assert r2.status_code == 401 and r2.json()["error"] == "token_invalid"


def _bearer_login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login",
                    json={"username": username, "password": PASSWORD, "mode": "bearer"})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _refresh(client: TestClient, token: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token, "mode": "bearer"})


def test_refresh_rotates_and_old_refresh_is_refused_after_the_grace_period(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    make_staff(db, username="gina")
    db.commit()
    old_refresh = _bearer_login(client, "gina")["refresh_token"]
    r2 = _refresh(client, old_refresh)
    assert r2.status_code == 200 and r2.json()["access_token"]
    assert r2.json()["refresh_token"] != old_refresh
    # The answer carrying the new pair may be lost (a phone off the network, a page reloaded
    # mid-request): the same token works again for a minute, and its grace does not restart.
    frozen_clock.advance(seconds=59)
    r3 = _refresh(client, old_refresh)
    # ... and gives the same successor again: the session never forks into two branches.
    assert r3.status_code == 200
    assert r3.json()["refresh_token"] == r2.json()["refresh_token"]
    assert r3.json()["access_token"] == r2.json()["access_token"]
    frozen_clock.advance(seconds=2)
    r4 = _refresh(client, old_refresh)
    assert r4.status_code == 401 and r4.json()["error"] == "token_revoked"
    # A replay after the grace revokes the whole login, the successor included.
    assert _refresh(client, r2.json()["refresh_token"]).status_code == 401
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r2.json()['access_token']}"})
    assert me.status_code == 401


def test_logout_ends_the_grace_of_a_rotated_refresh_token(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    make_staff(db, username="gail")
    db.commit()
    first = _bearer_login(client, "gail")
    second = _refresh(client, first["refresh_token"]).json()
    out = client.post("/api/v1/auth/logout", json={"refresh_token": first["refresh_token"]},
                      headers={"Authorization": f"Bearer {second['access_token']}"})
    assert out.status_code == 200
    r = _refresh(client, first["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "token_revoked"


def test_no_grace_when_it_is_set_to_zero(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGJUE_REFRESH_REUSE_GRACE_SECONDS", "0")
    get_settings.cache_clear()
    try:
        make_staff(db, username="gwen")
        db.commit()
        old_refresh = _bearer_login(client, "gwen")["refresh_token"]
        assert _refresh(client, old_refresh).status_code == 200
        assert _refresh(client, old_refresh).status_code == 401
    finally:
        monkeypatch.delenv("GONGJUE_REFRESH_REUSE_GRACE_SECONDS")
        get_settings.cache_clear()


def test_access_token_cannot_be_used_as_refresh(client: TestClient, db: Session) -> None:
    make_staff(db, username="hank")
    db.commit()
    r = client.post("/api/v1/auth/login",
                    json={"username": "hank", "password": PASSWORD, "mode": "bearer"})
    r2 = client.post("/api/v1/auth/refresh",
                     json={"refresh_token": r.json()["access_token"], "mode": "bearer"})
    assert r2.status_code == 401


def test_logout_revokes_across_app_instances(app, db: Session) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app

    make_staff(db, username="ivan")
    db.commit()
    with TestClient(app, base_url="https://testserver") as one, TestClient(
        create_app(), base_url="https://testserver"
    ) as two:
        r = one.post("/api/v1/auth/login",
                     json={"username": "ivan", "password": PASSWORD, "mode": "bearer"})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert two.get("/api/v1/auth/me", headers=headers).status_code == 200
        assert one.post("/api/v1/auth/logout", json={}, headers=headers).status_code == 200
        # The revocation lives in the database, so the other instance refuses the token too.
        assert two.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_logout_everywhere_bumps_token_version(client: TestClient, db: Session) -> None:
    make_staff(db, username="judy")
    db.commit()
    tokens = [
        client.post("/api/v1/auth/login",
                    json={"username": "judy", "password": PASSWORD, "mode": "bearer"}).json()
        for _ in range(2)
    ]
    h0 = {"Authorization": f"Bearer {tokens[0]['access_token']}"}
    h1 = {"Authorization": f"Bearer {tokens[1]['access_token']}"}
    assert client.post("/api/v1/auth/logout", json={"everywhere": True}, headers=h0).status_code == 200
    assert client.get("/api/v1/auth/me", headers=h1).status_code == 401


def test_cookie_session_needs_csrf_header_for_writes(client: TestClient, db: Session) -> None:
    make_staff(db, username="kate")
    db.commit()
    r = client.post("/api/v1/auth/login", json={"username": "kate", "password": PASSWORD})
    assert r.status_code == 200
    set_cookie = r.headers.get_list("set-cookie")
    access_cookie = next(c for c in set_cookie if c.startswith("gj_access="))
    assert "HttpOnly" in access_cookie and "Secure" in access_cookie
    assert "samesite=lax" in access_cookie.lower()
    csrf = r.json()["csrf_token"]
    assert client.get("/api/v1/auth/me").status_code == 200  # reads need no header
    refused = client.post("/api/v1/auth/logout", json={})
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    wrong = client.post("/api/v1/auth/logout", json={}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/auth/logout", json={}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200


def test_cookie_refresh_requires_csrf(client: TestClient, db: Session) -> None:
    make_staff(db, username="liam")
    db.commit()
    r = client.post("/api/v1/auth/login", json={"username": "liam", "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    assert client.post("/api/v1/auth/refresh", json={}).status_code == 403
    r2 = client.post("/api/v1/auth/refresh", json={}, headers={"X-CSRF-Token": csrf})
    assert r2.status_code == 200
    assert r2.json()["csrf_token"] != csrf


def test_tampered_or_foreign_tokens_are_refused(client: TestClient, db: Session) -> None:
    from jose import jwt

    make_staff(db, username="mona")
    db.commit()
    token = client.post("/api/v1/auth/login",
                        json={"username": "mona", "password": PASSWORD, "mode": "bearer"}).json()["access_token"]
    claims = jwt.get_unverified_claims(token)
    forged_key = jwt.encode(claims, "another-secret-that-is-long-enough-0123456789", algorithm="HS256")
    none_alg = jwt.encode(claims, "", algorithm="HS256").rsplit(".", 1)[0] + "."
    wrong_aud = jwt.encode({**claims, "aud": "other"}, "x" * 40, algorithm="HS256")
    for bad in (forged_key, none_alg, wrong_aud, token[:-2] + "xx", "garbage"):
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad


def test_purge_removes_only_expired_rows(db: Session, frozen_clock: FrozenClock) -> None:

    from sqlalchemy import func

    from app.auth.__main__ import main as auth_cli
    from app.auth.models import RateLimitHit, RevokedToken

    db.add(RateLimitHit(key="old", at=frozen_clock.current - timedelta(days=2)))
    db.add(RateLimitHit(key="new", at=frozen_clock.current))
    db.add(RevokedToken(jti="gone", expires_at=frozen_clock.current - timedelta(minutes=1)))
    db.add(RevokedToken(jti="kept", expires_at=frozen_clock.current + timedelta(minutes=10)))
    db.commit()
    assert auth_cli(["purge"]) == 0
    db.expire_all()
    assert db.execute(select(RateLimitHit.key)).scalars().all() == ["new"]
    assert db.execute(select(func.count()).select_from(RevokedToken)).scalar_one() == 1
