"""Expenses that need the owners' decision must rely on a matter passed in a published ballot."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.sender import MemorySender
from app.clock import FrozenClock
from tests.ledger.helpers import build_ledger_world, published_ballot

REPAIR = {"direction": "expense", "category": "维修养护", "amount": "80,000.00",
          "counterparty": "某某建筑工程有限公司", "description": "维修小区围墙"}


def test_an_expense_needing_a_decision_is_refused_until_a_passed_matter_is_published(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox: MemorySender
) -> None:
    lw = build_ledger_world(db, client)
    r = lw.record(lw.committee, expect=422, **REPAIR)
    assert r["error"] == "expense_needs_decision"
    assert "须经业主共同决定" in r["detail"] and "第二百七十八条" in r["detail"]

    passed, failed, _ = published_ballot(lw, frozen_clock, outbox, publish=False)
    # Tallied but not yet announced: not a decision yet.
    r = lw.record(lw.committee, expect=422, matter_id=passed, **REPAIR)
    assert r["error"] == "expense_needs_decision" and "尚未公告" in r["detail"]
    assert client.get(lw.url("/ledger/decisions"), headers=lw.clerk).json() == []

    r = client.post(lw.url(f"/ballots/{_ballot_of(client, lw, passed)}/publish"), headers=lw.committee)
    assert r.status_code == 200, r.text
    r = lw.record(lw.committee, expect=422, matter_id=failed, **REPAIR)
    assert r["error"] == "expense_needs_decision" and "未获表决通过" in r["detail"]
    r = lw.record(lw.committee, expect=422, matter_id=999_999, **REPAIR)
    assert r["error"] == "expense_needs_decision"

    decisions = client.get(lw.url("/ledger/decisions"), headers=lw.clerk).json()
    assert [d["matter_id"] for d in decisions] == [passed]
    entry = lw.record(lw.committee, matter_id=passed, **REPAIR)
    assert entry["matter"]["id"] == passed and entry["matter"]["title"].startswith("使用公共收益")
    assert lw.approve(entry["id"], headers=lw.committee2)["status"] == "approved"


def _ballot_of(client: TestClient, lw, matter_id: int) -> int:  # type: ignore[no-untyped-def]
    ballots = client.get(lw.url("/ballots"), headers=lw.committee).json()
    for b in ballots:
        detail = client.get(lw.url(f"/ballots/{b['id']}"), headers=lw.committee).json()
        if any(m["id"] == matter_id for m in detail["matters"]):
            return int(b["id"])
    raise AssertionError("no ballot")


def test_thresholds_and_categories_follow_the_compound_settings(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    # Defaults: repairs up to 5,000.00 yuan need no ballot; the committee's funds always do.
    lw.record(**{**REPAIR, "amount": "5,000.00"})
    r = lw.record(expect=422, **{**REPAIR, "amount": "5,000.01"})
    assert r["error"] == "expense_needs_decision" and "5,000.00" in r["detail"]
    r = lw.record(expect=422, **{**REPAIR, "category": "业委会工作经费", "amount": "1.00"})
    assert r["error"] == "expense_needs_decision"
    lw.record(**{**REPAIR, "category": "审计费", "amount": "20,000.00"})
    lw.record(**{**REPAIR, "category": "转入维修资金", "amount": "20,000.00"})

    settings = client.get(lw.url("/ledger/settings"), headers=lw.observer).json()
    assert settings["decision_rules"] == {"维修养护": 500000, "业委会工作经费": 0, "其他": 0}
    assert settings["maintenance_share_percent"] == 50 and settings["period_kind"] == "quarter"
    r = client.put(lw.url("/ledger/settings"), headers=lw.clerk, json={"maintenance_share_percent": 10})
    assert r.status_code == 403
    # Dropping a category Art. 278 (九) always leaves to the owners is laxer than the law: refused.
    r = client.put(lw.url("/ledger/settings"), headers=lw.committee,
                   json={"decision_rules": {"维修养护": 100000, "审计费": 0}})
    assert r.status_code == 422 and r.json()["error"] == "ledger_decision_rule_below_law"
    assert "第二百七十八条第一款第（九）项" in r.json()["detail"] and "业委会工作经费、其他" in r.json()["detail"]
    r = client.put(lw.url("/ledger/settings"), headers=lw.committee,
                   json={"decision_rules": {"维修养护": 100000, "审计费": 0, "业委会工作经费": 0, "其他": 0}})
    assert r.status_code == 200, r.text
    assert "审计费：一律须经业主共同决定" in r.json()["decision_rules_text"]
    r = lw.record(expect=422, **{**REPAIR, "category": "审计费", "amount": "1.00"})
    assert r["error"] == "expense_needs_decision"
    lw.record(**{**REPAIR, "category": "维修养护", "amount": "999.00"})  # under the lowered threshold
    bad = client.put(lw.url("/ledger/settings"), headers=lw.committee, json={"display_days": 10})
    assert bad.status_code == 422 and "15" in bad.json()["detail"]
    bad = client.put(lw.url("/ledger/settings"), headers=lw.committee,
                     json={"decision_rules": {"停车": 0}})
    assert bad.status_code == 422 and bad.json()["error"] == "ledger_category_invalid"
