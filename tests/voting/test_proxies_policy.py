"""Proxies (委托): who may file one, what acceptance re-checks, who may hold one, and how long."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.auth.models import Role, RoleGrant, UserAccount
from app.auth.sender import MemorySender
from app.clock import FrozenClock, now
from app.roster.models import Building, Owner, UnitOwner, UnitSubject
from app.voting.models import ProxyAuthorization
from tests.factories import UnitSpec, add_roster, make_compound, make_staff, owner_bearer
from tests.voting.helpers import World, ballot_body, build_world, open_ballot, owner

PDF = b"%PDF-1.4\n" + b"0" * 64
PROXY_PHONE = "13600000001"
START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai


def _subject_of(db: Session, world: World, name: str) -> int:
    """The live roster subject of an owner of the test world (before any ballot freezes it)."""
    return db.execute(
        select(UnitSubject.subject_id)
        .join(UnitOwner, UnitOwner.unit_id == UnitSubject.unit_id)
        .join(Owner, Owner.id == UnitOwner.owner_id)
        .where(Owner.compound_id == world.cid, Owner.phone == world.phones[name])
    ).scalars().first()


def _upload(client: TestClient, world: World, headers: dict[str, str]) -> int:
    r = client.post(world.url("/files"), headers=headers, data={"purpose": "proxy_authorization"},
                    files={"file": ("weituo.pdf", io.BytesIO(PDF), "application/pdf")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _noticed(client: TestClient, world: World, body: dict | None = None) -> int:
    r = client.post(world.url("/ballots"), json=body or ballot_body(START), headers=world.committee)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={},
                       headers=world.committee).status_code == 200
    return bid


def _file(client: TestClient, world: World, headers: dict[str, str], bid: int, subject_id: int,
          doc: int, phone: str = PROXY_PHONE):  # type: ignore[no-untyped-def]
    return client.post(world.url(f"/ballots/{bid}/proxies"), headers=headers,
                       json={"subject_id": subject_id, "proxy_name": "钱七", "proxy_phone": phone,
                             "document_file_id": doc})


def test_owner_cannot_file_a_proxy_for_someone_elses_flat_before_opening(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    bid = _noticed(client, world)
    a = owner(client, outbox, world, "A")
    doc = _upload(client, world, a)
    # B's flat: refused at filing, although the ballot is not open yet.
    r = _file(client, world, a, bid, _subject_of(db, world, "B"), doc)
    assert r.status_code == 403 and r.json()["error"] == "not_a_voter_for_subject", r.text
    # A subject that does not exist, or belongs to another compound: not found.
    assert _file(client, world, a, bid, 999999, doc).json()["error"] == "subject_not_found"
    other = make_compound(db)
    add_roster(db, other, [UnitSpec("9栋", "901", 9000, ["Z"])], phones={"Z": "13900009999"})
    db.commit()
    foreign = db.execute(select(UnitSubject.subject_id).where(UnitSubject.compound_id == other.id)).scalar_one()
    r = _file(client, world, a, bid, foreign, doc)
    assert r.status_code == 404 and r.json()["error"] == "subject_not_found"
    # The co-owner who is not the representative does not file for the flat either.
    j = owner(client, outbox, world, "J")
    r = _file(client, world, j, bid, _subject_of(db, world, "J"), _upload(client, world, j))
    assert r.status_code == 403 and r.json()["error"] == "not_a_voter_for_subject"
    # Their own flat is fine, and the committee sees who filed it, masked.
    mine = _file(client, world, a, bid, _subject_of(db, world, "A"), doc)
    assert mine.status_code == 201, mine.text
    listing = client.get(world.url(f"/ballots/{bid}/proxies"), headers=world.committee).json()
    filer = listing[0]["submitted_by"]
    assert filer["role"] == "owner" and "1栋101" in filer["label"]
    assert filer["phone_masked"] == "139****0001"
    assert world.phones["A"] not in str(listing) and PROXY_PHONE not in str(listing)
    assert listing[0]["subject_label"] == "1栋101"


def test_subject_outside_the_ballot_scope_is_refused_at_filing(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    building1 = db.execute(select(Building.id).where(Building.compound_id == world.cid,
                                                     Building.name == "1栋")).scalar_one()
    body = ballot_body(START, matters=[{"title": "1栋加装电梯", "category": "7"}])
    body["scope_building_ids"] = [building1]
    bid = _noticed(client, world, body)
    doc = _upload(client, world, world.committee)
    # The committee files on behalf of owners, but only for flats in the ballot's scope.
    r = _file(client, world, world.committee, bid, _subject_of(db, world, "E"), doc)  # 2栋
    assert r.status_code == 422 and r.json()["error"] == "subject_not_in_scope", r.text
    ok = _file(client, world, world.committee, bid, _subject_of(db, world, "A"), doc)
    assert ok.status_code == 201
    filer = ok.json()["submitted_by"]
    assert filer["role"] == "committee" and "代为登记" in filer["label"]


def test_acceptance_rechecks_who_filed_it(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    """An authorization an owner filed for another owner's flat (as the old code let through)
    is refused by the committee's acceptance, before and after the ballot opens."""
    world = build_world(db, client)
    a = owner(client, outbox, world, "A")
    doc = _upload(client, world, a)
    a_account = db.execute(select(UserAccount).where(UserAccount.phone == world.phones["A"])).scalar_one()
    ballot = open_ballot(client, world, frozen_clock)
    db.rollback()  # a fresh snapshot after the requests' writes
    forged = ProxyAuthorization(
        compound_id=world.cid, ballot_id=ballot["id"], subject_id=_subject_of(db, world, "B"),
        proxy_name="钱七", proxy_phone=PROXY_PHONE, document_file_id=doc,
        submitted_by=a_account.id, submitted_role="owner", submitted_at=now())
    legacy = ProxyAuthorization(  # filed before the filer's role was recorded
        compound_id=world.cid, ballot_id=ballot["id"], subject_id=_subject_of(db, world, "C"),
        proxy_name="钱七", proxy_phone=PROXY_PHONE, document_file_id=doc,
        submitted_by=a_account.id, submitted_at=now())
    db.add_all([forged, legacy])
    db.commit()
    for proxy in (forged, legacy):
        r = client.post(world.url(f"/ballots/{ballot['id']}/proxies/{proxy.id}/accept"),
                        headers=world.committee)
        assert r.status_code == 403 and r.json()["error"] == "not_a_voter_for_subject", r.text
    listing = client.get(world.url(f"/ballots/{ballot['id']}/proxies"), headers=world.committee).json()
    assert all("1栋101" in p["submitted_by"]["label"] for p in listing)  # A's flat, not B's or C's


