"""A ballot is decided by the rules its meeting notice published; the settings body is exact."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.voting import rules
from app.voting.models import Ballot
from app.voting.results import matter_headline
from tests.voting.helpers import World, ballot_body, build_world, owner

PDF = b"%PDF-1.4\n" + b"0" * 64
START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai


def _draft(client: TestClient, world: World, body: dict | None = None) -> int:
    r = client.post(world.url("/ballots"), json=body or ballot_body(START), headers=world.committee)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _notice(client: TestClient, world: World, bid: int) -> dict:
    r = client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee)
    assert r.status_code == 200, r.text
    return r.json()


def _open(client: TestClient, world: World, clock: FrozenClock, bid: int) -> dict:
    clock.current = START + timedelta(hours=1)
    world.refresh(client)
    r = client.post(world.url(f"/ballots/{bid}/open"), headers=world.committee)
    assert r.status_code == 200, r.text
    return r.json()


def _put(client: TestClient, world: World, body: dict):  # type: ignore[no-untyped-def]
    return client.put(world.url("/voting/settings"), json=body, headers=world.committee)


def test_a_settings_change_after_the_notice_does_not_decide_the_ballot(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    bid = _draft(client, world)
    _notice(client, world, bid)
    # Between notice and opening the committee raises the quorum to three quarters.
    assert _put(client, world, {"thresholds": {"quorum": ">=3/4"}}).status_code == 200
    _open(client, world, frozen_clock, bid)
    progress = client.get(world.url(f"/ballots/{bid}/progress"), headers=world.observer).json()
    assert progress["quorum"] == ">=2/3"  # the rule the owners were notified of
    db.rollback()
    frozen = json.loads(db.get(Ballot, bid).settings_json)  # type: ignore[union-attr]
    assert frozen["thresholds"]["quorum"] == ">=2/3"


def test_a_draft_takes_the_rules_in_force_at_its_notice(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    bid = _draft(client, world)
    assert _put(client, world, {"thresholds": {"quorum": ">=3/4"}}).status_code == 200
    _notice(client, world, bid)
    _open(client, world, frozen_clock, bid)
    progress = client.get(world.url(f"/ballots/{bid}/progress"), headers=world.observer).json()
    assert progress["quorum"] == ">=3/4"


def test_a_ballot_noticed_before_the_change_was_deployed_freezes_at_opening(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    """Ballots noticed by the old code carry no frozen rules: they get them at opening, as before;
    and a ballot already opened by the old code keeps the rules it froze."""
    world = build_world(db, client)
    bid = _draft(client, world)
    _notice(client, world, bid)
    db.rollback()
    ballot = db.get(Ballot, bid)
    assert ballot is not None
    ballot.settings_json = None  # as the old code left a noticed ballot
    db.add(ballot)
    db.commit()
    assert _put(client, world, {"thresholds": {"quorum": ">=3/4"}, "proxy_limit": 2}).status_code == 200
    _open(client, world, frozen_clock, bid)
    assert _put(client, world, {"thresholds": {"quorum": ">=4/5"}}).status_code == 200
    progress = client.get(world.url(f"/ballots/{bid}/progress"), headers=world.observer).json()
    assert progress["quorum"] == ">=3/4"
    settings = client.get(world.url("/voting/settings"), headers=world.committee).json()
    running = {b["id"]: b for b in settings["running_ballots"]}
    assert running[bid]["rules"]["proxy_limit"] == 2 and running[bid]["rules_differ"] is True


def test_the_proxy_limit_is_the_ballots_not_the_compounds_live_one(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    assert _put(client, world, {"proxy_limit": 1}).status_code == 200
    bid = _draft(client, world)
    _notice(client, world, bid)
    ballot = _open(client, world, frozen_clock, bid)
    # Raised mid-ballot: must not let a second authorization in for the same proxy.
    assert _put(client, world, {"proxy_limit": 5}).status_code == 200
    r = client.post(world.url("/files"), headers=world.committee, data={"purpose": "proxy_authorization"},
                    files={"file": ("weituo.pdf", io.BytesIO(PDF), "application/pdf")})
    doc = r.json()["id"]
    subjects = []
    for name in "AB":
        detail = client.get(world.url(f"/ballots/{ballot['id']}"), headers=owner(client, outbox, world, name))
        subjects.append(detail.json()["my_subjects"][0]["subject_id"])
    ids = [client.post(world.url(f"/ballots/{bid}/proxies"), headers=world.committee,
                       json={"subject_id": s, "proxy_name": "钱七", "proxy_phone": "13600000001",
                             "document_file_id": doc}).json()["id"] for s in subjects]
    first = client.post(world.url(f"/ballots/{bid}/proxies/{ids[0]}/accept"), headers=world.committee)
    assert first.status_code == 200, first.text
    second = client.post(world.url(f"/ballots/{bid}/proxies/{ids[1]}/accept"), headers=world.committee)
    assert second.status_code == 422 and second.json()["error"] == "proxy_limit_reached"
    assert "最多接受1户" in second.json()["detail"]


def test_the_meeting_notice_prints_the_compounds_stricter_rules(
    client: TestClient, db: Session, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    world = build_world(db, client)
    r = _put(client, world, {"thresholds": {"quorum": ">=3/4", "special_majority": ">=4/5"},
                             "proxy_limit": 2, "objection_days": 5, "publish_unit_record": True})
    assert r.status_code == 200, r.text
    bid = _draft(client, world)
    noticed = _notice(client, world, bid)
    notice = client.get(world.url(f"/notices/{noticed['notice_id']}"), headers=world.committee).json()
    body = notice["body"]
    assert "表决规则" in body
    assert "四分之三以上（≥ 3/4），本小区议事规则严于法定比例" in body  # the quorum
    assert "五分之四以上（≥ 4/5）" in body  # category (八) in the default matters
    assert "过半数（> 1/2），法定比例" in body
    assert "每位受托人最多2户" in body and "计票后5日" in body and "决议公告后向本小区业主公开" in body
    tables = {s["heading"]: s for s in notice["structured"]["sections"]}
    assert any("四分之三以上" in row[1] for row in tables["表决规则"]["rows"])
    # The PDF prints the notice's body and sections.
    pdf = client.get(world.url(f"/notices/{noticed['notice_id']}/pdf"), headers=world.committee)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf.content)
    printed = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                             text=True).stdout.replace(" ", "").replace("\n", "")
    assert "表决规则" in printed and "四分之三以上" in printed and "五分之四以上" in printed
    assert "每位受托人最多2户" in printed


def test_the_settings_answer_names_the_running_ballots_that_keep_their_rules(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    noticed = _draft(client, world)
    _notice(client, world, noticed)
    draft = _draft(client, world)
    r = _put(client, world, {"thresholds": {"quorum": ">=3/4"}})
    assert r.status_code == 200
    running = {b["id"]: b for b in r.json()["running_ballots"]}
    assert set(running) == {noticed}  # a draft will take the new rules at its notice
    assert running[noticed]["rules_differ"] is True
    assert running[noticed]["rules"]["thresholds"]["quorum"] == ">=2/3"
    assert "2026年第一次业主大会" in r.json()["applies_to_note"]
    assert draft not in running
    observed = client.get(world.url("/voting/settings"), headers=world.observer).json()
    assert [b["id"] for b in observed["running_ballots"]] == [noticed]
    # Owners read the rules, not a list that would name ballots of other buildings.
    as_owner = client.get(world.url("/voting/settings"), headers=owner(client, outbox, world, "A")).json()
    assert as_owner["thresholds"]["quorum"] == ">=3/4" and as_owner["running_ballots"] == []


def test_the_settings_body_is_the_documented_one(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    # The shape an old README showed: refused, not silently ignored.
    flat = _put(client, world, {"quorum": ">=3/4"})
    assert flat.status_code == 422
    unknown = _put(client, world, {"thresholds": {"quorum_area": ">=3/4"}})
    assert unknown.status_code == 422
    # The documented body (NOTES_voting.md), exactly.
    ok = _put(client, world, {"thresholds": {"quorum": ">=3/4"}})
    assert ok.status_code == 200 and ok.json()["thresholds"]["quorum"] == ">=3/4"
    # A level left out keeps its value; null returns a level to the statute.
    ok = _put(client, world, {"thresholds": {"special_majority": ">=4/5"}})
    assert ok.json()["thresholds"] == {"quorum": ">=3/4", "simple_majority": ">1/2",
                                       "special_majority": ">=4/5"}
    ok = _put(client, world, {"thresholds": {"quorum": None}})
    assert ok.json()["thresholds"]["quorum"] == ">=2/3"
    assert ok.json()["thresholds"]["special_majority"] == ">=4/5"
    got = client.get(world.url("/voting/settings"), headers=world.committee).json()
    assert got["thresholds"] == ok.json()["thresholds"]


def test_a_low_quorum_is_refused_naming_the_quorum_not_category_one(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    r = _put(client, world, {"thresholds": {"quorum": ">=1/2"}})
    assert r.status_code == 422 and r.json()["error"] == "threshold_below_statute"
    detail = r.json()["detail"]
    assert detail.startswith("参与表决比例") and "适用于全部表决事项" in detail
    assert "第二百七十八条" in detail and "（一）" not in detail and "议事规则" not in detail
    special = _put(client, world, {"thresholds": {"special_majority": ">=2/3"}}).json()["detail"]
    assert special.startswith("特别事项的同意比例") and "（六）" in special


def test_rule_settings_refusal_names_the_level() -> None:
    with pytest.raises(rules.LaxerThanLawError) as caught:
        rules.RuleSettings.from_levels(quorum=rules.Threshold.from_text(">=1/2"))
    assert str(caught.value).startswith("参与表决比例")
    assert rules.Category.RULES_OF_PROCEDURE.label not in str(caught.value)


@pytest.mark.parametrize(("result", "headline"), [
    ({"elected": [1, 2], "seats": 3, "unfilled_seats": 1, "runoff_seats": 0, "quorum_met": True},
     "选出2名，1席空缺"),
    ({"elected": [1, 2, 3], "seats": 3, "unfilled_seats": 0, "runoff_seats": 0, "quorum_met": True},
     "选出3名，应选3名已全部选出"),
    ({"elected": [1], "seats": 3, "unfilled_seats": 2, "runoff_seats": 2, "quorum_met": True},
     "选出1名，2席须另行选举（得票相同）"),
    ({"elected": [], "seats": 3, "unfilled_seats": 3, "runoff_seats": 0, "quorum_met": False},
     "未达到参与表决比例，无人当选"),
])
def test_election_headline_says_what_was_decided(result: dict, headline: str) -> None:
    assert matter_headline("3", False, result) == headline
