"""The compound's settings screens rest on these server rules (issue 14, item 4).

Every setting the committee may change is refused when laxer than the law, with the reason
(Art. 278 for thresholds, the regulations' Art. 14 for the notice period, 15 days of display for
ledger statements); a refused change changes nothing and writes no audit event; an accepted one
is an audit event with the values before and after. Whether parking spaces carry area re-derives
the voting subjects at once and is audited with the totals before and after.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff
from tests.voting.helpers import build_world


def _events(client: TestClient, url: str, headers: dict[str, str], action: str) -> list[dict[str, Any]]:
    items = client.get(f"{url}/audit/events?limit=500", headers=headers).json()["items"]
    return [e for e in items if e["action"] == action]


@pytest.mark.parametrize(("level", "laxer", "statute"), [
    ("quorum", ">=1/2", "≥ 2/3"),
    ("quorum", ">3/5", "≥ 2/3"),
    ("simple_majority", ">=1/2", "> 1/2"),
    ("special_majority", ">2/3", "≥ 3/4"),
])
def test_a_laxer_threshold_is_refused_citing_article_278(
    client: TestClient, db: Session, level: str, laxer: str, statute: str
) -> None:
    world = build_world(db, client)
    before = client.get(world.url("/voting/settings"), headers=world.committee).json()
    r = client.put(world.url("/voting/settings"), json={"thresholds": {level: laxer}},
                   headers=world.committee)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "《中华人民共和国民法典》第二百七十八条" in detail
    assert f"（{statute}）" in detail and "已拒绝" in detail
    # Nothing changed, nothing audited.
    assert client.get(world.url("/voting/settings"), headers=world.committee).json() == before
    assert _events(client, world.url(), world.committee, "voting.settings_changed") == []


def test_a_stricter_threshold_is_kept_and_audited(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    r = client.put(world.url("/voting/settings"),
                   json={"thresholds": {"simple_majority": ">=2/3"}, "proxy_limit": 2},
                   headers=world.committee)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["thresholds"]["simple_majority"] == ">=2/3" and body["proxy_limit"] == 2
    # The other levels stay statutory.
    assert body["thresholds"]["quorum"] == ">=2/3" and body["thresholds"]["special_majority"] == ">=3/4"
    [event] = _events(client, world.url(), world.committee, "voting.settings_changed")
    assert event["payload"]["before"]["thresholds"]["simple_majority"] == ">1/2"
    assert event["payload"]["after"]["thresholds"]["simple_majority"] == ">=2/3"
    assert event["payload"]["after"]["proxy_limit"] == 2
    # Back to the statute: an empty level is the statutory one.
    back = client.put(world.url("/voting/settings"), json={"thresholds": {"simple_majority": None}},
                      headers=world.committee)
    assert back.status_code == 200 and back.json()["thresholds"]["simple_majority"] == ">1/2"


def test_a_shorter_notice_period_is_refused_citing_the_regulations(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    r = client.put(world.url("/voting/settings"), json={"notice_days": 14}, headers=world.committee)
    assert r.status_code == 422 and r.json()["error"] == "notice_period_below_statute"
    assert "15日" in r.json()["detail"] and "第十四条" in r.json()["detail"]
    ok = client.put(world.url("/voting/settings"), json={"notice_days": 20}, headers=world.committee)
    assert ok.status_code == 200 and ok.json()["notice_days"] == 20


def test_the_voting_rules_are_changed_by_the_committee_only(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    r = client.put(world.url("/voting/settings"), json={"thresholds": {"quorum": ">=3/4"}},
                   headers=world.observer)
    assert r.status_code == 403
    assert client.get(world.url("/voting/settings"), headers=world.observer).json()["thresholds"]["quorum"] == ">=2/3"


def test_a_shorter_ledger_display_is_refused(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    r = client.put(world.url("/ledger/settings"), json={"display_days": 14}, headers=world.committee)
    assert r.status_code == 422 and r.json()["error"] == "ledger_display_days_invalid"
    assert "15日" in r.json()["detail"]
    assert client.get(world.url("/ledger/settings"), headers=world.committee).json()["display_days"] != 14
    ok = client.put(world.url("/ledger/settings"), json={"display_days": 30}, headers=world.committee)
    assert ok.status_code == 200 and ok.json()["display_days"] == 30
    [event] = _events(client, world.url(), world.committee, "ledger.settings_changed")
    assert event["payload"]["after"]["display_days"] == 30


def test_parking_carries_area_when_the_committee_says_so(client: TestClient, db: Session) -> None:
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["甲"]),
                              UnitSpec("1栋", "102", 8000, ["乙"]),
                              UnitSpec("车库", "C1", 1250, ["甲"], usage="车位"),
                              UnitSpec("车库", "C2", 1300, ["丙"], usage="车库")])
    make_staff(db, username="wy1", roles={compound.id: [Role.COMMITTEE]})
    make_staff(db, username="gcy", roles={compound.id: [Role.OBSERVER]})
    db.commit()
    url = f"/api/v1/compounds/{compound.id}"
    committee, observer = bearer(client, "wy1"), bearer(client, "gcy")

    start = client.get(f"{url}/roster/settings", headers=committee).json()
    assert start == {"parking_counts_as_area": False, "subject_count": 2, "total_area_hundredths": 17000,
                     "total_area": "170.00", "parking_unit_count": 2}
    assert client.put(f"{url}/roster/settings", json={"parking_counts_as_area": True},
                      headers=observer).status_code == 403

    on = client.put(f"{url}/roster/settings", json={"parking_counts_as_area": True}, headers=committee)
    assert on.status_code == 200, on.text
    # 甲 owns 101 and C1: one subject (its owner set); 丙 owns only C2: a new subject.
    assert on.json() | {} == {"parking_counts_as_area": True, "subject_count": 3,
                              "total_area_hundredths": 19550, "total_area": "195.50",
                              "parking_unit_count": 2}
    summary = client.get(f"{url}/roster/summary", headers=committee).json()
    assert (summary["subject_count"], summary["total_area_hundredths"]) == (3, 19550)
    [event] = _events(client, url, committee, "roster.parking_setting_changed")
    assert event["payload"] == {"parking_counts_as_area": True,
                                "before": {"subject_count": 2, "total_area_hundredths": 17000},
                                "after": {"subject_count": 3, "total_area_hundredths": 19550}}
    assert "计入表决面积" in event["description"]

    # Saving the same value again changes nothing and is not audited twice.
    assert client.put(f"{url}/roster/settings", json={"parking_counts_as_area": True},
                      headers=committee).status_code == 200
    assert len(_events(client, url, committee, "roster.parking_setting_changed")) == 1
    off = client.put(f"{url}/roster/settings", json={"parking_counts_as_area": False}, headers=committee)
    assert off.json()["subject_count"] == 2 and off.json()["total_area_hundredths"] == 17000


def test_spending_the_owners_income_without_their_decision_is_refused(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    before = client.get(world.url("/ledger/settings"), headers=world.committee).json()
    assert before["always_decided"] == ["业委会工作经费", "其他"]
    for rules in ({"维修养护": 500000, "业委会工作经费": 0},  # 其他 dropped
                  {"维修养护": 500000, "业委会工作经费": 100000, "其他": 0}):  # an amount below which no decision
        r = client.put(world.url("/ledger/settings"), json={"decision_rules": rules}, headers=world.committee)
        assert r.status_code == 422 and r.json()["error"] == "ledger_decision_rule_below_law"
        assert "《中华人民共和国民法典》第二百七十八条第一款第（九）项" in r.json()["detail"]
    assert client.get(world.url("/ledger/settings"), headers=world.committee).json() == before
    assert _events(client, world.url(), world.committee, "ledger.settings_changed") == []
    # Delegating larger repairs to the committee is the compound's choice; an extra category too.
    ok = client.put(world.url("/ledger/settings"), headers=world.committee, json={"decision_rules": {
        "维修养护": 1_000_000, "业委会工作经费": 0, "其他": 0, "审计费": 0}})
    assert ok.status_code == 200 and ok.json()["decision_rules"]["维修养护"] == 1_000_000
