"""Concurrent ledger writes serialize on the compound's ledger lock: no forked periods, one decision."""

from __future__ import annotations

import threading
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.service import Actor
from app.auth.models import Role, UserAccount
from app.clock import FrozenClock
from app.db import transaction
from app.errors import DomainError
from app.ledger import service
from app.ledger.models import LedgerEntry, LedgerPeriod
from tests.ledger.helpers import build_ledger_world


def _user_id(db: Session, username: str) -> int:
    return db.execute(select(UserAccount.id).where(UserAccount.username == username)).scalar_one()


def _run(n: int, work) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def go(i: int) -> None:
        barrier.wait()
        try:
            with transaction() as s:
                results[i] = work(s, i)
        except DomainError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_first_entries_create_one_set_of_periods_and_one_approval_wins(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    voucher = lw.upload(lw.clerk)
    clerk = Actor(user_id=_user_id(db, "wg1"), role=Role.CLERK.value)
    db.rollback()

    def record(s: Session, i: int) -> int:
        entry = service.record_entry(
            s, compound_id=lw.cid, actor=clerk, direction="income", category="停车",
            amount_fen=100 + i, entry_date=date(2026, 1, 15 + i % 10), description=f"第{i}笔",
            voucher_file_ids=[voucher])
        return entry.id or 0

    ids = _run(8, record)
    assert all(isinstance(i, int) for i in ids), ids
    db.rollback()
    periods = db.execute(select(func.count()).select_from(LedgerPeriod)
                         .where(LedgerPeriod.compound_id == lw.cid)).scalar_one()
    assert periods == 1

    members = [Actor(user_id=_user_id(db, name), role=Role.COMMITTEE.value) for name in ("wy1", "wy2")]
    target = int(ids[0])  # type: ignore[call-overload]
    db.rollback()
    outcomes = _run(2, lambda s, i: service.approve_entry(
        s, compound_id=lw.cid, entry_id=target, actor=members[i]).approved_by)
    assert sorted(map(str, outcomes)) == sorted([str(members[0].user_id), "ledger_entry_decided"]) or \
        sorted(map(str, outcomes)) == sorted([str(members[1].user_id), "ledger_entry_decided"])
    db.rollback()
    approved = db.execute(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.approved_at.is_not(None))).scalar_one()
    assert approved == 1
