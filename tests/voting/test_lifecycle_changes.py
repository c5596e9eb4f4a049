"""Withdrawing and moving ballots (delete a draft, cancel, postpone) and the scheduler that opens
and closes ballots by itself, once, even with several processes ticking at the same time."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.audit.vocabulary import describe
from app.clock import FrozenClock
from app.voting import schedule
from app.voting.models import Ballot, VoteCast
from tests.procedures import helpers as proc
from tests.voting.helpers import ballot_body, build_world, open_ballot, owner

START = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # 17 March 00:00 Shanghai, 15 days after "today"


def _events(db: Session, ballot_id: int, action: str) -> list[AuditEvent]:
    db.rollback()  # a fresh snapshot: the requests and ticks committed in between
    return list(db.execute(select(AuditEvent).where(
        AuditEvent.object_type == "ballot", AuditEvent.object_id == str(ballot_id),
        AuditEvent.action == action).order_by(AuditEvent.seq)).scalars())


def _said(event: AuditEvent) -> str:
    return describe(event.action, json.loads(event.payload), people={})


def _vote(client: TestClient, world, who: dict[str, str], bid: int, choice: str = "agree"):  # type: ignore[no-untyped-def]
    detail = client.get(world.url(f"/ballots/{bid}"), headers=who).json()
    subject = detail["my_subjects"][0]["subject_id"]
    choices = {str(m["id"]): choice for m in detail["matters"] if m["category"] != "3"}
    for m in detail["matters"]:
        if m["category"] == "3":
            choices[str(m["id"])] = {"approve": [m["candidates"][0]["id"]]}
    return client.post(world.url(f"/ballots/{bid}/votes"), json={"subject_id": subject, "choices": choices},
                       headers=who)


def test_a_draft_is_deleted_hidden_and_audited_but_a_noticed_ballot_is_not(
    client: TestClient, db: Session, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    bid = client.post(world.url("/ballots"), json=ballot_body(START), headers=world.committee).json()["id"]
    r = client.delete(world.url(f"/ballots/{bid}"), headers=world.committee)
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    assert client.get(world.url(f"/ballots/{bid}"), headers=world.committee).status_code == 404
    assert bid not in [b["id"] for b in client.get(world.url("/ballots"), headers=world.committee).json()]
    again = client.delete(world.url(f"/ballots/{bid}"), headers=world.committee)
    assert again.status_code == 404
    # The row stays (the audit trail that drafted it still names it); the deletion is on the record.
    db.rollback()
    assert db.get(Ballot, bid) is not None and db.get(Ballot, bid).deleted_at is not None  # type: ignore[union-attr]
    [event] = _events(db, bid, "ballot.draft_deleted")
    assert _said(event) == "删除未公告的表决草稿“2026年第一次业主大会”"

    noticed = client.post(world.url("/ballots"), json=ballot_body(START), headers=world.committee).json()["id"]
    assert client.post(world.url(f"/ballots/{noticed}/notice"), json={}, headers=world.committee).status_code == 200
    refused = client.delete(world.url(f"/ballots/{noticed}"), headers=world.committee)
    assert refused.status_code == 409 and refused.json()["error"] == "ballot_already_noticed"
    assert "请取消表决并说明理由" in refused.json()["detail"]


def test_cancel_keeps_the_votes_in_the_record_and_never_counts_them(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox,  # type: ignore[no-untyped-def]
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    a = owner(client, outbox, world, "A")
    assert _vote(client, world, a, bid).status_code == 201

    blank = client.post(world.url(f"/ballots/{bid}/cancel"), json={"reason": "   "}, headers=world.committee)
    assert blank.status_code == 422 and blank.json()["detail"] == "请填写理由"
    missing = client.post(world.url(f"/ballots/{bid}/cancel"), json={}, headers=world.committee)
    assert missing.status_code == 422
    owner_try = client.post(world.url(f"/ballots/{bid}/cancel"), json={"reason": "x"}, headers=a)
    assert owner_try.status_code == 403

    r = client.post(world.url(f"/ballots/{bid}/cancel"), json={"reason": "广告位方案须重新测算收益"},
                    headers=world.committee)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "cancelled" and out["status_label"] == "已取消"
    assert out["cancel_reason"] == "广告位方案须重新测算收益"
    notice = client.get(world.url(f"/notices/{out['cancel_notice_id']}"), headers=a).json()
    assert "取消理由：广告位方案须重新测算收益" in notice["body"] and notice["published_at"]
    assert "已投的票保留在表决记录中，不计票" in notice["body"]

    # The owner sees it cancelled with the reason; voting and closing are refused in Chinese.
    mine = [b for b in client.get(world.url("/ballots"), headers=a).json() if b["id"] == bid]
    assert mine[0]["status"] == "cancelled" and mine[0]["cancel_reason"] == "广告位方案须重新测算收益"
    again = _vote(client, world, a, bid, "oppose")
    assert again.status_code == 409 and again.json()["detail"] == "该表决已取消，不能投票"
    world.travel(client, frozen_clock, days=8)
    close = client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee)
    assert close.status_code == 409 and close.json()["error"] == "ballot_cancelled"
    assert schedule.tick().closed == []
    results = client.get(world.url(f"/ballots/{bid}/results"), headers=world.committee)
    assert results.status_code == 403 and results.json()["error"] == "results_not_ready"
    # Kept in the record: the cast, the owner's own view of it, the audit sentence.
    db.rollback()
    assert len(db.execute(select(VoteCast).where(VoteCast.ballot_id == bid)).scalars().all()) == 1
    a = owner(client, outbox, world, "A")
    assert len(client.get(world.url(f"/ballots/{bid}/my-votes"), headers=a).json()[0]["casts"]) == 1
    [event] = _events(db, bid, "ballot.cancelled")
    assert _said(event) == (
        "取消表决并发布取消公告，理由：广告位方案须重新测算收益；已投的票保留，不计票（1户）")
    assert _events(db, bid, "ballot.closed") == []
    r = client.post(world.url(f"/ballots/{bid}/cancel"), json={"reason": "再次"}, headers=world.committee)
    assert r.status_code == 409 and r.json()["error"] == "ballot_cancelled"


def test_postponing_a_noticed_ballot_runs_the_notice_period_again(
    client: TestClient, db: Session, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    bid = client.post(world.url("/ballots"), json=ballot_body(START), headers=world.committee).json()["id"]
    draft_try = client.post(world.url(f"/ballots/{bid}/postpone"), headers=world.committee,
                            json={"reason": "x", "starts_at": (START + timedelta(days=20)).isoformat(),
                                  "ends_at": (START + timedelta(days=27)).isoformat()})
    assert draft_try.status_code == 409 and draft_try.json()["error"] == "ballot_not_noticed"
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee).status_code == 200
    world.travel(client, frozen_clock, days=5)  # 7 March: a new start needs 15 days from today

    def postpone(start: datetime, days: int = 7):  # type: ignore[no-untyped-def]
        return client.post(world.url(f"/ballots/{bid}/postpone"), headers=world.committee, json={
            "reason": "春节期间业主多不在小区", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=days)).isoformat()})

    too_soon = postpone(START + timedelta(days=2))  # 19 March: only 12 days after 7 March
    assert too_soon.status_code == 422 and too_soon.json()["error"] == "notice_period_too_short"
    assert too_soon.json()["detail"].startswith("推迟公告须在新的投票开始15日前发布")
    earlier = postpone(START - timedelta(days=1), days=10)
    assert earlier.status_code == 422 and earlier.json()["error"] == "postpone_not_later"
    new_start = START + timedelta(days=5)  # 22 March: 15 days after 7 March
    r = postpone(new_start)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "postponed" and r.json()["status_label"] == "已推迟"
    assert r.json()["starts_at"] == new_start.isoformat()
    notice = client.get(world.url(f"/notices/{r.json()['postpone_notice_id']}"), headers=world.committee).json()
    assert "推迟理由：春节期间业主多不在小区" in notice["body"]
    [event] = _events(db, bid, "ballot.postponed")
    assert "理由：春节期间业主多不在小区" in _said(event)

    frozen_clock.current = START + timedelta(hours=1)  # the old start: not yet
    world.refresh(client)
    early = client.post(world.url(f"/ballots/{bid}/open"), headers=world.committee)
    assert early.status_code == 409 and early.json()["error"] == "ballot_not_started"
    assert schedule.tick().opened == []
    frozen_clock.current = new_start + timedelta(minutes=1)
    assert schedule.tick().opened == [bid]


def test_postponing_an_open_ballot_pauses_voting_and_keeps_the_votes(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox,  # type: ignore[no-untyped-def]
) -> None:
    world = build_world(db, client)
    bid = open_ballot(client, world, frozen_clock)["id"]
    a = owner(client, outbox, world, "A")
    assert _vote(client, world, a, bid).status_code == 201
    new_start = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)  # 2 April 00:00: 16 days after 17 March
    r = client.post(world.url(f"/ballots/{bid}/postpone"), headers=world.committee, json={
        "reason": "小区停电检修", "starts_at": new_start.isoformat(),
        "ends_at": (new_start + timedelta(days=7)).isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "postponed"
    notice = client.get(world.url(f"/notices/{r.json()['postpone_notice_id']}"), headers=a).json()
    assert "已投票的1户，所投的票继续有效" in notice["body"]
    paused = _vote(client, world, a, bid, "oppose")
    assert paused.status_code == 409 and paused.json()["error"] == "vote_outside_period"

    frozen_clock.current = new_start + timedelta(hours=1)  # voting resumes by itself
    a = owner(client, outbox, world, "A")
    b = owner(client, outbox, world, "B")
    detail = client.get(world.url(f"/ballots/{bid}"), headers=a).json()
    assert detail["status"] == "open" and detail["my_subjects"][0]["voted"] is True
    assert _vote(client, world, b, bid).status_code == 201
    frozen_clock.current = new_start + timedelta(days=7, minutes=1)
    assert schedule.tick().closed == [bid]
    world.refresh(client)
    turnout = client.get(world.url(f"/ballots/{bid}/turnout"), headers=world.committee).json()
    assert turnout["voted_headcount"] == 2  # A's vote from before the postponement counts


def _concurrent_ticks() -> list[schedule.TickReport]:
    reports: list[schedule.TickReport] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        reports.append(schedule.tick())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(reports) == 2
    return reports


def test_the_scheduler_opens_and_closes_once_with_two_concurrent_ticks(
    client: TestClient, db: Session, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    bid = client.post(world.url("/ballots"), json=ballot_body(START), headers=world.committee).json()["id"]
    assert schedule.tick().opened == []  # a draft never opens
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee).status_code == 200
    frozen_clock.current = START - timedelta(minutes=1)
    assert schedule.tick().opened == []
    frozen_clock.current = START + timedelta(seconds=30)
    reports = _concurrent_ticks()
    assert sorted(bid for r in reports for bid in r.opened) == [bid]
    assert all(r.refused == {} for r in reports)
    [opened] = _events(db, bid, "ballot.opened")
    assert opened.actor_role == "system" and opened.actor_user_id is None
    assert _said(opened) == (
        "到达投票开始时间，由系统定时任务自动开始表决，冻结表决名册（10个表决主体）")
    # The button finds it open, as after a second click.
    world.refresh(client)
    r = client.post(world.url(f"/ballots/{bid}/open"), headers=world.committee)
    assert r.status_code == 409 and r.json()["error"] == "ballot_already_open"

    frozen_clock.current = START + timedelta(days=7, seconds=1)
    reports = _concurrent_ticks()
    assert sorted(bid for r in reports for bid in r.closed) == [bid]
    [closed] = _events(db, bid, "ballot.closed")
    assert _said(closed) == "到达投票结束时间，由系统定时任务自动结束表决"
    assert len(_events(db, bid, "ballot.tallied")) == 1
    world.refresh(client)
    assert client.get(world.url(f"/ballots/{bid}"), headers=world.committee).json()["status"] == "tallied"
    assert schedule.tick().closed == []


@pytest.fixture
def pworld(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    return proc.build_world(db, client, frozen_clock, outbox)


def test_a_refused_opening_is_recorded_once_and_shown_with_the_review_status(pworld, db: Session) -> None:  # type: ignore[no-untyped-def]
    world = pworld
    ballot = world.ballot()
    bid = ballot["id"]
    # Before any procedure is adopted nothing needs review.
    assert world.ok("GET", world.url(f"/ballots/{bid}"), "wy")["review"] == []
    world.ok("POST", world.url(f"/ballots/{bid}/notice"), "wy", {})
    world.clock.advance(hours=2)
    world.adopt()  # the compound adopts its procedure after the notice: the matter now needs review
    detail = world.ok("GET", world.url(f"/ballots/{bid}"), "wy")
    [row] = detail["review"]
    assert row["state"] == "unlinked" and row["state_label"] == "尚未关联议题" and not row["ready"]
    assert row["major_label"] and row["matter_title"] == "利用小区东门空地设置快递柜并收取场地费"
    # Owners are not shown the committee's review report.
    assert world.ok("GET", world.url(f"/ballots/{bid}"), "A")["review"] == []

    world.clock.current = proc.BALLOT_START + timedelta(minutes=1)
    first = schedule.tick()
    assert first.opened == [] and "未经审核同意的重大事项不得提交业主" in first.refused[bid]
    second = schedule.tick()
    assert second.refused == first.refused
    [refused] = _events(db, bid, "ballot.schedule_refused")  # recorded once, not at every pass
    assert _said(refused).startswith("系统定时任务未能按时开始表决：未经审核同意")
    detail = world.ok("GET", world.url(f"/ballots/{bid}"), "wy")
    assert detail["status"] == "noticed" and detail["schedule_problem"].startswith("未经审核同意的重大事项")

    # The item is walked through its review and linked: the next pass opens the ballot.
    item = proc.walk_to_ballot(world, world.propose())
    rows = world.ok("GET", world.url(f"/ballots/{bid}"), "wy")["review"]
    assert rows[0]["state"] == "unlinked"
    world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
             {"ballot_id": bid, "matter_id": ballot["matters"][0]["id"]})
    [row] = world.ok("GET", world.url(f"/ballots/{bid}"), "wy")["review"]
    assert row["state"] == "approved" and row["item_id"] == item["id"] and row["step_name"]
    assert schedule.tick().opened == [bid]
    detail = world.ok("GET", world.url(f"/ballots/{bid}"), "wy")
    assert detail["status"] == "open" and detail["schedule_problem"] is None


def test_a_lapsed_ballot_leaves_the_upcoming_list_and_can_still_be_cancelled(pworld) -> None:  # type: ignore[no-untyped-def]
    world = pworld
    ballot = world.ballot()
    bid = ballot["id"]
    world.ok("POST", world.url(f"/ballots/{bid}/notice"), "wy", {})
    world.clock.advance(hours=2)
    world.adopt()
    world.clock.current = proc.BALLOT_START + timedelta(days=8)
    assert schedule.tick().opened == []
    summary = next(b for b in world.ok("GET", world.url("/ballots"), "A") if b["id"] == bid)
    assert summary["status"] == "lapsed"
    out = world.ok("POST", world.url(f"/ballots/{bid}/cancel"), "wy", {"reason": "议题未经审核同意"})
    assert out["status"] == "cancelled" and out["schedule_problem"] is None


def test_an_item_linked_to_a_deleted_or_cancelled_ballot_moves_on(pworld) -> None:  # type: ignore[no-untyped-def]
    world = pworld
    world.adopt()
    item = proc.walk_to_ballot(world, world.propose())
    link = world.p(f"/items/{item['id']}/ballot-link")
    first = world.ballot()
    world.ok("POST", link, "wy", {"ballot_id": first["id"], "matter_id": first["matters"][0]["id"]})
    world.ok("DELETE", world.url(f"/ballots/{first['id']}"), "wy")
    shown = world.ok("GET", world.p(f"/items/{item['id']}"), "wy")
    assert shown["ballot"]["status"] == "deleted" and shown["ballot"]["status_label"] == "已删除"
    r = world.client.post(link, headers=world.h("wy"),
                          json={"ballot_id": first["id"], "matter_id": first["matters"][0]["id"]})
    assert r.status_code == 404

    second = world.ballot()
    world.ok("POST", link, "wy", {"ballot_id": second["id"], "matter_id": second["matters"][0]["id"]})
    world.ok("POST", world.url(f"/ballots/{second['id']}/notice"), "wy", {})
    world.ok("POST", world.url(f"/ballots/{second['id']}/cancel"), "wy", {"reason": "方案调整"})
    third = world.ballot()
    moved = world.ok("POST", link, "wy", {"ballot_id": third["id"], "matter_id": third["matters"][0]["id"]})
    assert moved["ballot"]["ballot_id"] == third["id"]
    r = world.client.post(link, headers=world.h("wy"),
                          json={"ballot_id": second["id"], "matter_id": second["matters"][0]["id"]})
    assert r.status_code == 409 and "该表决已取消" in r.json()["detail"]
