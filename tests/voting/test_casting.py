"""Casting: one effective vote per subject under concurrency, proxies, paper ballots, conflicts."""

from __future__ import annotations

import io
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.auth.models import Role, UserAccount
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.config import get_settings
from app.db import transaction
from app.voting import casting
from app.voting.models import Ballot, BallotSubject, VoteCast
from tests.factories import make_staff
from tests.voting.helpers import build_world, open_ballot, owner

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def _subject(client: TestClient, world, headers, bid: int) -> int:  # type: ignore[no-untyped-def]
    return client.get(world.url(f"/ballots/{bid}"), headers=headers).json()["my_subjects"][0]["subject_id"]


def _upload(client: TestClient, world, headers, purpose: str, data: bytes = PNG) -> int:  # type: ignore[no-untyped-def]
    name, ctype = ("scan.pdf", "application/pdf") if data.startswith(b"%PDF") else ("scan.png", "image/png")
    r = client.post(world.url("/files"), headers=headers, data={"purpose": purpose},
                    files={"file": (name, io.BytesIO(data), ctype)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _choices(ballot: dict, value: str = "agree") -> dict:
    out = {}
    for m in ballot["matters"]:
        out[str(m["id"])] = {"approve": [m["candidates"][0]["id"]]} if m["seats"] else value
    return out


def test_fifty_simultaneous_submissions_leave_one_effective_vote(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The per-subject submission limit is off here (tests/security/test_rate_limits.py has it).
    monkeypatch.setattr(get_settings(), "votes_per_subject_per_minute", 0)
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    sid = _subject(client, world, a, ballot["id"])
    user_id = db.execute(select(UserAccount.id).where(UserAccount.phone == world.phones["A"])).scalar_one()
    db.rollback()  # end the read before the writers start
    barrier = threading.Barrier(50)
    errors: list[BaseException] = []

    def submit(i: int) -> None:
        try:
            barrier.wait()
            with transaction() as s:
                b = s.get(Ballot, ballot["id"])
                user = s.get(UserAccount, user_id)
                casting.cast_vote(s, ballot=b, subject_id=sid, user=user,
                                  raw_choices=_choices(ballot, "agree" if i % 2 else "oppose"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.expire_all()
    casts = db.execute(select(VoteCast).where(VoteCast.ballot_id == ballot["id"], VoteCast.subject_id == sid)).scalars().all()
    assert len(casts) == 50
    effective = [c for c in casts if c.superseded_at is None]
    assert len(effective) == 1
    subject = db.get(BallotSubject, (ballot["id"], sid))
    assert subject is not None and subject.effective_cast_id == effective[0].id
    # The supersession chain is linear: every other cast points to exactly one later cast.
    assert len({c.superseded_by_id for c in casts if c.superseded_by_id}) == 49
    progress = client.get(world.url(f"/ballots/{ballot['id']}/progress"), headers=world.committee).json()
    assert progress["voted_headcount"] == 1


def test_online_vote_requires_a_choice_for_every_matter(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    a = owner(client, outbox, world, "A")
    sid = _subject(client, world, a, ballot["id"])
    partial = {str(ballot["matters"][0]["id"]): "agree"}
    r = client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=a, json={"subject_id": sid, "choices": partial})
    assert r.status_code == 422 and r.json()["error"] == "vote_incomplete"
    too_many = _choices(ballot)
    m3 = ballot["matters"][2]
    too_many[str(m3["id"])] = {"approve": [c["id"] for c in m3["candidates"]]}
    r = client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=a, json={"subject_id": sid, "choices": too_many})
    assert r.status_code == 422 and r.json()["error"] == "vote_too_many_candidates"
    other = _subject(client, world, owner(client, outbox, world, "B"), ballot["id"])
    r = client.post(world.url(f"/ballots/{ballot['id']}/votes"), headers=a,
                    json={"subject_id": other, "choices": _choices(ballot)})
    assert r.status_code == 403


def test_proxy_flow_limit_staff_and_conflict(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    make_staff(db, username="wuye", phone="13700000001", roles={world.cid: [Role.CLERK]})
    db.commit()
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    heads = {n: owner(client, outbox, world, n) for n in "ABCDE"}
    subjects = {n: _subject(client, world, heads[n], bid) for n in "ABCDE"}
    doc = _upload(client, world, world.committee, "proxy_authorization", PDF)

    def submit(name: str, phone: str) -> int:
        r = client.post(world.url(f"/ballots/{bid}/proxies"), headers=world.committee,
                        json={"subject_id": subjects[name], "proxy_name": "钱七", "proxy_phone": phone,
                              "document_file_id": doc})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    # Property-company staff may not be proxies.
    staff_proxy = submit("A", "13700000001")
    r = client.post(world.url(f"/ballots/{bid}/proxies/{staff_proxy}/accept"), headers=world.committee)
    assert r.status_code == 422 and r.json()["error"] == "proxy_is_property_staff"
    # A proxy may hold at most 3 authorizations (default).
    accepted = [submit(n, "13600000001") for n in "BCD"]
    for pid in accepted:
        assert client.post(world.url(f"/ballots/{bid}/proxies/{pid}/accept"), headers=world.committee).status_code == 200
    fourth = submit("E", "13600000001")
    r = client.post(world.url(f"/ballots/{bid}/proxies/{fourth}/accept"), headers=world.committee)
    assert r.status_code == 422 and r.json()["error"] == "proxy_limit_reached"
    listing = client.get(world.url(f"/ballots/{bid}/proxies"), headers=world.observer).json()
    assert all("13600000001" not in str(p) for p in listing)

    # The proxy (not an owner) logs in with a code and votes for B.
    client.post("/api/v1/auth/otp/request", json={"phone": "13600000001"})
    token = client.post("/api/v1/auth/otp/verify", json={"phone": "13600000001", "mode": "bearer",
                                                         "code": outbox.last_code("13600000001")}).json()
    proxy = {"Authorization": f"Bearer {token['access_token']}"}
    detail = client.get(world.url(f"/ballots/{bid}"), headers=proxy).json()
    assert sorted(s["subject_id"] for s in detail["my_subjects"]) == sorted(subjects[n] for n in "BCD")
    r = client.post(world.url(f"/ballots/{bid}/votes"), headers=proxy,
                    json={"subject_id": subjects["B"], "choices": _choices(ballot)})
    assert r.status_code == 201 and r.json()["channel"] == "proxy"
    # B then votes online: refused, recorded as a conflict for the committee.
    b = heads["B"]
    r = client.post(world.url(f"/ballots/{bid}/votes"), headers=b,
                    json={"subject_id": subjects["B"], "choices": _choices(ballot, "oppose")})
    assert r.status_code == 409 and r.json()["error"] == "vote_conflict"
    conflicts = client.get(world.url(f"/ballots/{bid}/conflicts"), headers=world.committee).json()
    assert len(conflicts) == 1 and conflicts[0]["incoming_channel"] == "online"
    # The committee checks with the owner and lets the owner's own vote stand.
    r = client.post(world.url(f"/ballots/{bid}/conflicts/{conflicts[0]['id']}/resolve"),
                    headers=world.committee, json={"accept_incoming": True, "note": "已电话核实，以业主本人投票为准"})
    assert r.status_code == 200 and r.json()["resolution"] == "accept_incoming"
    mine = client.get(world.url(f"/ballots/{bid}/my-votes"), headers=b).json()[0]
    effective = [c for c in mine["casts"] if c["effective"]]
    assert effective[0]["channel"] == "online"


def test_paper_ballot_needs_a_second_member_and_conflicts_with_online(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    c_subject = _subject(client, world, owner(client, outbox, world, "C"), bid)
    a = owner(client, outbox, world, "A")
    a_subject = _subject(client, world, a, bid)
    scan = _upload(client, world, world.committee, "paper_ballot")
    choices = _choices(ballot)
    choices[str(ballot["matters"][1]["id"])] = "invalid"  # a spoiled answer on one matter
    del choices[str(ballot["matters"][0]["id"])]  # a blank answer: not taking part in it
    r = client.post(world.url(f"/ballots/{bid}/paper"), headers=world.committee,
                    json={"subject_id": c_subject, "choices": choices, "scan_file_id": scan})
    assert r.status_code == 201
    entry = r.json()["id"]
    same = client.post(world.url(f"/ballots/{bid}/paper/{entry}/confirm"), headers=world.committee)
    assert same.status_code == 403 and same.json()["error"] == "paper_same_person"
    ok = client.post(world.url(f"/ballots/{bid}/paper/{entry}/confirm"), headers=world.committee2)
    assert ok.status_code == 200 and ok.json()["counted"] is True
    # A already voted online; a paper ballot for A is refused and listed as a conflict.
    assert client.post(world.url(f"/ballots/{bid}/votes"), headers=a,
                       json={"subject_id": a_subject, "choices": _choices(ballot)}).status_code == 201
    r = client.post(world.url(f"/ballots/{bid}/paper"), headers=world.committee,
                    json={"subject_id": a_subject, "choices": _choices(ballot, "oppose"), "scan_file_id": scan})
    refused = client.post(world.url(f"/ballots/{bid}/paper/{r.json()['id']}/confirm"), headers=world.committee2)
    assert refused.status_code == 409 and refused.json()["error"] == "vote_conflict"
    conflicts = client.get(world.url(f"/ballots/{bid}/conflicts"), headers=world.committee).json()
    assert [c["incoming_channel"] for c in conflicts] == ["paper"]
    keep = client.post(world.url(f"/ballots/{bid}/conflicts/{conflicts[0]['id']}/resolve"),
                       headers=world.committee, json={"accept_incoming": False, "note": "业主确认以线上投票为准"})
    assert keep.status_code == 200
    # Owners cannot read the paper ballot scan (personal data); while the ballot is open
    # neither can observers (it shows the choices): only the committee (app/voting/policy.py).
    assert client.get(world.url(f"/files/{scan}"), headers=a).status_code == 404
    assert client.get(world.url(f"/files/{scan}"), headers=world.observer).status_code == 404
    assert client.get(world.url(f"/files/{scan}"), headers=world.committee2).status_code == 200
    # Every vote, paper entry and conflict is in the audit trail.
    actions = [e["action"] for e in client.get(world.url("/audit/events?limit=500"),
                                               headers=world.observer).json()["items"]]
    for action in ("paper.entered", "vote.cast", "vote.conflict_recorded", "vote.conflict_resolved"):
        assert action in actions
    total = db.execute(select(func.count()).select_from(VoteCast).where(VoteCast.ballot_id == bid)).scalar_one()
    assert total == 2


def test_rejections_need_a_reason_and_keep_the_record(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    sid = _subject(client, world, owner(client, outbox, world, "D"), bid)
    scan = _upload(client, world, world.committee, "paper_ballot")
    entry = client.post(world.url(f"/ballots/{bid}/paper"), headers=world.committee,
                        json={"subject_id": sid, "choices": _choices(ballot), "scan_file_id": scan}).json()
    blank = client.post(world.url(f"/ballots/{bid}/paper/{entry['id']}/reject"), headers=world.committee2,
                        json={"reason": " "})
    assert blank.status_code == 422
    r = client.post(world.url(f"/ballots/{bid}/paper/{entry['id']}/reject"), headers=world.committee2,
                    json={"reason": "签名与业主不符"})
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    again = client.post(world.url(f"/ballots/{bid}/paper/{entry['id']}/confirm"), headers=world.committee2)
    assert again.status_code == 409
    listing = client.get(world.url(f"/ballots/{bid}/paper"), headers=world.observer).json()
    assert [(p["state"], p["rejection_reason"]) for p in listing] == [("rejected", "签名与业主不符")]
    # Choices stay hidden from observers until the close (DOMAIN §3); the committee sees them.
    assert listing[0]["choices"] is None and listing[0]["choices_hidden"] is True
    mine = client.get(world.url(f"/ballots/{bid}/paper"), headers=world.committee).json()
    assert mine[0]["choices"] == _choices(ballot) and "choices_hidden" not in mine[0]
