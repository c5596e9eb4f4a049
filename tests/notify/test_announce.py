"""Notifications that move turnout: the opening, the reminder, 我的消息 and the opt-out, and the
login and vote paths while the provider fails or hangs."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.clock import FrozenClock
from app.config import get_settings
from app.notify import service as notify
from app.notify.models import OutboxMessage, OutboxStatus
from app.notify.providers import Outgoing, SendResult, set_provider
from app.notify.worker import get_worker
from tests.conftest import CodeOutbox
from tests.factories import UnitSpec, add_roster, make_compound
from tests.voting.helpers import build_world, open_ballot, owner

OTP_REQUEST = "/api/v1/auth/otp/request"
UNREGISTERED = "13712345678"


def _choices(ballot: dict) -> dict:  # type: ignore[type-arg]
    return {str(m["id"]): {"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree"
            for m in ballot["matters"]}


def _subject(client: TestClient, world, headers, bid: int) -> int:  # type: ignore[no-untyped-def]
    return client.get(world.url(f"/ballots/{bid}"), headers=headers).json()["my_subjects"][0]["subject_id"]


def _rows(db: Session, kind: str) -> list[OutboxMessage]:
    db.rollback()
    return list(db.execute(select(OutboxMessage).where(OutboxMessage.kind == kind)
                           .order_by(OutboxMessage.id)).scalars())  # type: ignore[arg-type]


def test_opening_reminder_once_a_day_and_counts(
    client: TestClient, db: Session, outbox: CodeOutbox, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    # B opts out of notifications in 我的消息 (login codes still come).
    b = owner(client, outbox, world, "B")
    r = client.put("/api/v1/me/messages/opt-out", json={"opted_out": True}, headers=b)
    assert r.status_code == 200 and r.json()["opted_out"] is True
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    opened = _rows(db, "ballot_opened")
    assert sorted(m.phone for m in opened) == sorted(world.phones.values())  # every owner
    assert {m.phone for m in opened if m.status is OutboxStatus.SKIPPED} == {world.phones["B"]}
    assert {m.status for m in opened if m.phone != world.phones["B"]} == {OutboxStatus.SENT}
    sent_text = next(m for m in outbox.messages if m.kind == "ballot_opened")
    assert sent_text.params["title"] == "2026年第一次业主大会"

    a = owner(client, outbox, world, "A")
    r = client.post(world.url(f"/ballots/{bid}/votes"), headers=a,
                    json={"subject_id": _subject(client, world, a, bid), "choices": _choices(ballot)})
    assert r.status_code == 201, r.text

    # Preview: subjects B..I+J have not voted (nine owners), B opted out.
    preview = client.get(world.url(f"/ballots/{bid}/reminder"), headers=world.committee)
    assert preview.status_code == 200, preview.text
    p = preview.json()
    assert (p["recipients"], p["opted_out"], p["messages"], p["over_cap"]) == (9, 1, 8, 0)
    assert p["segments_each"] == notify.segments(notify.SIGN + p["text"])
    assert p["estimated_cost_fen"] == 8 * p["segments_each"] * get_settings().sms_price_fen
    assert "尚未投票" in p["text"] and p["sent_today"] is False
    # Owners may not see or send it.
    assert client.get(world.url(f"/ballots/{bid}/reminder"), headers=a).status_code == 403
    assert client.post(world.url(f"/ballots/{bid}/reminder"), headers=a).status_code == 403

    r = client.post(world.url(f"/ballots/{bid}/reminder"), headers=world.committee)
    assert r.status_code == 200 and r.json() == {"queued": 8, "skipped": 1}
    reminded = {m.phone for m in _rows(db, "ballot_reminder") if m.status is OutboxStatus.SENT}
    assert world.phones["A"] not in reminded and len(reminded) == 8
    again = client.post(world.url(f"/ballots/{bid}/reminder"), headers=world.committee2)
    assert again.status_code == 409 and again.json()["error"] == "reminder_already_sent_today"
    assert client.get(world.url(f"/ballots/{bid}/reminder"),
                      headers=world.committee).json()["sent_today"] is True
    events = db.execute(select(AuditEvent).where(
        AuditEvent.compound_id == world.cid, AuditEvent.action == "ballot.reminder_sent")).scalars().all()
    assert len(events) == 1 and json.loads(events[0].payload)["queued"] == 8

    counts = client.get(world.url(f"/ballots/{bid}/messages"), headers=world.committee).json()
    assert counts == {"queued": 0, "sending": 0, "sent": 9 + 8, "failed": 0, "skipped": 2}

    # The next calendar day in Shanghai: one more reminder is allowed.
    world.travel(client, frozen_clock, days=1)
    r = client.post(world.url(f"/ballots/{bid}/reminder"), headers=world.committee)
    assert r.status_code == 200, r.text

    # 我的消息: C sees the opening and the reminders, rendered, with their status.
    c = owner(client, outbox, world, "C")
    mine = client.get("/api/v1/me/messages", headers=c).json()
    kinds = [m["kind"] for m in mine["items"]]
    assert kinds.count("ballot_reminder") == 2 and "ballot_opened" in kinds
    assert kinds[0] == "login_code" and "******" in mine["items"][0]["text"]
    opening = next(m for m in mine["items"] if m["kind"] == "ballot_opened")
    assert opening["status"] == "sent" and "业主表决“2026年第一次业主大会”已开始" in opening["text"]


def test_the_reminder_needs_an_open_ballot(
    client: TestClient, db: Session, outbox: CodeOutbox, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    world.travel(client, frozen_clock, days=8)  # past the end
    r = client.post(world.url(f"/ballots/{ballot['id']}/reminder"), headers=world.committee)
    assert r.status_code == 409 and r.json()["error"] == "ballot_not_open"


class Hanging:
    """A provider whose notifications block until released; login codes go through."""

    name = "hanging"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.inside = False
        self.codes = CodeOutbox()

    def send(self, message: Outgoing) -> SendResult:
        if message.kind == "login_code":
            return self.codes.send(message)
        self.inside = True
        self.entered.set()
        self.release.wait(60)
        self.inside = False
        return SendResult("sent", self.name, code="OK")


def test_a_vote_is_answered_while_the_provider_hangs(
    client: TestClient, db: Session, outbox: CodeOutbox, frozen_clock: FrozenClock,
    manual_delivery: None,
) -> None:
    world = build_world(db, client)
    provider = Hanging()
    set_provider(provider)
    get_worker().start()
    try:
        ballot = open_ballot(client, world, frozen_clock)  # the worker takes the openings...
        assert provider.entered.wait(30)  # ...and is stuck inside the provider
        a_phone = world.phones["A"]
        assert client.post(OTP_REQUEST, json={"phone": a_phone}).status_code == 202
        notify.deliver_due()  # the test's own pass takes the code (the worker is stuck)
        r = client.post("/api/v1/auth/otp/verify", json={
            "phone": a_phone, "code": provider.codes.last_code(a_phone), "mode": "bearer"})
        a = {"Authorization": f"Bearer {r.json()['access_token']}"}
        vote = client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=a, json={
            "subject_id": _subject(client, world, a, ballot["id"]), "choices": _choices(ballot)})
        assert vote.status_code == 201, vote.text
        assert provider.inside and not provider.release.is_set()  # answered while stuck
    finally:
        provider.release.set()
        get_worker().stop()


def _answers(client: TestClient, registered: str) -> list[tuple[int, dict]]:  # type: ignore[type-arg]
    out = []
    for phone in (registered, UNREGISTERED):
        r = client.post(OTP_REQUEST, json={"phone": phone})
        out.append((r.status_code, r.json()))
    return out


class Failing:
    name = "failing"

    def send(self, message: Outgoing) -> SendResult:
        return SendResult("retry", self.name, code="Throttling", detail="busy")


def test_login_answers_are_identical_in_every_provider_state(
    client: TestClient, db: Session, frozen_clock: FrozenClock, manual_delivery: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compound = make_compound(db)
    phones = {f"业主{n}": f"1380000{n:04d}" for n in range(1, 6)}
    add_roster(db, compound, [UnitSpec("1栋", f"10{n}", 9000, [f"业主{n}"]) for n in range(1, 6)],
               phones=phones)
    db.commit()
    registered = iter(phones.values())
    # Healthy: 202 for both, one code queued (for the registered phone only).
    healthy = _answers(client, next(registered))
    assert healthy[0] == healthy[1] and healthy[0][0] == 202
    notify.deliver_due()
    # Failing: three retryable answers open the breaker; then 503 for both alike.
    set_provider(Failing())
    for _ in range(3):
        frozen_clock.advance(seconds=61)
        assert client.post(OTP_REQUEST, json={"phone": next(registered)}).status_code == 202
        notify.deliver_due()
    frozen_clock.advance(seconds=61)
    failing = _answers(client, "13800000001")
    assert failing[0] == failing[1] and failing[0][0] == 503
    assert failing[0][1]["error"] == "sms_unavailable" and "短信" in failing[0][1]["detail"]
    # Hanging: a send claimed longer than the bounded wait ago, nothing answered since.
    frozen_clock.advance(seconds=get_settings().notify_breaker_window_seconds + 1)
    set_provider(CodeOutbox())
    assert _answers(client, "13800000001")[0][0] == 202  # recovered: window passed
    stuck = notify.claim_batch()  # a worker holds the code and its provider does not answer
    assert stuck
    frozen_clock.advance(seconds=get_settings().notify_send_bound_seconds + 1)
    hanging = _answers(client, "13800000002")
    assert hanging[0] == hanging[1] and hanging[0][0] == 503
    assert hanging[0][1]["error"] == "sms_unavailable"
    # The provider answers at last: codes flow again.
    notify.record_outcome(stuck[0], SendResult("sent", "memory", code="OK"))
    frozen_clock.advance(seconds=61)
    back = _answers(client, "13800000003")
    assert back[0] == back[1] and back[0][0] == 202


def test_notices_announce_to_their_audience(
    client: TestClient, db: Session, outbox: CodeOutbox, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    r = client.post(world.url("/notices"), headers=world.committee, json={
        "kind": "general", "title": "停水通知", "body": "明日停水。", "audience": "compound"})
    assert r.status_code == 201, r.text
    r = client.post(world.url(f"/notices/{r.json()['id']}/publish"), headers=world.committee)
    assert r.status_code == 200, r.text
    rows = _rows(db, "notice_published")
    assert sorted(m.phone for m in rows) == sorted(world.phones.values())
    assert all(m.status is OutboxStatus.SENT and m.topic.startswith("notice:") for m in rows)
    assert frozen_clock.current - rows[0].created_at < timedelta(seconds=1)