def test_staff_may_not_be_proxies_and_a_proxy_made_staff_no_longer_votes(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    make_staff(db, username="wy3", phone="13700000003", roles={world.cid: [Role.COMMITTEE]})
    db.commit()
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    doc = _upload(client, world, world.committee)
    staff_proxy = _file(client, world, world.committee, bid, _subject_of(db, world, "A"), doc,
                        phone="13700000003").json()["id"]
    r = client.post(world.url(f"/ballots/{bid}/proxies/{staff_proxy}/accept"), headers=world.committee)
    assert r.status_code == 422 and r.json()["error"] == "proxy_is_staff", r.text

    pid = _file(client, world, world.committee, bid, _subject_of(db, world, "B"), doc).json()["id"]
    assert client.post(world.url(f"/ballots/{bid}/proxies/{pid}/accept"),
                       headers=world.committee).status_code == 200
    proxy = owner_bearer(client, outbox, PROXY_PHONE)
    db.rollback()  # a fresh snapshot after the requests' writes
    account = db.execute(select(UserAccount).where(UserAccount.phone == PROXY_PHONE)).scalar_one()
    db.add(RoleGrant(compound_id=world.cid, user_id=account.id or 0, role=Role.OBSERVER))
    db.commit()
    choices = {str(m["id"]): ({"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree")
               for m in ballot["matters"]}
    r = client.post(world.url(f"/ballots/{bid}/votes"), headers=proxy,
                    json={"subject_id": _subject_of(db, world, "B"), "choices": choices})
    assert r.status_code == 403 and r.json()["error"] == "proxy_is_staff", r.text


def test_a_proxys_access_is_its_ballot_until_the_close(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    # A second ballot, noticed to the whole compound, for which the proxy holds nothing.
    later = datetime(2026, 4, 10, 0, 0, tzinfo=UTC)
    other = client.post(world.url("/ballots"), json=ballot_body(later), headers=world.committee).json()["id"]
    assert client.post(world.url(f"/ballots/{other}/notice"), json={},
                       headers=world.committee).status_code == 200
    doc = _upload(client, world, world.committee)
    pid = _file(client, world, world.committee, bid, _subject_of(db, world, "B"), doc).json()["id"]
    assert client.post(world.url(f"/ballots/{bid}/proxies/{pid}/accept"),
                       headers=world.committee).status_code == 200
    proxy = owner_bearer(client, outbox, PROXY_PHONE)
    assert client.get(world.url(f"/ballots/{bid}"), headers=proxy).status_code == 200
    assert client.get(world.url(f"/ballots/{other}"), headers=proxy).status_code == 403
    listed = client.get(world.url("/ballots"), headers=proxy).json()
    assert [b["id"] for b in listed] == [bid]
    # The ballot ends and is closed: the proxy's standing ends with it.
    world.travel(client, frozen_clock, days=8)
    assert client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee).status_code == 200
    proxy = owner_bearer(client, outbox, PROXY_PHONE)
    assert client.get(world.url(f"/ballots/{bid}"), headers=proxy).status_code == 403
    assert client.get(world.url(f"/ballots/{bid}/results"), headers=proxy).status_code == 403
    assert client.get(world.url("/ballots"), headers=proxy).status_code == 403
