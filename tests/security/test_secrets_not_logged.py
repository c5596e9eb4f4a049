"""No password, one-time code, JWT, refresh or CSRF token, or key ever reaches a log or a URL.

In process every logger runs at DEBUG (SQLAlchemy's statements and parameters included) while
owners and staff log in, refresh, vote and log out; a real production server's own output
(uvicorn's access log included) is checked the same way.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.clock import FrozenClock
from app.config import get_settings
from app.notify.messages import render
from app.notify.providers import Outgoing, SendResult, set_provider
from bench.server import Server
from tests.factories import PASSWORD, UnitSpec, add_roster, make_compound, make_staff
from tests.fakes.sms_server import provider_env
from tests.voting.helpers import build_world, open_ballot

ROOT = Path(__file__).resolve().parents[2]
WRONG_PASSWORD = "Wrong-Passw0rd-业委会"
SECRET_PARAMS = {"token", "access_token", "refresh_token", "jwt", "password", "code", "otp",
                 "secret", "csrf", "csrf_token", "api_key", "key"}


class SmsSender:
    """A production-like provider: the code leaves only through the gateway call."""

    name = "gateway"

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def send(self, message: Outgoing) -> SendResult:
        self.texts.append((message.phone, render(message.kind, message.params)))
        return SendResult("sent", self.name, code="OK")

    def codes(self) -> list[str]:
        return [code for _, text in self.texts for code in re.findall(r"验证码为(\d{6})", text)]

    def last_code(self, phone: str) -> str:
        return next(re.findall(r"验证码为(\d{6})", t)[0] for p, t in reversed(self.texts)
                    if p == phone and "验证码为" in t)


class Secrets:
    """Everything that must never be written to a log."""

    def __init__(self) -> None:
        settings = get_settings()
        self.values: set[str] = {PASSWORD, WRONG_PASSWORD, settings.secret_key, settings.id_hash_key}
        self.codes: set[str] = set()

    def add_session(self, response: httpx.Response) -> None:
        body = response.json()
        for key in ("access_token", "refresh_token", "csrf_token"):
            if body.get(key):
                self.values.add(body[key])
        for cookie in response.headers.get_list("set-cookie"):
            value = cookie.split(";", 1)[0].split("=", 1)[1]
            if value:
                self.values.add(value)

    def found_in(self, text: str) -> list[str]:
        found = []
        for value in self.values:
            if value in text:
                found.append(value[:12] + "…")
            elif value.count(".") == 2 and value.rsplit(".", 1)[1] in text:  # a JWT's signature
                found.append("signature of " + value[:12] + "…")
        for code in self.codes:
            if re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", text):
                found.append("code " + code)
        return found


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    return " ".join(parts)


def test_flows_log_no_secret_at_debug_level(
    client: TestClient, db: Session, frozen_clock: FrozenClock,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    sms = SmsSender()
    set_provider(sms)
    secrets = Secrets()
    world = build_world(db, client)  # staff wy1/wy2/gcy and ten owners with phones
    ballot = open_ballot(client, world, frozen_clock)
    caplog.clear()
    for name in (None, "sqlalchemy", "sqlalchemy.engine", "uvicorn", "uvicorn.access",
                 "uvicorn.error", "gongjue", "gongjue.otp", "passlib", "httpx", "jose"):
        caplog.set_level(logging.DEBUG, logger=name)

    # Staff: wrong password, then bearer and cookie logins, refresh both ways, logout.
    bad = client.post("/api/v1/auth/login", json={"username": "wy1", "password": WRONG_PASSWORD})
    assert bad.status_code == 401
    bearer_login = client.post("/api/v1/auth/login",
                               json={"username": "wy1", "password": PASSWORD, "mode": "bearer"})
    secrets.add_session(bearer_login)
    cookie_login = client.post("/api/v1/auth/login", json={"username": "wy2", "password": PASSWORD})
    secrets.add_session(cookie_login)
    refreshed = client.post("/api/v1/auth/refresh", json={
        "refresh_token": bearer_login.json()["refresh_token"], "mode": "bearer"})
    secrets.add_session(refreshed)
    cookie_refresh = client.post("/api/v1/auth/refresh", json={},
                                 headers={"X-CSRF-Token": cookie_login.json()["csrf_token"]})
    secrets.add_session(cookie_refresh)
    assert [r.status_code for r in (bearer_login, cookie_login, refreshed, cookie_refresh)] == [200] * 4
    staff = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=staff).status_code == 200

    # Owner: a code through the SMS gateway, a wrong code, the right one, a vote, logout.
    phone = world.phones["A"]
    assert client.post("/api/v1/auth/otp/request", json={"phone": phone}).status_code == 202
    code = sms.last_code(phone)
    secrets.codes.update(sms.codes())
    wrong = "000000" if code != "000000" else "111111"
    assert client.post("/api/v1/auth/otp/verify",
                       json={"phone": phone, "code": wrong}).status_code == 401
    owner_login = client.post("/api/v1/auth/otp/verify",
                              json={"phone": phone, "code": code, "mode": "bearer"})
    assert owner_login.status_code == 200
    secrets.add_session(owner_login)
    owner = {"Authorization": f"Bearer {owner_login.json()['access_token']}"}
    detail = client.get(world.url(f"/ballots/{ballot['id']}"), headers=owner).json()
    choices = {str(m["id"]): {"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree"
               for m in ballot["matters"]}
    vote = client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=owner,
                       json={"subject_id": detail["my_subjects"][0]["subject_id"],
                             "choices": choices})
    assert vote.status_code == 201, vote.text
    forged = client.get("/api/v1/auth/me",
                        headers={"Authorization": f"Bearer {owner_login.json()['access_token']}x"})
    assert forged.status_code == 401
    out = client.post("/api/v1/auth/logout", headers=owner,
                      json={"refresh_token": owner_login.json()["refresh_token"]})
    assert out.status_code == 200
    assert client.get("/api/v1/auth/me", headers=owner).status_code == 401

    records = caplog.records
    # The capture is live: SQL statements were logged at DEBUG, so a leak would be seen.
    assert any(r.name.startswith("sqlalchemy") for r in records)
    assert any("otp_code" in r.getMessage() for r in records)
    assert len(secrets.values) >= 14 and len(secrets.codes) == 1
    leaks = [f"{r.name}: {secrets.found_in(_record_text(r))}" for r in records
             if secrets.found_in(_record_text(r))]
    assert leaks == []
    printed = capsys.readouterr()
    assert secrets.found_in(printed.out + printed.err) == []


def test_secrets_check_sees_a_leak() -> None:
    """The matcher is not blind: tokens, signatures and codes are found, digits around are not."""
    s = Secrets()
    s.values.add("aaa.bbb.ccccccccccccsig")
    s.codes.add("482915")
    assert s.found_in("Authorization: Bearer aaa.bbb.ccccccccccccsig")
    assert s.found_in("sig=ccccccccccccsig")
    assert s.found_in("code 482915 sent")
    assert s.found_in(f"login {PASSWORD}")
    assert not s.found_in("at 2026-03-02 02:00:00.1482915 phone 13900004829150")


def test_no_route_takes_a_secret_in_its_url(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    in_url = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] in ("query", "path") and param["name"].lower() in SECRET_PARAMS:
                    in_url.append(f"{method.upper()} {path} ?{param['name']}")
    assert len(spec["paths"]) > 50
    assert in_url == []


def test_the_front_end_never_puts_a_token_in_a_url() -> None:
    offenders = []
    for path in sorted((ROOT / "frontend" / "src").rglob("*")):
        if path.suffix not in (".js", ".vue", ".ts", ".mjs"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"[?&](access_token|refresh_token|token|jwt|password|code)=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_production_server_output_holds_no_secret(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    """The real deployment command (uvicorn with its access log), production settings."""
    make_staff(db, username="prodstaff")
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["业主"])], phones={"业主": "13800000001"})
    db.commit()
    key = tmp_path / "signing.pem"
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    env.update({
        "GONGJUE_ENV": "production",
        "GONGJUE_SECRET_KEY": "prod-secret-key-" + "s" * 40,
        "GONGJUE_ID_HASH_KEY": "prod-id-hash-key-" + "h" * 32,
        "GONGJUE_DATABASE_URL": get_settings().database_url,
        "GONGJUE_SIGNING_KEY_PATH": str(key),
        "GONGJUE_PUBLIC_BASE_URL": "https://gongjue.example.cn",
        "GONGJUE_FILES_DIR": str(tmp_path / "files"),
        "GONGJUE_FRONTEND_DIST": str(tmp_path / "no-frontend"),
        "GONGJUE_DEMO_DATA": "false",
        "PYTHONUNBUFFERED": "1",
        # Production needs a real SMS provider: Alibaba Cloud's settings (nothing is sent here).
        **provider_env("aliyun", "http://127.0.0.1:9"),
    })
    secrets = Secrets()
    secrets.values.update({env["GONGJUE_SECRET_KEY"], env["GONGJUE_ID_HASH_KEY"],
                           env["GONGJUE_SMS_ALIYUN_ACCESS_KEY_SECRET"]})
    with Server(env=env, workers=1, log_path=tmp_path / "server.log") as server, httpx.Client(
        base_url=server.base_url, timeout=30
    ) as http:
        def post(path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
            return http.post(path, json=body, **kw)

        assert post("/api/v1/auth/login", {"username": "prodstaff",
                                           "password": WRONG_PASSWORD}).status_code == 401
        login = post("/api/v1/auth/login", {"username": "prodstaff", "password": PASSWORD,
                                            "mode": "bearer"})
        assert login.status_code == 200, login.text
        secrets.add_session(login)
        assert "strict-transport-security" in login.headers
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert http.get("/api/v1/auth/me", headers=headers).status_code == 200
        refreshed = post("/api/v1/auth/refresh", {"refresh_token": login.json()["refresh_token"],
                                                  "mode": "bearer"})
        assert refreshed.status_code == 200
        secrets.add_session(refreshed)
        new_headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        assert post("/api/v1/auth/logout", {"refresh_token": refreshed.json()["refresh_token"]},
                    headers=new_headers).status_code == 200
        assert http.get("/api/v1/auth/me", headers=new_headers).status_code == 401
        # A code goes to the outbox and the provider (unreachable here), never to the log.
        otp = post("/api/v1/auth/otp/request", {"phone": "13800000001"})
        log = server.log_text()
    assert otp.status_code == 202, otp.text
    assert '"POST /api/v1/auth/login HTTP/1.1" 200' in log  # the access log is in the output
    assert '"POST /api/v1/auth/refresh HTTP/1.1" 200' in log
    assert "SMS to" not in log
    assert secrets.found_in(log) == []
