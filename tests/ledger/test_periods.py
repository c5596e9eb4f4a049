"""Closing periods into statements, publishing them as notices, the annual audit, the warnings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.ledger import service
from app.ledger.models import LedgerPeriod
from app.notices.models import Notice
from tests.ledger.helpers import PDF, Q1, Q2, after_quarter, build_ledger_world


def _first_quarter(lw) -> list[dict]:  # type: ignore[no-untyped-def]
    """Parking with a deducted cost, advertising, and a transfer to the maintenance fund."""
    return [
        lw.booked(amount="10,000.00", cost="1,000.00", cost_evidence_file_ids=[lw.upload(lw.clerk)],
                  entry_date="2026-01-31"),
        lw.booked(category="广告", amount="3,600.00", entry_date="2026-02-28",
                  counterparty="某某传媒有限公司", description="电梯广告位租金"),
        lw.booked(direction="expense", category="转入维修资金", amount="6,300.00",
                  entry_date="2026-03-01", counterparty="住宅专项维修资金专户",
                  description="按规定比例转入维修资金"),
    ]


def test_closing_fixes_a_statement_that_the_entries_reproduce_and_the_notice_publishes(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender
) -> None:
    lw = build_ledger_world(db, client)
    _first_quarter(lw)
    early = lw.close(Q1, expect=409)
    assert early["error"] == "ledger_period_not_ended"
    pending = lw.record(amount="1.00", entry_date="2026-03-02")
    after_quarter(frozen_clock, lw)
    assert lw.close(Q1, expect=409)["error"] == "ledger_pending_entries"
    client.post(lw.url(f"/ledger/entries/{pending['id']}/reject"), headers=lw.committee,
                json={"reason": "重复"})

    closed = lw.close(Q1)
    s = closed["statement"]
    assert closed["status"] == "closed" and closed["live"] is False
    assert (s["opening_balance_fen"], s["income"]["gross_fen"], s["income"]["cost_fen"]) == (0, 1_360_000, 100_000)
    assert (s["expense"]["total_fen"], s["closing_balance_fen"]) == (630_000, 630_000)
    assert s["maintenance_fund"] == {"share_percent": 50, "base_fen": 1_260_000, "required_fen": 630_000,
                                     "transferred_fen": 630_000, "met": True}
    assert len(s["entries"]) == 3  # the rejected entry does not count
    assert lw.close(Q1, expect=409)["error"] == "ledger_period_already_closed"

    published = lw.publish(Q1)
    assert published["status"] == "published" and published["notice_id"]
    owner = lw.owner(outbox)
    notice = client.get(lw.url(f"/notices/{published['notice_id']}"), headers=owner).json()
    assert notice["kind"] == "ledger" and notice["kind_label"] == "公共收益公示"
    assert notice["display_days"] >= 15 and "2026年第一季度" in notice["title"]
    assert "第二百八十二条" in notice["body"] and "期末余额6,300.00元" in notice["body"]
    assert notice["source_type"] == "ledger_period"

    # Reproducible: recomputed from the entries = the stored statement = the published one.
    db.rollback()
    slot = service.find_slot(db, compound_id=lw.cid, start_date=date(2026, 1, 1))
    recomputed = service.recompute_statement(db, compound_id=lw.cid, slot=slot)
    stored = json.loads(slot.row.statement_json)
    in_notice = notice["structured"]["data"]["statement"]
    assert recomputed == stored == in_notice == published["statement"]
    assert notice["structured"]["data"]["statement_sha256"] == service.statement_digest(recomputed)
    tables = {sec["heading"]: sec for sec in notice["structured"]["sections"]}
    assert tables["收入（按类别）"]["rows"][0][:4] == ["停车", "10,000.00", "1,000.00", "9,000.00"]
    assert len(tables["收支明细"]["rows"]) == 3
    actions = [e.action for e in db.execute(select(AuditEvent).where(
        AuditEvent.compound_id == lw.cid)).scalars()]
    assert "ledger.period_closed" in actions and "ledger.period_published" in actions
    assert "notice.published" in actions
    assert lw.publish(Q1, expect=409)["error"] == "ledger_period_already_published"


def test_a_closed_period_accepts_nothing_and_late_items_go_into_the_current_one(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    original = lw.booked(entry_date="2026-02-01")
    after_quarter(frozen_clock, lw)
    lw.close(Q1)
    for headers in (lw.clerk, lw.committee):
        r = lw.record(headers, expect=409, entry_date="2026-03-31")
        assert r["error"] == "ledger_period_closed"
        assert "已结账" in r["detail"] and "当前期间" in r["detail"]
    # Late: dated in the current period, referencing the closed one.
    late = lw.record(entry_date="2026-04-02", late_for_period_start=Q1,
                     description="3月充电桩分成（补记）", category="充电桩")
    assert late["period_start"] == Q2 and late["late_for_period_label"] == "2026年第一季度"
    r = lw.record(expect=422, entry_date="2026-04-02", late_for_period_start=Q2)
    assert r["error"] == "ledger_late_period_invalid"
    # A reversal of a closed period's entry lands in the current period too.
    r = client.post(lw.url(f"/ledger/entries/{original['id']}/reverse"), headers=lw.clerk,
                    json={"reason": "对方退款"})
    assert r.status_code == 201
    assert r.json()["period_start"] == Q2 and r.json()["late_for_period_start"] == Q1
    # The closed statement is unchanged by any of this.
    period = client.get(lw.url(f"/ledger/periods/{Q1}"), headers=lw.committee).json()
    assert period["statement"]["closing_balance_fen"] == 100_000
    # Nothing reaches a closed period by any route: the approvals land in Q2.
    lw.approve(late["id"])
    lw.approve(r.json()["id"])
    q2 = client.get(lw.url(f"/ledger/periods/{Q2}"), headers=lw.committee).json()
    assert q2["statement"]["opening_balance_fen"] == 100_000
    assert q2["statement"]["closing_balance_fen"] == 100_000  # +1,000.00 late, −1,000.00 reversed
    db.rollback()
    row = db.execute(select(LedgerPeriod).where(LedgerPeriod.compound_id == lw.cid,
                                                LedgerPeriod.start_date == date(2026, 1, 1))).scalar_one()
    assert service.recompute_statement(
        db, compound_id=lw.cid, slot=service.Slot(row.start_date, row.end_date, row.kind, row)
    ) == json.loads(row.statement_json)


def test_periods_close_and_publish_in_order_and_the_year_end_needs_the_audit_report(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    lw.booked()
    lw.travel_to(frozen_clock, datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    periods = client.get(lw.url("/ledger/periods"), headers=lw.committee).json()
    assert [p["label"] for p in periods] == [
        "2026年第一季度", "2026年第二季度", "2026年第三季度", "2026年第四季度", "2027年第一季度"]
    assert [p["status"] for p in periods] == ["ended"] * 4 + ["open"]
    assert lw.close("2026-04-01", expect=409)["error"] == "ledger_previous_period_open"
    for start in (Q1, Q2, "2026-07-01", "2026-10-01"):
        lw.close(start)
    assert lw.publish(Q2, expect=409)["error"] == "ledger_previous_period_unpublished"
    for start in (Q1, Q2, "2026-07-01"):
        lw.publish(start)
    r = lw.publish("2026-10-01", expect=409)
    assert r["error"] == "ledger_annual_audit_required" and "2026年度" in r["detail"]
    wrong = lw.upload(lw.committee, purpose="voucher", data=PDF)
    r = client.post(lw.url("/ledger/periods/2026-10-01/audit-report"), headers=lw.committee,
                    json={"file_id": wrong})
    assert r.status_code == 422 and r.json()["error"] == "ledger_file_purpose"
    report = lw.upload(lw.committee, purpose="audit_report", data=PDF, name="2026年度公共收益审计报告.pdf")
    r = client.post(lw.url("/ledger/periods/2026-10-01/audit-report"), headers=lw.committee,
                    json={"file_id": report})
    assert r.status_code == 200 and r.json()["audit_report"]["file_name"].startswith("2026年度")
    published = lw.publish("2026-10-01")
    notice = client.get(lw.url(f"/notices/{published['notice_id']}"), headers=lw.observer).json()
    assert [a["id"] for a in notice["attachments"]] == [report]
    assert "审计报告" in notice["body"]
    late = client.post(lw.url("/ledger/periods/2026-10-01/audit-report"), headers=lw.committee,
                       json={"file_id": report})
    assert late.status_code == 409
    closing = [p["statement"]["closing_balance_fen"]
               for p in client.get(lw.url("/ledger/periods"), headers=lw.committee).json()]
    assert closing == [100_000] * 5


def test_owners_are_warned_of_a_quarter_without_a_published_statement(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender
) -> None:
    lw = build_ledger_world(db, client)
    owner = lw.owner(outbox)
    status = client.get(lw.url("/ledger/status"), headers=owner).json()
    assert status["started"] is False and status["missing"] == []
    lw.booked()
    assert client.get(lw.url("/ledger/status"), headers=owner).json()["missing"] == []
    after_quarter(frozen_clock, lw)
    owner = lw.owner(outbox)
    status = client.get(lw.url("/ledger/status"), headers=owner).json()
    assert status["missing"] == [{"label": "2026年第一季度", "start_date": Q1, "end_date": "2026-03-31",
                                  "due_date": "2026-04-30", "overdue": False}]
    assert status["pending_count"] is None  # owners do not see the staff's queue
    lw.travel_to(frozen_clock, datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
    owner = lw.owner(outbox)
    assert client.get(lw.url("/ledger/status"), headers=owner).json()["missing"][0]["overdue"] is True
    lw.close(Q1)
    assert client.get(lw.url("/ledger/status"), headers=owner).json()["missing"][0]["label"] == "2026年第一季度"
    lw.publish(Q1)
    status = client.get(lw.url("/ledger/status"), headers=owner).json()
    assert status["missing"] == []
    assert status["latest"]["label"] == "2026年第一季度" and status["latest"]["closing_balance"] == "1,000.00"


def test_monthly_periods(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    lw = build_ledger_world(db, client)
    r = client.put(lw.url("/ledger/settings"), headers=lw.committee, json={"period_kind": "month"})
    assert r.status_code == 200 and r.json()["period_kind_label"] == "按月"
    lw.booked(entry_date="2026-03-01")
    after_quarter(frozen_clock, lw)
    labels = [p["label"] for p in client.get(lw.url("/ledger/periods"), headers=lw.committee).json()]
    assert labels == ["2026年3月", "2026年4月"]
    lw.close("2026-03-01")
    lw.publish("2026-03-01")
    assert client.get(lw.url("/ledger/status"), headers=lw.observer).json()["missing"] == []
    # The start is fixed once periods exist.
    r = client.put(lw.url("/ledger/settings"), headers=lw.committee, json={"starts_on": "2026-01-01"})
    assert r.status_code == 409 and r.json()["error"] == "ledger_start_fixed"


def test_notice_is_published_as_an_immutable_ledger_notice(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    lw.booked()
    after_quarter(frozen_clock, lw)
    lw.close(Q1)
    notice_id = lw.publish(Q1)["notice_id"]
    db.rollback()
    notice = db.get(Notice, notice_id)
    assert notice is not None and notice.published_at is not None and notice.display_days == 15
    r = client.patch(lw.url(f"/notices/{notice_id}"), headers=lw.committee, json={"title": "改"})
    assert r.status_code == 409


def test_a_new_period_kind_applies_from_the_next_period(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    lw.booked()
    lw.travel_to(frozen_clock, datetime(2026, 5, 10, 2, 0, tzinfo=UTC))
    r = client.put(lw.url("/ledger/settings"), headers=lw.committee, json={"period_kind": "month"})
    assert r.status_code == 200
    lw.travel_to(frozen_clock, datetime(2026, 8, 3, 2, 0, tzinfo=UTC))
    labels = [p["label"] for p in client.get(lw.url("/ledger/periods"), headers=lw.committee).json()]
    assert labels == ["2026年第一季度", "2026年第二季度", "2026年7月", "2026年8月"]
