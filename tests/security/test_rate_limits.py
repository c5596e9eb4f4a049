"""Login and voting are rate-limited per account/phone/subject and per client address.

Every limit counts rows in the database (no process memory), so a second app instance sees the
same counts; tests/security/test_auth_attacks.py proves it with two real server processes.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlmodel import Session

from app.auth.models import RateLimitHit
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.config import get_settings
from app.main import create_app
from app.voting.models import VoteCast
from tests.factories import PASSWORD, UnitSpec, add_roster, make_compound, make_staff
from tests.voting.helpers import World, build_world, open_ballot, owner

LOGIN = "/api/v1/auth/login"
OTP_REQUEST = "/api/v1/auth/otp/request"
OTP_VERIFY = "/api/v1/auth/otp/verify"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@contextmanager
def _from(app: FastAPI, address: str) -> Iterator[TestClient]:
    """A client whose requests come from the given address."""
    with TestClient(app, base_url="https://testserver", client=(address, 40000)) as c:
        yield c


def _assert_limited(response: Any, words: str = "") -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "rate_limited"
    assert CHINESE.search(body["detail"]) and words in body["detail"]


def _owners(db: Session, count: int) -> list[str]:
    compound = make_compound(db)
    phones = {f"业主{i}": f"1370000{i:04d}" for i in range(count)}
    add_roster(db, compound, [UnitSpec("1栋", f"{100 + i}", 9000, [name])
                              for i, name in enumerate(phones)], phones=phones)
    db.commit()
    return list(phones.values())


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# --- staff password login ---------------------------------------------------------------------


def test_password_login_is_limited_per_client_address(app: FastAPI, db: Session) -> None:
    make_staff(db, username="staffer")
    db.commit()
    per_address = get_settings().login_per_address_per_hour
    with _from(app, "203.0.113.10") as attacker, _from(app, "198.51.100.20") as colleague:
        # Spraying many usernames from one address: each name fails once, the address is counted.
        for i in range(per_address):
            r = attacker.post(LOGIN, json={"username": f"guess{i}", "password": "wrong-password"})
            assert r.status_code == 401, (i, r.text)
        _assert_limited(attacker.post(LOGIN, json={"username": "staffer", "password": PASSWORD}),
                        "频繁")
        # Another address is not affected.
        assert colleague.post(LOGIN, json={"username": "staffer",
                                           "password": PASSWORD}).status_code == 200


def test_password_failures_lock_the_account_from_every_address(
    app: FastAPI, db: Session, frozen_clock: FrozenClock
) -> None:
    make_staff(db, username="target")
    db.commit()
    for i in range(10):  # ten wrong passwords, spread over five addresses
        with _from(app, f"203.0.113.{i % 5}") as c:
            assert c.post(LOGIN, json={"username": "target", "password": "x" * 9}).status_code == 401
    with _from(app, "198.51.100.99") as owner_of_account:
        _assert_limited(owner_of_account.post(LOGIN, json={"username": "target",
                                                          "password": PASSWORD}), "15分钟")
        # Case does not open a second counter.
        _assert_limited(owner_of_account.post(LOGIN, json={"username": "TARGET",
                                                          "password": PASSWORD}))
        frozen_clock.advance(minutes=15, seconds=1)
        assert owner_of_account.post(LOGIN, json={"username": "target",
                                                  "password": PASSWORD}).status_code == 200


# --- one-time codes -----------------------------------------------------------------------------


def test_code_requests_per_phone_hold_across_addresses(
    app: FastAPI, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    phone = _owners(db, 1)[0]
    for i in range(5):
        with _from(app, f"203.0.113.{i}") as c:
            assert c.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
        frozen_clock.advance(seconds=61)
    with _from(app, "198.51.100.7") as c:
        _assert_limited(c.post(OTP_REQUEST, json={"phone": phone}), "一小时")
    assert len(outbox.sent) == 5


def test_wrong_codes_lock_the_phone_across_its_codes(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    """Five wrong tries spoil a code; ten wrong tries in an hour lock the phone itself."""
    phone = _owners(db, 1)[0]
    limit = get_settings().otp_failures_per_phone_per_hour
    assert limit == 10 and get_settings().otp_max_attempts == 5
    for _ in range(limit // 5):
        assert client.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
        wrong = _wrong(outbox.last_code(phone))
        errors = [client.post(OTP_VERIFY, json={"phone": phone, "code": wrong}).json()["error"]
                  for _ in range(5)]
        assert errors == ["otp_wrong"] * 4 + ["otp_locked"]
        frozen_clock.advance(seconds=61)
    # A fresh code is sent, but even the right one is refused while the phone is locked.
    assert client.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
    right = outbox.last_code(phone)
    _assert_limited(client.post(OTP_VERIFY, json={"phone": phone, "code": right}), "一小时")
    frozen_clock.advance(hours=1)
    assert client.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
    r = client.post(OTP_VERIFY, json={"phone": phone, "code": outbox.last_code(phone)})
    assert r.status_code == 200, r.text


def test_wrong_codes_lock_the_client_address(
    app: FastAPI, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    """Guessing over many phones from one address locks that address, not the phones."""
    limit = get_settings().otp_failures_per_address_per_hour
    phones = _owners(db, -(-limit // 4) + 1)  # enough phones for 4 wrong tries each
    with _from(app, "203.0.113.66") as attacker, _from(app, "198.51.100.8") as owner_side:
        failures = 0
        for phone in phones[:-1]:
            assert attacker.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
            for _ in range(min(4, limit - failures)):  # below the per-code and per-phone locks
                r = attacker.post(OTP_VERIFY, json={"phone": phone,
                                                    "code": _wrong(outbox.last_code(phone))})
                assert r.json()["error"] == "otp_wrong", r.text
                failures += 1
        assert failures == limit
        victim = phones[-1]
        assert owner_side.post(OTP_REQUEST, json={"phone": victim}).status_code == 202
        code = outbox.last_code(victim)
        _assert_limited(attacker.post(OTP_VERIFY, json={"phone": victim, "code": code}))
        r = owner_side.post(OTP_VERIFY, json={"phone": victim, "code": code})
        assert r.status_code == 200, r.text  # the same code from the owner's own address


# --- votes ----------------------------------------------------------------------------------------


def _subject(client: TestClient, world: World, headers: dict[str, str], bid: int) -> int:
    r = client.get(world.url(f"/ballots/{bid}"), headers=headers)
    return r.json()["my_subjects"][0]["subject_id"]


def _choices(ballot: dict[str, Any], value: str) -> dict[str, Any]:
    return {str(m["id"]): {"approve": [m["candidates"][0]["id"]]} if m["seats"] else value
            for m in ballot["matters"]}


def _vote(client: TestClient, world: World, ballot: dict[str, Any], headers: dict[str, str],
          subject_id: int, i: int = 0) -> Any:
    return client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=headers,
                       json={"subject_id": subject_id,
                             "choices": _choices(ballot, ("agree", "oppose", "abstain")[i % 3])})


def _stored(db: Session, ballot_id: int, subject_id: int) -> int:
    db.rollback()
    return db.execute(select(func.count()).select_from(VoteCast).where(
        VoteCast.ballot_id == ballot_id, VoteCast.subject_id == subject_id)).scalar_one()


def test_vote_submissions_are_limited_per_subject(
    app: FastAPI, client: TestClient, db: Session, outbox: MemorySender,
    frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a, b = owner(client, outbox, world, "A"), owner(client, outbox, world, "B")
    sa, sb = _subject(client, world, a, ballot["id"]), _subject(client, world, b, ballot["id"])
    limit = get_settings().votes_per_subject_per_minute
    assert limit == 10
    hits_before = db.execute(select(func.count()).select_from(RateLimitHit)).scalar_one()
    # Alternate between two app instances: the count lives in the database, not in a process.
    with TestClient(create_app(), base_url="https://testserver") as other:
        for i in range(limit):
            r = _vote(client if i % 2 else other, world, ballot, a, sa, i)
            assert r.status_code == 201, (i, r.text)
        refused = _vote(other, world, ballot, a, sa)
    _assert_limited(refused, "一分钟")
    assert _stored(db, ballot["id"], sa) == limit  # the refused vote left no row
    assert _vote(client, world, ballot, b, sb).status_code == 201  # other subjects unaffected
    frozen_clock.advance(seconds=61)
    assert _vote(client, world, ballot, a, sa).status_code == 201
    # The limit is counted from the votes themselves: not one rate-limit row was written.
    db.rollback()
    assert db.execute(select(func.count()).select_from(RateLimitHit)).scalar_one() == hits_before


def test_vote_limit_is_exact_under_concurrent_submissions(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    """Sixteen submissions at once for one subject: exactly the limit's worth are stored."""
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    sa = _subject(client, world, a, ballot["id"])
    limit = get_settings().votes_per_subject_per_minute
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def submit(i: int) -> None:
        barrier.wait()
        statuses.append(_vote(client, world, ballot, a, sa, i).status_code)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * limit + [429] * (16 - limit)
    assert _stored(db, ballot["id"], sa) == limit


