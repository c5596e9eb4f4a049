"""No route or service changes or deletes an entry; the models refuse it as a last defence."""

from __future__ import annotations

import inspect

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.clock import FrozenClock
from app.ledger import importer, service, statements
from app.ledger.models import (
    LedgerEntry,
    LedgerEntryImmutable,
    LedgerPeriod,
    LedgerPeriodImmutable,
    LedgerVoucher,
)
from tests.ledger.helpers import Q1, after_quarter, build_ledger_world


def _first_period(db: Session, cid: int) -> LedgerPeriod:
    return db.execute(select(LedgerPeriod).where(LedgerPeriod.compound_id == cid)
                      .order_by(LedgerPeriod.start_date)).scalars().first()


WRITE_VERBS = ("update", "delete", "edit", "remove", "modify", "change", "amend", "purge", "set_")


def test_the_api_has_no_put_patch_or_delete_on_entries(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    ledger = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if "/ledger" in p}
    assert ledger, "the ledger routes are mounted"
    entry_writes = [(m, p) for m, p in ledger
                    if "/entries" in p and m in ("PUT", "PATCH", "DELETE")]
    assert entry_writes == []
    # The only non-POST write of the ledger is its settings.
    assert {(m, p) for m, p in ledger if m in ("PUT", "PATCH", "DELETE")} == {
        ("PUT", "/api/v1/compounds/{compound_id}/ledger/settings")}
    # Every POST under an entry creates something new (a decision or a reversing entry).
    posts = sorted(p.rsplit("/", 1)[-1] for m, p in ledger
                   if m == "POST" and "/entries/{entry_id}/" in p)
    assert posts == ["approve", "reject", "reverse"]


def test_no_service_function_updates_or_deletes_an_entry() -> None:
    for module in (service, importer, statements):
        names = [n for n, f in inspect.getmembers(module, inspect.isfunction)
                 if f.__module__ == module.__name__]
        offending = [n for n in names if any(v in n.lower() for v in WRITE_VERBS)
                     and n != "update_settings"]
        assert offending == [], (module.__name__, offending)


def test_the_models_refuse_to_change_or_delete_an_entry(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    approved = lw.booked()
    db.rollback()
    entry = db.get(LedgerEntry, approved["id"])
    assert entry is not None
    entry.amount_fen = 1
    with pytest.raises(LedgerEntryImmutable):
        db.flush()
    db.rollback()
    entry = db.get(LedgerEntry, approved["id"])
    entry.rejected_at = entry.approved_at  # a second decision over the first
    with pytest.raises(LedgerEntryImmutable):
        db.flush()
    db.rollback()
    entry = db.get(LedgerEntry, approved["id"])
    db.delete(entry)
    with pytest.raises(LedgerEntryImmutable):
        db.flush()
    db.rollback()
    voucher = db.execute(select(LedgerVoucher).where(
        LedgerVoucher.entry_id == approved["id"])).scalars().first()
    db.delete(voucher)
    with pytest.raises(LedgerEntryImmutable):
        db.flush()
    db.rollback()


def test_a_closed_statement_cannot_be_rewritten(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    lw.booked()
    after_quarter(frozen_clock, lw)
    lw.close(Q1)
    cid = lw.cid
    db.rollback()
    period = _first_period(db, cid)
    assert period is not None
    period.statement_json = "{}"
    with pytest.raises(LedgerPeriodImmutable):
        db.flush()
    db.rollback()
    db.close()  # a refused flush leaves the session's connection behind: start afresh
    lw.publish(Q1)
    period = _first_period(db, cid)
    assert period.published_at is not None
    period.audit_report_file_id = None
    period.notice_id = None
    with pytest.raises(LedgerPeriodImmutable):
        db.flush()
    db.rollback()
