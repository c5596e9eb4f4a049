"""Recording, four-eyes approval, withdrawal, reversal, vouchers, and the audit trail of each."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.clock import FrozenClock
from tests.ledger.helpers import Q1, build_ledger_world


def _events(db: Session, cid: int, prefix: str = "ledger.") -> list[AuditEvent]:
    db.rollback()  # see what the requests committed
    return [e for e in db.execute(select(AuditEvent).where(AuditEvent.compound_id == cid)
                                  .order_by(AuditEvent.seq)).scalars()
            if e.action.startswith(prefix)]


def test_clerk_records_and_another_committee_member_approves(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    entry = lw.record(amount="12,345.67", cost="1,234.56", cost_note="物业管理成本",
                      cost_evidence_file_ids=[lw.upload(lw.clerk)])
    assert entry["status"] == "pending" and entry["amount_fen"] == 1234567
    assert entry["cost_fen"] == 123456 and entry["net_fen"] == 1234567 - 123456
    assert entry["recorded_role_label"] == "物业工作人员"
    assert [v["kind"] for v in entry["vouchers"]] == ["voucher", "cost_evidence"]
    # Pending entries do not count.
    period = client.get(lw.url(f"/ledger/periods/{Q1}"), headers=lw.committee).json()
    assert period["live"] is True and period["statement"]["closing_balance_fen"] == 0
    assert [e["id"] for e in period["entries"]] == [entry["id"]]
    queue = client.get(lw.url("/ledger/entries"), params={"status": "pending"}, headers=lw.committee).json()
    assert [e["id"] for e in queue] == [entry["id"]]

    approved = lw.approve(entry["id"])
    assert approved["status"] == "approved" and approved["approved_by_name"]
    period = client.get(lw.url(f"/ledger/periods/{Q1}"), headers=lw.committee).json()
    assert period["statement"]["closing_balance_fen"] == 1234567 - 123456
    again = client.post(lw.url(f"/ledger/entries/{entry['id']}/approve"), headers=lw.committee2)
    assert again.status_code == 409 and again.json()["error"] == "ledger_entry_decided"

    actions = [e.action for e in _events(db, lw.cid)]
    assert actions == ["ledger.entry_recorded", "ledger.entry_approved"]
    recorded = json.loads(_events(db, lw.cid)[0].payload)
    assert recorded["amount_fen"] == 1234567 and len(recorded["vouchers"]) == 2
    assert all(len(v["sha256"]) == 64 for v in recorded["vouchers"])


def test_the_same_person_cannot_record_and_approve(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    entry = lw.record(lw.committee)
    r = client.post(lw.url(f"/ledger/entries/{entry['id']}/approve"), headers=lw.committee)
    assert r.status_code == 403
    assert r.json()["error"] == "same_person_cannot_approve"
    assert "不能是同一人" in r.json()["detail"]
    # The clerk is not a committee member and cannot approve at all.
    clerk_entry = lw.record()
    r = client.post(lw.url(f"/ledger/entries/{clerk_entry['id']}/approve"), headers=lw.clerk)
    assert r.status_code == 403 and r.json()["error"] == "forbidden_compound_role"
    # The other committee member can.
    assert lw.approve(entry["id"], headers=lw.committee2)["status"] == "approved"


def test_a_pending_entry_is_withdrawn_or_rejected_on_record_not_deleted(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    first, second = lw.record(), lw.record(amount="20.00")
    r = client.post(lw.url(f"/ledger/entries/{first['id']}/reject"), headers=lw.clerk,
                    json={"reason": "金额录错，重新录入"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = client.post(lw.url(f"/ledger/entries/{second['id']}/reject"), headers=lw.committee,
                    json={"reason": "凭证与金额不符"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["rejection_reason"] == "凭证与金额不符"
    # Both stay on record, and neither can be approved any more.
    everything = client.get(lw.url("/ledger/entries"), headers=lw.observer).json()
    assert {e["status"] for e in everything} == {"withdrawn", "rejected"}
    r = client.post(lw.url(f"/ledger/entries/{first['id']}/approve"), headers=lw.committee)
    assert r.status_code == 409
    # A clerk cannot reject someone else's entry.
    other = lw.record(lw.committee)
    r = client.post(lw.url(f"/ledger/entries/{other['id']}/reject"), headers=lw.clerk,
                    json={"reason": "x"})
    assert r.status_code == 403 and r.json()["error"] == "ledger_reject_forbidden"
    actions = [e.action for e in _events(db, lw.cid)]
    assert "ledger.entry_withdrawn" in actions and "ledger.entry_rejected" in actions


def test_a_reversal_nets_to_zero_and_an_entry_is_reversed_once(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    original = lw.booked(amount="5,000.00", cost="500.00",
                         cost_evidence_file_ids=[lw.upload(lw.clerk)])
    pending = lw.record(amount="1.00")
    r = client.post(lw.url(f"/ledger/entries/{pending['id']}/reverse"), headers=lw.clerk,
                    json={"reason": "x"})
    assert r.status_code == 409 and r.json()["error"] == "ledger_entry_pending"

    r = client.post(lw.url(f"/ledger/entries/{original['id']}/reverse"), headers=lw.clerk,
                    json={"reason": "重复入账"})
    assert r.status_code == 201, r.text
    reversal = r.json()
    assert reversal["reverses_id"] == original["id"] and reversal["status"] == "pending"
    assert reversal["amount_fen"] == -original["amount_fen"]
    assert reversal["net_fen"] + original["net_fen"] == 0
    twice = client.post(lw.url(f"/ledger/entries/{original['id']}/reverse"), headers=lw.committee,
                        json={"reason": "再冲一次"})
    assert twice.status_code == 409 and twice.json()["error"] == "ledger_entry_already_reversed"

    lw.approve(reversal["id"])
    r = client.post(lw.url(f"/ledger/entries/{reversal['id']}/reverse"), headers=lw.clerk,
                    json={"reason": "冲销冲销"})
    assert r.status_code == 409 and r.json()["error"] == "ledger_reversal_of_reversal"
    statement = client.get(lw.url(f"/ledger/periods/{Q1}"), headers=lw.committee).json()["statement"]
    assert statement["income"]["net_fen"] == 0 and statement["closing_balance_fen"] == 0
    assert statement["income"]["categories"][0]["entries"] == 2
    got = client.get(lw.url(f"/ledger/entries/{original['id']}"), headers=lw.committee).json()
    assert got["reversed_by_id"] == reversal["id"]
    assert "ledger.entry_reversal_recorded" in [e.action for e in _events(db, lw.cid)]


def test_a_rejected_reversal_frees_the_entry_for_a_correct_one(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    original = lw.booked()
    first = client.post(lw.url(f"/ledger/entries/{original['id']}/reverse"), headers=lw.clerk,
                        json={"reason": "误操作"}).json()
    client.post(lw.url(f"/ledger/entries/{first['id']}/reject"), headers=lw.clerk,
                json={"reason": "撤回"})
    again = client.post(lw.url(f"/ledger/entries/{original['id']}/reverse"), headers=lw.clerk,
                        json={"reason": "重复入账"})
    assert again.status_code == 201


def test_what_an_entry_needs(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    lw = build_ledger_world(db, client)
    cases = [
        ({"voucher_file_ids": []}, "ledger_voucher_required"),
        ({"cost": "10.00"}, "ledger_cost_evidence_required"),
        ({"cost": "2,000.00", "cost_evidence_file_ids": [lw.upload(lw.clerk)]}, "ledger_cost_invalid"),
        ({"direction": "expense", "category": "审计费", "cost": "1.00"}, "ledger_cost_invalid"),
        ({"category": "维修养护"}, "ledger_category_invalid"),
        ({"amount": "10.005"}, "ledger_amount_invalid"),
        ({"amount": None}, "ledger_amount_invalid"),
        ({"entry_date": "2026-03-03"}, "ledger_date_in_future"),
        ({"description": "  "}, "ledger_description_missing"),
        ({"voucher_file_ids": [lw.upload(lw.committee, purpose="minutes")]}, "ledger_file_purpose"),
    ]
    for fields, code in cases:
        r = lw.record(expect=422, **fields)
        assert r["error"] == code, (fields, r)
    three = lw.record(expect=422, amount="12.345")
    assert "最多两位小数" in three["detail"]
    # Integer fen are accepted as they are; floats never (the schema has no float field).
    ok = lw.record(amount=None, amount_fen=99)
    assert ok["amount_fen"] == 99
    r = client.post(lw.url("/ledger/entries"), headers=lw.clerk, json={
        "direction": "income", "category": "停车", "entry_date": "2026-03-01",
        "amount_fen": 1.5, "description": "x", "voucher_file_ids": [lw.upload(lw.clerk)]})
    assert r.status_code == 422


def test_vouchers_are_served_with_the_entry(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    lw = build_ledger_world(db, client)
    entry = lw.record()
    url = entry["vouchers"][0]["url"]
    r = client.get(url, headers=lw.observer)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    other = lw.record()
    wrong = url.rsplit("/", 1)[0].replace(f"/entries/{entry['id']}/", f"/entries/{other['id']}/")
    r = client.get(wrong + f"/{entry['vouchers'][0]['file_id']}", headers=lw.observer)
    assert r.status_code == 404