def test_vote_limit_counts_refused_second_channel_votes(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """A conflicting vote is refused but recorded (row + audit event): it counts, too.

    After a confirmed paper ballot (the committee's entry, not the owner's submission), four
    refused online votes fill the owner's window of four and the fifth is refused for the limit.
    """
    monkeypatch.setattr(get_settings(), "votes_per_subject_per_minute", 4)
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path)
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    sa = _subject(client, world, a, ballot["id"])
    entry = client.post(world.url(f"/ballots/{ballot['id']}/paper"), headers=world.committee,
                        json={"subject_id": sa, "choices": _choices(ballot, "agree"),
                              "scan_file_id": _scan(client, world)})
    assert entry.status_code == 201, entry.text
    confirmed = client.post(world.url(f"/ballots/{ballot['id']}/paper/{entry.json()['id']}/confirm"),
                            headers=world.committee2)
    assert confirmed.status_code == 200, confirmed.text
    statuses = [_vote(client, world, ballot, a, sa).status_code for _ in range(5)]
    assert statuses == [409, 409, 409, 409, 429]


def _scan(client: TestClient, world: World) -> int:
    r = client.post(world.url("/files"), headers=world.committee, data={"purpose": "paper_ballot"},
                    files={"file": ("scan.pdf", io.BytesIO(b"%PDF-1.4\n" + b"0" * 64),
                                    "application/pdf")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_vote_limit_adds_no_statement(
    client: TestClient, db: Session, engine: Engine, outbox: MemorySender,
    frozen_clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The count lives on the subject row the vote locks and updates anyway: with the limit on,
    a vote runs exactly the statements it runs with the limit off."""
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    sa = _subject(client, world, a, ballot["id"])
    assert _vote(client, world, ballot, a, sa, 0).status_code == 201
    monkeypatch.setattr(get_settings(), "votes_per_subject_per_minute", 0)  # off
    with _statements(engine) as without:
        assert _vote(client, world, ballot, a, sa, 1).status_code == 201
    monkeypatch.setattr(get_settings(), "votes_per_subject_per_minute", 10)
    with _statements(engine) as with_limit:
        assert _vote(client, world, ballot, a, sa, 2).status_code == 201
    assert with_limit == without and without
    # The subject's UPDATE carries the count (on PostgreSQL inside the audit append's statement,
    # a WITH … UPDATE … CTE).
    assert any("window_submissions" in s for s in with_limit if "UPDATE" in s)
