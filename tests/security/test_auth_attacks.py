"""Attacks on login: one-time codes across two real server processes, races, argon2 hashes.

tests/auth/test_login.py covers the single-process basics (a code works once, expires after five
minutes, five wrong tries spoil it); here the same promises are held across processes sharing
one database, plus the per-phone and per-address locks and the production sender rules.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from app.auth import sender as sender_module
from app.auth.models import OtpCode, RateLimitHit, UserAccount
from app.auth.passwords import hash_password
from app.clock import now
from app.config import get_settings
from app.notify import service as notify_service
from app.notify.providers import set_provider
from app.notify.providers.local import ConsoleProvider
from bench.server import Server
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff
from tests.fakes.sms_server import provider_env

ROOT = Path(__file__).resolve().parents[2]
OTP_REQUEST = "/api/v1/auth/otp/request"
OTP_VERIFY = "/api/v1/auth/otp/verify"
ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def _owners(db: Session, count: int) -> list[str]:
    compound = make_compound(db)
    phones = {f"业主{i}": f"1350000{i:04d}" for i in range(count)}
    add_roster(db, compound, [UnitSpec("1栋", f"{100 + i}", 9000, [name])
                              for i, name in enumerate(phones)], phones=phones)
    db.commit()
    return list(phones.values())


# --- two real server processes on one database ---------------------------------------------------


class Node:
    """One uvicorn process; requests carry X-Forwarded-For (trusted from 127.0.0.1)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)

    def post(self, path: str, body: dict[str, Any], addr: str) -> httpx.Response:
        return self.http.post(path, json=body, headers={"X-Forwarded-For": addr})

    def request_code(self, phone: str, addr: str) -> str:
        pattern = re.compile(rf"SMS to {phone}: 您的登录验证码为(\d{{6}})")
        seen = len(pattern.findall(self.server.log_text()))
        r = self.post(OTP_REQUEST, {"phone": phone}, addr)
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            codes = pattern.findall(self.server.log_text())
            if len(codes) > seen:
                return codes[-1]
            time.sleep(0.05)
        raise AssertionError(f"no code printed for {phone}")

    def verify(self, phone: str, code: str, addr: str) -> httpx.Response:
        return self.post(OTP_VERIFY, {"phone": phone, "code": code, "mode": "bearer"}, addr)


