"""The outbox: transactional enqueue, safe claims across workers, retries, caps, the breaker."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.config import get_settings
from app.db import transaction
from app.notify import service as notify
from app.notify.models import OutboxMessage, OutboxStatus
from app.notify.providers import Outgoing, SendResult, set_provider
from tests.factories import make_compound

PARAMS = {"compound": "幸福家园", "title": "公告"}


class Recording:
    """A provider answering from a script (default: sent), thread-safe."""

    name = "recording"

    def __init__(self, outcome: str = "sent") -> None:
        self.outcome = outcome
        self.messages: list[Outgoing] = []
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> SendResult:
        with self._lock:
            self.messages.append(message)
            n = len(self.messages)
        if self.outcome == "sent":
            return SendResult("sent", self.name, message_id=f"m{n}", code="OK")
        return SendResult(self.outcome, self.name, code="isp.RAM_PERMISSION"
                          if self.outcome == "retry" else "isv.MOBILE_NUMBER_ILLEGAL",
                          detail="provider said no")


def _rows(db: Session) -> list[OutboxMessage]:
    db.rollback()
    return list(db.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())  # type: ignore[arg-type]


def _compound_id(db: Session) -> int:
    compound = make_compound(db)
    db.commit()
    assert compound.id
    return compound.id


def test_enqueue_rolls_back_with_its_transaction(db: Session, manual_delivery: None) -> None:
    cid = _compound_id(db)
    with pytest.raises(RuntimeError), transaction() as session:
        notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS,
                       compound_id=cid, topic="notice:1")
        raise RuntimeError("the change that caused the message failed")
    assert _rows(db) == []
    with transaction() as session:
        notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS,
                       compound_id=cid, topic="notice:1")
    [row] = _rows(db)
    assert row.status is OutboxStatus.QUEUED and row.compound_id == cid and row.attempts == 0


def test_notifications_need_their_compound(db: Session) -> None:
    with transaction() as session, pytest.raises(ValueError):
        notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS)


def test_concurrent_claimers_never_send_one_row_twice(db: Session, manual_delivery: None) -> None:
    cid = _compound_id(db)
    phones = [f"139{n:08d}" for n in range(60)]
    with transaction() as session:
        notify.enqueue_many(session, kind="notice_published", phones=phones, params=PARAMS,
                            compound_id=cid)
    provider = Recording()
    set_provider(provider)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while notify.deliver_once(limit=3).claimed:
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    sent = Counter(m.phone for m in provider.messages)
    assert sorted(sent) == phones and set(sent.values()) == {1}
    rows = _rows(db)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert all(r.attempts == 1 and r.provider == "recording" and r.provider_code == "OK"
               and r.provider_message_id for r in rows)


def test_retries_back_off_then_fail_and_the_code_is_blanked(
    db: Session, manual_delivery: None, frozen_clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "notify_max_attempts", 3)
    monkeypatch.setattr(get_settings(), "notify_backoff_seconds", 10)
    provider = Recording("retry")
    set_provider(provider)
    with transaction() as session:
        notify.enqueue(session, kind="login_code", phone="13900000001", params={"code": "123456"})
    assert notify.deliver_once().claimed == 1
    [row] = _rows(db)
    assert (row.status, row.attempts, row.last_outcome) == (OutboxStatus.QUEUED, 1, "retry")
    assert row.next_attempt_at == frozen_clock.current + __import__("datetime").timedelta(seconds=10)
    assert row.provider_code == "isp.RAM_PERMISSION" and row.detail == "provider said no"
    assert "123456" not in row.params  # kept for the retry, sealed
    assert notify._unseal(row.params) == {"code": "123456"}
    assert notify.deliver_once().claimed == 0  # not due before its backoff
    frozen_clock.advance(seconds=10)
    assert notify.deliver_once().claimed == 1
    [row] = _rows(db)
    assert row.status is OutboxStatus.QUEUED and row.attempts == 2
    frozen_clock.advance(seconds=19)
    assert notify.deliver_once().claimed == 0  # the second wait doubles: 20 s
    frozen_clock.advance(seconds=1)
    assert notify.deliver_once().claimed == 1
    [row] = _rows(db)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert row.finished_at == frozen_clock.current
    assert json.loads(row.params) == {"code": ""}  # no usable code is kept
    assert len(provider.messages) == 3


def test_a_permanent_failure_is_not_retried(db: Session, manual_delivery: None) -> None:
    cid = _compound_id(db)
    set_provider(Recording("failed"))
    with transaction() as session:
        notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS,
                       compound_id=cid)
    notify.deliver_due()
    [row] = _rows(db)
    assert (row.status, row.attempts, row.provider_code) == (
        OutboxStatus.FAILED, 1, "isv.MOBILE_NUMBER_ILLEGAL")


def test_a_worker_that_died_loses_its_claim_after_the_lease(
    db: Session, manual_delivery: None, frozen_clock: FrozenClock
) -> None:
    cid = _compound_id(db)
    provider = Recording()
    set_provider(provider)
    with transaction() as session:
        notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS,
                       compound_id=cid)
    [dead] = notify.claim_batch()  # claimed, never answered
    assert notify.claim_batch() == []
    frozen_clock.advance(seconds=get_settings().notify_lease_seconds + 1)
    assert notify.deliver_once().claimed == 1
    # The dead worker's late answer is ignored: its token no longer holds the row.
    notify.record_outcome(dead, SendResult("failed", "late", code="late"))
    [row] = _rows(db)
    assert (row.status, row.attempts, row.provider) == (OutboxStatus.SENT, 2, "recording")


def test_daily_caps_per_phone_and_per_compound(
    db: Session, manual_delivery: None, frozen_clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "notify_phone_daily_cap", 2)
    monkeypatch.setattr(get_settings(), "notify_compound_daily_cap", 4)
    cid = _compound_id(db)
    with transaction() as session:
        for _ in range(3):
            notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS,
                           compound_id=cid)
    with transaction() as session:
        result = notify.enqueue_many(session, kind="notice_published", params=PARAMS,
                                     phones=[f"1380000000{n}" for n in range(4)], compound_id=cid)
    assert (result.queued, result.skipped) == (2, {"compound_daily_cap": 2})
    rows = _rows(db)
    assert [(r.phone, r.status.value, r.skip_reason) for r in rows[:3]] == [
        ("13900000001", "queued", None), ("13900000001", "queued", None),
        ("13900000001", "skipped", "phone_daily_cap")]
    assert [r.skip_reason for r in rows[3:]] == [None, None, "compound_daily_cap", "compound_daily_cap"]
    # Login codes are not capped here (auth limits them per phone and address): announcements
    # never lock an owner out; and they do not count towards the cap either.
    with transaction() as session:
        notify.enqueue(session, kind="login_code", phone="13900000002", params={"code": "111111"})
        notify.enqueue(session, kind="login_code", phone="13900000002", params={"code": "222222"})
        notify.enqueue(session, kind="login_code", phone="13900000001", params={"code": "333333"})
    assert [r.status for r in _rows(db)[-3:]] == [OutboxStatus.QUEUED] * 3
    with transaction() as session:
        result = notify.enqueue(session, kind="notice_published", phone="13900000002",
                                params=PARAMS, compound_id=cid)
    assert result.skipped == {"compound_daily_cap": 1}  # the compound's cap, not the phone's
    # A new calendar day in Shanghai (frozen at 10:00 there): the caps start again.
    frozen_clock.advance(hours=14)
    with transaction() as session:
        result = notify.enqueue(session, kind="notice_published", phone="13900000001",
                                params=PARAMS, compound_id=cid)
    assert result.queued == 1


def test_login_codes_are_claimed_before_announcements(db: Session, manual_delivery: None) -> None:
    cid = _compound_id(db)
    with transaction() as session:
        notify.enqueue_many(session, kind="notice_published", params=PARAMS, compound_id=cid,
                            phones=[f"1380000{n:04d}" for n in range(30)])
    with transaction() as session:
        notify.enqueue(session, kind="login_code", phone="13900000001", params={"code": "123456"})
    first = notify.claim_batch(limit=5)
    assert first[0].kind == "login_code" and first[0].params == {"code": "123456"}


def test_opted_out_phones_are_skipped_except_for_login_codes(
    db: Session, manual_delivery: None
) -> None:
    cid = _compound_id(db)
    with transaction() as session:
        notify.set_opt_out(session, phone="13900000001", opted_out=True)
    with transaction() as session:
        a = notify.enqueue(session, kind="notice_published", phone="13900000001", params=PARAMS,
                           compound_id=cid)
        b = notify.enqueue(session, kind="login_code", phone="13900000001", params={"code": "1"})
    assert a.skipped == {"opted_out": 1} and b.queued == 1


def test_the_breaker_opens_on_retryable_answers_and_closes_on_success(
    db: Session, manual_delivery: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "notify_backoff_seconds", 3600)
    provider = Recording("retry")
    set_provider(provider)
    for n in range(3):
        with transaction() as session:
            assert notify.provider_health(session).ok
            notify.enqueue(session, kind="login_code", phone=f"1390000000{n}", params={"code": "1"})
        notify.deliver_due()
    with transaction() as session:
        assert notify.provider_health(session) == notify.ProviderHealth(False, "retry_answers")
    provider.outcome = "sent"
    with transaction() as session:
        notify.enqueue(session, kind="login_code", phone="13900000009", params={"code": "1"})
    notify.deliver_due()
    with transaction() as session:
        assert notify.provider_health(session).ok


def test_deliver_command_sends_one_pass(db: Session, manual_delivery: None,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from app.notify.__main__ import main

    cid = _compound_id(db)
    provider = Recording()
    set_provider(provider)
    with transaction() as session:
        notify.enqueue_many(session, kind="notice_published", phones=["13900000001", "13900000002"],
                            params=PARAMS, compound_id=cid)
    assert main(["deliver"]) == 0
    assert "outbox: 2 claimed (sent 2)" in capsys.readouterr().out
    assert len(provider.messages) == 2
    assert db.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENT)).scalar_one() == 2
