"""Receipts owners can keep: the short code, its check (any case, any separators), and turnout
visible to owners while a ballot runs (participation only)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.voting import casting
from app.voting.models import VoteCast
from tests.voting.helpers import build_world, open_ballot, owner

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_short_code_is_the_receipts_leading_50_bits_in_crockford_base32() -> None:
    assert casting.short_receipt_code("0" * 32) == "0000000000"
    assert casting.short_receipt_code("f" * 32) == "ZZZZZZZZZZ"
    # 0x0000000000004 >> 2 == 1: the 50th bit is the last one kept, the next two are dropped.
    assert casting.short_receipt_code("0000000000004" + "f" * 19) == "0000000001"
    assert casting.short_receipt_code("0000000000003" + "0" * 19) == "0000000000"
    code = casting.short_receipt_code("494debdcb8f51a2c9e0d7b31f4a6c802")
    assert len(code) == 10 and set(code) <= CROCKFORD
    assert not set(code) & set("ILOU")
    assert casting.group_short_code(code) == f"{code[:4]}-{code[4:8]}-{code[8:]}"


@pytest.mark.parametrize(("typed", "expected"), [
    ("7kq4-m2xd-9p", ("short", "7KQ4M2XD9P")),
    (" 7KQ4 M2XD 9P ", ("short", "7KQ4M2XD9P")),
    ("7kq4m2xd9p", ("short", "7KQ4M2XD9P")),
    ("iL0o-1234-ab", ("short", "11001234AB")),  # I/L read as 1, O as 0
    ("494D EBDC B8F5 1A2C 9E0D 7B31 F4A6 C802", ("full", "494debdcb8f51a2c9e0d7b31f4a6c802")),
    ("494d-ebdc-b8f5-1a2c-9e0d-7b31-f4a6-c802", ("full", "494debdcb8f51a2c9e0d7b31f4a6c802")),
    ("7KQ4-M2XD-9", None),  # too short
    ("7KQ4-M2XD-9PU", None),  # U is not in the alphabet, and too long
    ("7KQ4-M2XD-9U", None),
    ("", None),
])
def test_typed_codes_are_read_in_any_case_with_any_separators(typed: str, expected: tuple | None) -> None:
    assert casting.normalize_receipt_input(typed) == expected


def _vote(client: TestClient, world, headers, bid: int, choices: dict) -> dict:  # type: ignore[no-untyped-def]
    subject = client.get(world.url(f"/ballots/{bid}"), headers=headers).json()["my_subjects"][0]["subject_id"]
    r = client.post(world.url(f"/ballots/{bid}/votes"), headers=headers,
                    json={"subject_id": subject, "choices": choices})
    assert r.status_code == 201, r.text
    return r.json()


def _simple_choices(ballot: dict, value: str) -> dict:
    out: dict = {}
    for m in ballot["matters"]:
        out[str(m["id"])] = {"approve": []} if m["category"] == "3" else value
    return out


def test_short_codes_turnout_and_the_check(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]

    a = owner(client, outbox, world, "A")
    first = _vote(client, world, a, bid, _simple_choices(ballot, "oppose"))
    final = _vote(client, world, a, bid, _simple_choices(ballot, "agree"))
    b = owner(client, outbox, world, "B")
    other = _vote(client, world, b, bid, _simple_choices(ballot, "abstain"))
    for receipt in (first, final, other):
        assert receipt["receipt_short"] == casting.group_short_code(casting.short_receipt_code(receipt["receipt_code"]))
    assert len({first["receipt_short"], final["receipt_short"], other["receipt_short"]}) == 3

    # The audit trail binds the short code: the event holds the full receipt it is derived from.
    event = db.execute(select(AuditEvent).where(AuditEvent.seq == final["audit_seq"],
                                                AuditEvent.compound_id == world.cid)).scalar_one()
    payload = json.loads(event.payload)
    assert casting.group_short_code(casting.short_receipt_code(payload["receipt_code"])) == final["receipt_short"]

    # 查票 shows the short code too.
    mine = client.get(world.url(f"/ballots/{bid}/my-votes"), headers=a).json()
    assert [c["receipt_short"] for c in mine[0]["casts"]] == [first["receipt_short"], final["receipt_short"]]

    # Turnout while open: any owner who sees the ballot, participation only.
    c = owner(client, outbox, world, "C")  # has not voted
    t = client.get(world.url(f"/ballots/{bid}/turnout"), headers=c)
    assert t.status_code == 200, t.text
    body = t.json()
    assert (body["voted_headcount"], body["total_headcount"]) == (2, 10)
    assert (body["voted_area_hundredths"], body["total_area_hundredths"]) == (20000, 105000)
    assert body["headcount_ratio"]["percent"] == "20.00%"
    assert body["area_ratio"]["percent"] == "19.05%"
    assert (body["quorum_label"], body["quorum_percent"]) == ("三分之二以上", "66.67%")
    assert body["quorum_area_met"] is False and body["quorum_headcount_met"] is False
    assert "choice" not in t.text and "agree" not in t.text and "by_building" not in body

    # Before the result announcement the check is refused, as the public list is.
    early = client.get(world.url(f"/ballots/{bid}/receipts/check"), headers=a,
                       params={"receipt": final["receipt_short"]})
    assert early.status_code == 403 and early.json()["error"] == "receipts_not_public"

    world.travel(client, frozen_clock, days=7)
    assert client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee).status_code == 200
    world.travel(client, frozen_clock, days=4)
    published = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert published.status_code == 200, published.text

    a = owner(client, outbox, world, "A")

    def check(code: str) -> dict:
        r = client.get(world.url(f"/ballots/{bid}/receipts/check"), headers=a, params={"receipt": code})
        assert r.status_code == 200, r.text
        return r.json()

    typed = final["receipt_short"].lower().replace("-", "")
    got = check(typed)
    assert got["found"] and got["counted"] and got["kind"] == "short"
    assert (got["short_code"], got["receipt_code"]) == (final["receipt_short"], final["receipt_code"])
    spaced = " ".join(final["receipt_short"].replace("-", ""))
    assert check(spaced)["counted"] is True
    full = " ".join(final["receipt_code"].upper()[i:i + 4] for i in range(0, 32, 4))
    assert check(full) == {**got, "kind": "full", "code": final["receipt_code"]}
    # The first vote of A was replaced by the second: found, not counted.
    replaced = check(first["receipt_short"])
    assert replaced["found"] is True and replaced["counted"] is False
    assert check(other["receipt_short"])["counted"] is True
    unknown = "0000-0000-00" if "0000-0000-00" not in {first["receipt_short"], final["receipt_short"],
                                                       other["receipt_short"]} else "ZZZZ-ZZZZ-ZZ"
    missing = check(unknown)
    assert missing == {"ballot_id": bid, "code": unknown, "kind": "short", "found": False, "counted": False,
                       "receipt_code": None, "short_code": None}
    for typed in ("12345", ""):
        bad = client.get(world.url(f"/ballots/{bid}/receipts/check"), headers=a, params={"receipt": typed})
        assert bad.status_code == 422 and bad.json()["error"] == "receipt_code_malformed"
    assert client.get(world.url(f"/ballots/{bid}/receipts/check"), headers=a).json()["error"] == "receipt_code_malformed"

    listed = client.get(world.url(f"/ballots/{bid}/receipts"), headers=a).json()
    assert listed["short_codes"] == sorted([final["receipt_short"], other["receipt_short"]])
    assert listed["count"] == 2


def test_a_short_code_taken_in_the_ballot_draws_a_new_receipt(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    a_receipt = _vote(client, world, owner(client, outbox, world, "A"), bid, _simple_choices(ballot, "agree"))
    taken = a_receipt["receipt_short"].replace("-", "")

    real = casting.short_receipt_code
    calls: list[str] = []

    def colliding_once(receipt: str) -> str:
        calls.append(receipt)
        return taken if len(calls) == 1 else real(receipt)

    monkeypatch.setattr(casting, "short_receipt_code", colliding_once)
    b_receipt = _vote(client, world, owner(client, outbox, world, "B"), bid, _simple_choices(ballot, "agree"))
    assert len(calls) == 2 and calls[0] != calls[1]  # a second nonce, hence a second receipt
    assert b_receipt["receipt_code"] == calls[1]
    assert b_receipt["receipt_short"] == casting.group_short_code(real(calls[1])) != a_receipt["receipt_short"]

    # Should every draw collide, the vote is refused and nothing is kept.
    monkeypatch.setattr(casting, "short_receipt_code", lambda receipt: taken)
    c = owner(client, outbox, world, "C")
    subject = client.get(world.url(f"/ballots/{bid}"), headers=c).json()["my_subjects"][0]["subject_id"]
    before = db.execute(select(VoteCast.id)).all()
    r = client.post(world.url(f"/ballots/{bid}/votes"), headers=c,
                    json={"subject_id": subject, "choices": _simple_choices(ballot, "agree")})
    assert r.status_code == 409 and r.json()["error"] == "receipt_code_exhausted"
    db.expire_all()
    assert db.execute(select(VoteCast.id)).all() == before


def test_turnout_waits_for_the_opening(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock,
) -> None:
    world = build_world(db, client)
    from datetime import UTC, datetime, timedelta

    from tests.voting.helpers import ballot_body
    start = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)
    bid = client.post(world.url("/ballots"), json=ballot_body(start), headers=world.committee).json()["id"]
    assert client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee).status_code == 200
    r = client.get(world.url(f"/ballots/{bid}/turnout"), headers=owner(client, outbox, world, "A"))
    assert r.status_code == 409 and r.json()["error"] == "ballot_not_open"
