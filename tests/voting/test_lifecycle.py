"""Notice period, voting period, roster freeze, scope, settings and visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.roster import service as roster_service
from app.roster.models import Unit
from app.voting.service import earliest_start
from tests.voting.helpers import ballot_body, build_world, open_ballot, owner


def _start_after(clock: FrozenClock, days: int) -> datetime:
    """00:00 Shanghai of the day `days` after today in Shanghai."""
    return earliest_start(clock.current, days)


def test_earliest_start_does_not_count_the_publication_day() -> None:
    published = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)  # 23:59 on 1 March in Shanghai
    assert earliest_start(published, 15) == datetime(2026, 3, 15, 16, 0, tzinfo=UTC)  # 16 Mar 00:00
    late = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 00:00 on 2 March in Shanghai
    assert earliest_start(late, 15) == datetime(2026, 3, 16, 16, 0, tzinfo=UTC)


def test_notice_must_precede_start_by_the_notice_period(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    too_soon = _start_after(frozen_clock, 14)
    r = client.post(world.url("/ballots"), json=ballot_body(too_soon), headers=world.committee)
    bid = r.json()["id"]
    refused = client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee)
    assert refused.status_code == 422 and refused.json()["error"] == "notice_period_too_short"
    body = ballot_body(_start_after(frozen_clock, 15))
    assert client.put(world.url(f"/ballots/{bid}"), json=body, headers=world.committee).status_code == 200
    ok = client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee)
    assert ok.status_code == 200 and ok.json()["status"] == "noticed"
    # The notice lists every matter; matters can no longer change.
    notice = client.get(world.url(f"/notices/{ok.json()['notice_id']}"), headers=world.committee).json()
    assert all(m["title"] in notice["body"] for m in body["matters"])
    again = client.put(world.url(f"/ballots/{bid}"), json=body, headers=world.committee)
    assert again.status_code == 409 and again.json()["error"] == "ballot_already_noticed"


def test_stricter_notice_period_setting_applies(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    world = build_world(db, client)
    assert client.put(world.url("/voting/settings"), json={"notice_days": 20},
                      headers=world.committee).status_code == 200
    r = client.post(world.url("/ballots"), json=ballot_body(_start_after(frozen_clock, 15)), headers=world.committee)
    refused = client.post(world.url(f"/ballots/{r.json()['id']}/notice"), json={}, headers=world.committee)
    assert refused.status_code == 422


def test_laxer_settings_are_refused_citing_article_278(client: TestClient, db: Session) -> None:
    world = build_world(db, client)
    lax = client.put(world.url("/voting/settings"), json={"thresholds": {"simple_majority": ">=1/2"}},
                     headers=world.committee)
    assert lax.status_code == 422 and "第二百七十八条" in lax.json()["detail"]
    short = client.put(world.url("/voting/settings"), json={"notice_days": 10}, headers=world.committee)
    assert short.status_code == 422 and short.json()["error"] == "notice_period_below_statute"
    strict = client.put(world.url("/voting/settings"), json={"thresholds": {"quorum": ">=3/4"}},
                        headers=world.committee)
    assert strict.status_code == 200 and strict.json()["thresholds"]["quorum"] == ">=3/4"


def test_cannot_open_before_start_or_without_notice(client: TestClient, db: Session,
                                                    frozen_clock: FrozenClock) -> None:
    world = build_world(db, client)
    start = _start_after(frozen_clock, 15)
    bid = client.post(world.url("/ballots"), json=ballot_body(start), headers=world.committee).json()["id"]
    frozen_clock.current = start + timedelta(hours=1)
    world.refresh(client)
    r = client.post(world.url(f"/ballots/{bid}/open"), headers=world.committee)
    assert r.status_code == 409 and r.json()["error"] == "ballot_not_noticed"


def test_voting_period_bounds(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    world = build_world(db, client)
    r = client.post(world.url("/ballots"), json=ballot_body(_start_after(frozen_clock, 15), days=3),
                    headers=world.committee)
    assert r.status_code == 422 and r.json()["error"] == "voting_period_out_of_range"


def test_roster_is_frozen_when_the_ballot_opens(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    unit = db.execute(select(Unit).where(Unit.compound_id == world.cid, Unit.room == "101")).scalars().first()
    assert unit is not None
    unit.area_hundredths += 5000
    db.add(unit)
    roster_service.rebuild_subjects(db, compound_id=world.cid)
    db.commit()
    after = client.get(world.url(f"/ballots/{ballot['id']}"), headers=world.committee).json()
    assert (after["total_area_hundredths"], after["total_headcount"]) == (
        ballot["total_area_hundredths"], ballot["total_headcount"])


def test_scope_limits_totals_and_voters(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    buildings = client.get(world.url("/roster/summary"), headers=world.committee).json()["by_building"]
    assert [b["building"] for b in buildings] == ["1栋", "2栋"]
    from app.roster.models import Building

    b1 = db.execute(select(Building.id).where(Building.compound_id == world.cid, Building.name == "1栋")).scalar_one()
    start = _start_after(frozen_clock, 15)
    body = ballot_body(start, matters=[{"title": "1栋加装电梯", "category": "7"}])
    body["scope_building_ids"] = [b1]
    ballot = open_ballot(client, world, frozen_clock, body=body)
    assert (ballot["total_area_hundredths"], ballot["total_headcount"]) == (40000, 4)
    e = owner(client, outbox, world, "E")  # lives in 2栋
    assert client.get(world.url(f"/ballots/{ballot['id']}"), headers=e).status_code == 404
    assert client.get(world.url("/ballots"), headers=e).json() == []


def test_owner_cannot_see_drafts_and_observer_cannot_manage(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    bid = client.post(world.url("/ballots"), json=ballot_body(_start_after(frozen_clock, 15)),
                      headers=world.committee).json()["id"]
    a = owner(client, outbox, world, "A")
    assert client.get(world.url(f"/ballots/{bid}"), headers=a).status_code == 404
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.observer).status_code == 403
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=a).status_code == 403


def test_close_before_end_is_refused(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    r = client.post(world.url(f"/ballots/{ballot['id']}/close"), headers=world.committee)
    assert r.status_code == 409 and r.json()["error"] == "ballot_not_ended"


def test_quorum_failure_fails_every_matter(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock,
                         body=ballot_body(_start_after(frozen_clock, 15),
                                          matters=[{"title": "续聘物业", "category": "4"}]))
    mid = ballot["matters"][0]["id"]
    for name in "ABCDEF":  # 6 of 10 subjects: below two thirds by headcount
        h = owner(client, outbox, world, name)
        sid = client.get(world.url(f"/ballots/{ballot['id']}"), headers=h).json()["my_subjects"][0]["subject_id"]
        assert client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=h,
                           json={"subject_id": sid, "choices": {str(mid): "agree"}}).status_code == 201
    frozen_clock.current = datetime.fromisoformat(ballot["ends_at"]) + timedelta(minutes=1)
    world.refresh(client)
    client.post(world.url(f"/ballots/{ballot['id']}/close"), headers=world.committee)
    result = client.get(world.url(f"/ballots/{ballot['id']}/results"), headers=world.committee).json()
    m = result["matters"][0]
    # 600.00 of 1050.00 m² and 6 of 10 subjects: both below two thirds.
    assert m["passed"] is False and m["result"]["reasons"] == ["quorum_area", "quorum_headcount"]
    assert m["result"]["agree_headcount"] == 6  # everyone agreed, still failed
