"""The readable trail: sentences, named staff and masked owners, filters, pages, links."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.auth.models import UserAccount
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from tests.voting.helpers import build_world, open_ballot, owner

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def _paper_ballot(client: TestClient, outbox: MemorySender, db: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    world = build_world(db, client)
    ballot = open_ballot(client, world, clock)
    bid = ballot["id"]
    a = owner(client, outbox, world, "A")
    subject = client.get(world.url(f"/ballots/{bid}"), headers=a).json()["my_subjects"][0]["subject_id"]
    scan = client.post(world.url("/files"), headers=world.committee, data={"purpose": "paper_ballot"},
                       files={"file": ("scan.png", io.BytesIO(PNG), "image/png")}).json()["id"]
    choices = {str(m["id"]): ({"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree")
               for m in ballot["matters"]}
    entry = client.post(world.url(f"/ballots/{bid}/paper"), headers=world.committee,
                        json={"subject_id": subject, "choices": choices, "scan_file_id": scan}).json()["id"]
    assert client.post(world.url(f"/ballots/{bid}/paper/{entry}/confirm"),
                       headers=world.committee2).status_code == 200
    return world, bid, entry


def _events(client: TestClient, world, headers, **query):  # type: ignore[no-untyped-def]
    r = client.get(world.url("/audit/events"), headers=headers, params=query)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_paper_ballot_shows_its_two_committee_members_by_name(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    world, bid, entry = _paper_ballot(client, outbox, db, frozen_clock)
    for username, name in (("wy1", "王建国"), ("wy2", "李秀英")):
        db.execute(update(UserAccount).where(UserAccount.username == username).values(display_name=name))
    db.commit()
    page = _events(client, world, world.observer, object_type="paper_entry", object_id=entry)
    items = page["items"]
    assert [e["action"] for e in items] == ["paper.entered", "vote.cast"]
    entered, counted = items
    # Two different people, named with their role in the compound (staff are public).
    assert entered["actor"]["role_label"] == counted["actor"]["role_label"] == "业委会委员"
    assert (entered["actor"]["name"], counted["actor"]["name"]) == ("王建国", "李秀英")
    assert entered["actor"]["text"].startswith("王建国（业委会委员，账号 #")
    assert not entered["actor"]["masked"] and entered["actor"]["name"] not in ("", "系统")
    assert "待另一名委员复核" in entered["description"]
    assert counted["description"].startswith("复核确认") and f"书面表决票 #{entry}" in counted["description"]
    # Both link to the ballot; the payload reads as labelled lines, the hash fields stay.
    assert entered["object_link"] == counted["object_link"] == f"/c/{world.compound.id}/ballots/{bid}"
    labels = {d["label"]: d for d in counted["details"]}
    assert labels["投票方式"]["value"] == "书面表决票"
    assert labels["表决"] == {"label": "表决", "value": f"表决 #{bid}",
                             "link": f"/c/{world.compound.id}/ballots/{bid}",
                             "object_type": "ballot", "object_id": str(bid)}
    assert "栋" in labels["表决主体"]["value"]  # the unit, not a number, and no owner's name
    assert len(counted["hash"]) == 64 and counted["payload"]["paper_entry_id"] == entry
    # The chain still verifies; checkpoints say why they were signed.
    assert client.get(world.url("/audit/verify"), headers=world.observer).json()["ok"] is True
    signed = client.post(world.url("/audit/checkpoints"), headers=world.committee)
    assert signed.status_code == 201 and signed.json()["reason_label"] == "手动签署"
    listed = client.get(world.url("/audit/checkpoints"), headers=world.observer).json()
    assert [c["reason_label"] for c in listed] == ["手动签署"]


def test_owner_actors_are_masked_and_every_known_action_reads_as_a_sentence(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    subject = client.get(world.url(f"/ballots/{ballot['id']}"), headers=a).json()["my_subjects"][0]["subject_id"]
    choices = {str(m["id"]): ({"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree")
               for m in ballot["matters"]}
    assert client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=a,
                       json={"subject_id": subject, "choices": choices}).status_code == 201
    items = _events(client, world, world.observer, limit=500)["items"]
    vote = next(e for e in items if e["action"] == "vote.cast")
    assert vote["actor"]["masked"] is True and vote["actor"]["role_label"] == "业主"
    assert world.phones["A"] not in str(vote["actor"]) and "****" in vote["actor"]["name"]
    for e in items:
        assert e["group"] is not None and e["description"] and not e["description"].startswith("操作 ")
        assert all(d["label"] != key for d in e["details"] for key in e["payload"]), e["action"]


def test_filters_by_kind_date_and_object_and_pages_newest_first(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    world, bid, _entry = _paper_ballot(client, outbox, db, frozen_clock)
    everything = _events(client, world, world.observer, limit=500)
    head = everything["head_seq"]
    assert [e["seq"] for e in everything["items"]] == list(range(1, head + 1))
    votes = _events(client, world, world.observer, kind="vote")["items"]
    assert votes and {e["group"] for e in votes} == {"vote"}
    assert {e["action"] for e in votes} >= {"paper.entered", "vote.cast"}
    ballot_events = _events(client, world, world.observer, object_type="ballot", object_id=bid)["items"]
    actions = [e["action"] for e in ballot_events]
    # The ballot's own events and those naming it (the paper ballot, the vote it cast).
    assert actions[:3] == ["ballot.drafted", "ballot.noticed", "ballot.opened"]
    assert "paper.entered" in actions and "vote.cast" in actions
    # Days are Shanghai days, both included: the ballot opened 15 days after it was noticed.
    first_day = everything["items"][0]["occurred_at"][:10]
    early = _events(client, world, world.observer, until=first_day)["items"]
    assert early and all(e["action"] != "ballot.opened" for e in early)
    late = _events(client, world, world.observer, since="2026-03-17")["items"]
    assert late and all(e["occurred_at"] >= "2026-03-16T16:00" for e in late)
    assert "ballot.drafted" not in [e["action"] for e in late]
    # Pages, newest first below before_seq, with has_more.
    first = _events(client, world, world.observer, before_seq=head + 1, limit=3)
    assert [e["seq"] for e in first["items"]] == [head, head - 1, head - 2] and first["has_more"]
    rest = _events(client, world, world.observer, before_seq=head - 2, limit=500)
    assert [e["seq"] for e in rest["items"]] == list(range(head - 3, 0, -1)) and not rest["has_more"]


def test_query_parameters_are_strict_and_answered_in_chinese(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    url, h = world.url("/audit/events"), world.observer

    def refused(**query: object) -> dict:
        r = client.get(url, headers=h, params=query)
        assert r.status_code == 422, r.text
        return r.json()

    assert refused(colour="red")["error"] == "unknown_field"
    bad_kind = refused(kind="votes")
    assert bad_kind["error"] == "validation_error" and "操作类别" in bad_kind["detail"]
    assert "可选" in bad_kind["detail"]
    assert "对象类型" in refused(object_type="ballot_box", object_id=1)["detail"]
    assert "日期" in refused(since="yesterday")["detail"]
    assert refused(limit=0)["fields"][0]["field"] == "limit"
    assert refused(object_type="ballot")["error"] == "audit_filter_object_incomplete"
    assert refused(since="2026-03-02", until="2026-03-01")["error"] == "audit_filter_dates_reversed"
    assert refused(after_seq=3, before_seq=9)["error"] == "audit_filter_page_ambiguous"
    # The property company does not read the trail (DOMAIN §8): the policy is unchanged.
    vocab = client.get(world.url("/audit/vocabulary"), headers=h).json()
    assert {"key": "vote", "label": "投票与计票"} in vocab["groups"]
    assert {"key": "paper_entry", "label": "书面表决票"} in vocab["object_types"]