@contextmanager
def _two_servers(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GONGJUE_") and k != "FORWARDED_ALLOW_IPS"}
    env.update({
        "GONGJUE_ENV": "development",  # the console sender prints codes to the server log
        "GONGJUE_SMS_PROVIDER": "console",
        "GONGJUE_DATABASE_URL": get_settings().database_url,
        "GONGJUE_SIGNING_KEY_PATH": str(tmp_path / "signing.pem"),
        "GONGJUE_FILES_DIR": str(tmp_path / "files"),
        "GONGJUE_FRONTEND_DIST": str(tmp_path / "no-frontend"),
        "GONGJUE_DEMO_DATA": "false",
        "PYTHONUNBUFFERED": "1",
    })
    servers = [Server(env=env, workers=1, log_path=tmp_path / f"server-{n}.log") for n in "ab"]
    with ExitStack() as stack:
        # Start both at once (each takes seconds to import the app on a loaded machine).
        failures: list[BaseException] = []

        def start(server: Server) -> None:
            try:
                server.__enter__()
            except BaseException as exc:  # reported below, after both threads end
                failures.append(exc)

        threads = [threading.Thread(target=start, args=(s,)) for s in servers]
        for t in threads:
            t.start()
        for server in servers:
            stack.callback(server.stop)
        for t in threads:
            t.join()
        if failures:
            raise failures[0]
        nodes = [Node(server) for server in servers]
        for node in nodes:
            stack.callback(node.http.close)
        assert nodes[0].server.process and nodes[1].server.process
        assert nodes[0].server.process.pid != nodes[1].server.process.pid
        yield nodes[0], nodes[1]


def _let_phone_request_again(db: Session, phone: str) -> None:
    """Move the phone's code requests 61 s into the past (the servers run on the real clock)."""
    hits = db.execute(select(RateLimitHit).where(RateLimitHit.key == f"otp:phone:{phone}")).scalars()
    for hit in hits:
        hit.at = hit.at - timedelta(seconds=61)
    db.commit()


def _error(response: httpx.Response) -> str:
    return str(response.json()["error"])


def test_code_rules_and_locks_hold_across_two_server_processes(
    engine: Engine, db: Session, tmp_path: Path
) -> None:
    settings = get_settings()
    per_phone, per_addr = (settings.otp_failures_per_phone_per_hour,
                           settings.otp_failures_per_address_per_hour)
    phones = _owners(db, 2 + -(-per_addr // 4))
    victim, sprayed = phones[0], phones[1:]
    home, attacker, elsewhere = "198.51.100.10", "203.0.113.50", "192.0.2.33"
    counts = {"requests": 0}

    with _two_servers(tmp_path) as (a, b):
        def wrong(node: Node, phone: str, code: str, addr: str) -> httpx.Response:
            counts["requests"] += 1
            return node.verify(phone, "000000" if code != "000000" else "111111", addr)

        # 1. A code sent by A works on B, once; its failed tries are counted across both.
        code = a.request_code(victim, home)
        assert wrong(a, victim, code, home).json()["detail"].endswith("还可尝试4次")
        assert wrong(b, victim, code, home).json()["detail"].endswith("还可尝试3次")
        ok = b.verify(victim, code, home)
        assert ok.status_code == 200 and ok.json()["access_token"]
        again = a.verify(victim, code, home)
        assert again.status_code == 401 and _error(again) == "otp_expired"

        # 2. A code that expired (in the shared database) is refused by the other process.
        _let_phone_request_again(db, victim)
        code = b.request_code(victim, home)
        db.execute(update(OtpCode).where(OtpCode.phone == victim, OtpCode.consumed_at.is_(None))
                   .values(expires_at=now() - timedelta(seconds=1)))
        db.commit()
        expired = a.verify(victim, code, home)
        assert expired.status_code == 401 and _error(expired) == "otp_expired"

        # 3. Five wrong tries spread over both processes spoil the code for both.
        _let_phone_request_again(db, victim)
        code = a.request_code(victim, home)
        errors = [_error(wrong(node, victim, code, home)) for node in (a, a, a, b, b)]
        assert errors == ["otp_wrong"] * 4 + ["otp_locked"]
        assert a.verify(victim, code, home).status_code == 401

        # 4. Enough wrong tries over several codes lock the phone itself, on both processes.
        _let_phone_request_again(db, victim)
        code = b.request_code(victim, home)
        failures = 2 + 5  # from steps 1 and 3
        while failures < per_phone:
            node = a if failures % 2 else b
            assert _error(wrong(node, victim, code, home)) in ("otp_wrong", "otp_locked")
            failures += 1
        for node in (b, a):
            locked = node.verify(victim, code, elsewhere)
            assert locked.status_code == 429 and _error(locked) == "rate_limited"
            assert "该手机号" in locked.json()["detail"]

        # 5. Guessing over many phones from one address locks that address on both processes,
        #    while the phones' owners still log in from their own addresses.
        failures = 0
        for i, phone in enumerate(sprayed[:-1]):
            node = (a, b)[i % 2]
            phone_code = node.request_code(phone, attacker)
            for j in range(min(4, per_addr - failures)):
                r = wrong((a, b)[j % 2], phone, phone_code, attacker)
                assert _error(r) == "otp_wrong", r.text
                failures += 1
        assert failures == per_addr
        last = sprayed[-1]
        code = b.request_code(last, elsewhere)
        refused = a.verify(last, code, attacker)
        assert refused.status_code == 429 and _error(refused) == "rate_limited"
        assert b.verify(last, code, elsewhere).status_code == 200

    db.rollback()
    stored = {key: n for key, n in db.execute(
        select(RateLimitHit.key, func.count()).group_by(RateLimitHit.key)).all()}
    assert stored[f"otp:fail:phone:{victim}"] == per_phone
    assert stored[f"otp:fail:addr:{attacker}"] == per_addr
    assert counts["requests"] == per_phone + per_addr


# --- races and binding, in process -----------------------------------------------------------


def test_a_code_is_single_use_under_concurrent_verification(
    client: TestClient, db: Session, outbox: sender_module.MemorySender
) -> None:
    phone = _owners(db, 1)[0]
    assert client.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
    code = outbox.last_code(phone)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def verify() -> None:
        barrier.wait()
        r = client.post(OTP_VERIFY, json={"phone": phone, "code": code, "mode": "bearer"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=verify) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [401] * 5
    db.rollback()
    assert db.execute(select(func.count()).select_from(UserAccount)
                      .where(UserAccount.phone == phone)).scalar_one() == 1


def test_a_code_is_bound_to_its_phone(
    client: TestClient, db: Session, outbox: sender_module.MemorySender
) -> None:
    first, second = _owners(db, 2)
    for phone in (first, second):
        assert client.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
    code_for_first = outbox.last_code(first)
    if code_for_first == outbox.last_code(second):
        pytest.skip("both phones drew the same code (one in a million)")
    r = client.post(OTP_VERIFY, json={"phone": second, "code": code_for_first})
    assert r.status_code == 401 and r.json()["error"] == "otp_wrong"


def test_verification_does_not_reveal_which_phones_are_registered(
    client: TestClient, db: Session
) -> None:
    registered = _owners(db, 1)[0]
    answers = [client.post(OTP_VERIFY, json={"phone": p, "code": "123456"}).json()
               for p in (registered, "13912345678")]
    assert answers[0] == answers[1] == {"error": "otp_expired", "detail": "验证码已失效，请重新获取"}


# --- the code sender in production --------------------------------------------------------------


def test_production_refuses_the_console_sender(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    phone = _owners(db, 1)[0]
    monkeypatch.setattr(get_settings(), "env", "production")
    set_provider(ConsoleProvider())
    monkeypatch.delenv("GONGJUE_BENCH", raising=False)
    r = client.post(OTP_REQUEST, json={"phone": phone})
    assert r.status_code == 503 and r.json()["error"] == "otp_sender_unconfigured"
    assert "短信" in r.json()["detail"]
    assert notify_service.ready_provider() is None
    out = capsys.readouterr()
    assert "SMS to" not in out.out + out.err
    assert not [rec for rec in caplog.records if rec.name == "gongjue.sms"]
    db.rollback()
    assert db.execute(select(func.count()).select_from(OtpCode)).scalar_one() == 0  # rolled back


def test_console_sender_stays_available_outside_production(monkeypatch: pytest.MonkeyPatch) -> None:
    set_provider(ConsoleProvider())
    for env, bench, usable in (("development", None, True), ("production", "1", True),
                               ("production", None, False)):
        monkeypatch.setattr(get_settings(), "env", env)
        if bench:
            monkeypatch.setenv("GONGJUE_BENCH", bench)
        else:
            monkeypatch.delenv("GONGJUE_BENCH", raising=False)
        assert (notify_service.ready_provider() is not None) is usable, (env, bench)


# --- password hashes ----------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id(client: TestClient, db: Session) -> None:
    make_staff(db, username="admin", platform_admin=True)
    db.commit()
    password = "业委会-换届-2026!"
    for username in ("kim", "lee"):  # the same password twice
        r = client.post("/api/v1/accounts", headers=bearer(client, "admin"), json={
            "username": username, "password": password, "display_name": "委员"})
        assert r.status_code == 201, r.text
        assert password not in r.text
    db.rollback()
    stored = db.execute(select(UserAccount.password_hash)
                        .where(UserAccount.username.in_(["kim", "lee"]))).scalars().all()
    assert len(stored) == 2 and stored[0] != stored[1]  # a fresh salt each time
    for value in stored:
        match = ARGON2.match(value)
        assert match, value
        assert password not in value
    # The test run uses cheap parameters on purpose; the same context hashes everything.
    assert ARGON2.match(hash_password("x" * 12)).groups() == ARGON2.match(stored[0]).groups()


def test_deployments_hash_with_strong_argon2_parameters(tmp_path: Path) -> None:
    """Outside tests: argon2id, 64 MiB, 3 passes, 4 lanes (above OWASP's 19 MiB / 2 passes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    env.update({"GONGJUE_ENV": "production", "GONGJUE_SECRET_KEY": "p" * 48,
                "GONGJUE_ID_HASH_KEY": "q" * 48,
                "GONGJUE_PUBLIC_BASE_URL": "https://gongjue.example.cn",
                "GONGJUE_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
                **provider_env("tencent", "http://127.0.0.1:9")})
    done = subprocess.run(
        [sys.executable, "-c", "from app.auth.passwords import hash_password, verify_password;"
         "h = hash_password('correct horse 马'); print(h); print(verify_password('correct horse 马', h))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    hashed, verified = done.stdout.split()[0], " ".join(done.stdout.split()[1:])
    match = ARGON2.match(hashed)
    assert match, hashed
    memory_kib, passes, lanes = (int(g) for g in match.groups())
    assert (memory_kib, passes, lanes) == (65536, 3, 4)
    assert memory_kib >= 19456 and passes >= 2
    assert verified == "(True, None)"  # verifies, and needs no rehash
