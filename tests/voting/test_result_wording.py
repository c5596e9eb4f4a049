"""An election's announcement says the seats filled; objections are capped per flat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.voting.results import MAX_OBJECTIONS_PER_SUBJECT
from tests.voting.helpers import ballot_body, build_world, open_ballot, owner

START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai
ELECTION = [{"title": "选举第二届业主委员会委员", "category": "3", "seats": 3,
             "candidates": [{"name": n} for n in ("王一", "李二", "张三", "赵四")]}]


def test_two_of_three_seats_read_as_such_and_objections_are_capped(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock, ballot_body(START, matters=ELECTION))
    bid = ballot["id"]
    matter = ballot["matters"][0]
    cands = {c["name"]: c["id"] for c in matter["candidates"]}
    # 7 of 10 subjects and 704.50 of 1050.00 m² take part: the quorum is met; 王一 and 李二 are
    # approved by all of them, nobody else: two seats filled, one vacant.
    for name in "ABCDEFH":
        headers = owner(client, outbox, world, name)
        subject = client.get(world.url(f"/ballots/{bid}"), headers=headers).json()["my_subjects"][0]["subject_id"]
        r = client.post(world.url(f"/ballots/{bid}/votes"), headers=headers,
                        json={"subject_id": subject,
                              "choices": {str(matter["id"]): {"approve": [cands["王一"], cands["李二"]]}}})
        assert r.status_code == 201, r.text
    world.travel(client, frozen_clock, days=7)
    closed = client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee)
    assert closed.status_code == 200, closed.text
    preliminary = client.get(world.url(f"/notices/{closed.json()['preliminary_notice_id']}"),
                             headers=world.committee).json()
    assert "选举第二届业主委员会委员：选出2名，1席空缺" in preliminary["body"]
    results = client.get(world.url(f"/ballots/{bid}/results"), headers=world.observer).json()
    assert results["matters"][0]["headline"] == "选出2名，1席空缺"

    # Objections: a few per flat, each of a readable length.
    a = owner(client, outbox, world, "A")
    subject = client.get(world.url(f"/ballots/{bid}/my-votes"), headers=a).json()[0]["subject_id"]
    url = world.url(f"/ballots/{bid}/objections")
    too_long = client.post(url, headers=a, json={"subject_id": subject, "text": "异" * 1001})
    assert too_long.status_code == 422
    ids = []
    for i in range(MAX_OBJECTIONS_PER_SUBJECT):
        r = client.post(url, headers=a, json={"subject_id": subject, "text": f"第{i + 1}条异议"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    refused = client.post(url, headers=a, json={"subject_id": subject, "text": "第4条异议"})
    assert refused.status_code == 422 and refused.json()["error"] == "objection_limit_reached"
    assert "最多提出3条异议" in refused.json()["detail"]
    # Another flat still may object.
    b = owner(client, outbox, world, "B")
    b_subject = client.get(world.url(f"/ballots/{bid}/my-votes"), headers=b).json()[0]["subject_id"]
    r = client.post(url, headers=b, json={"subject_id": b_subject, "text": "请说明空缺席位如何补选。"})
    assert r.status_code == 201
    ids.append(r.json()["id"])

    world.travel(client, frozen_clock, days=4)
    for oid in ids:
        assert client.post(world.url(f"/ballots/{bid}/objections/{oid}/answer"), headers=world.committee,
                           json={"answer": "已核实，记录无误。"}).status_code == 200
    published = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert published.status_code == 200, published.text
    final = client.get(world.url(f"/notices/{published.json()['result_notice_id']}"),
                       headers=world.committee).json()
    assert "选举第二届业主委员会委员：选出2名，1席空缺" in final["body"]
    assert "未通过" not in final["body"]
    row = final["structured"]["sections"][0]["rows"][0]
    assert row[2] == "选出2名，1席空缺"
