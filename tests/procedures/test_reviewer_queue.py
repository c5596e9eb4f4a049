"""The reviewer's workspace: one queue across the compounds they cover, and only those."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.auth.models import Role, RoleGrant
from app.clock import FrozenClock
from tests.factories import make_compound, make_staff
from tests.procedures.helpers import World, build_world


@pytest.fixture
def worlds(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    """Community X covers the test compound and a second one; community Y has its own reviewer."""
    x1 = build_world(db, client, frozen_clock, outbox)
    x2_compound = make_compound(db, community="幸福社区")
    y_compound = make_compound(db, community="和谐社区")
    shenhe = db.execute(select(RoleGrant).where(RoleGrant.role == Role.REVIEWER)).scalar_one()
    db.add(RoleGrant(compound_id=x2_compound.id, user_id=shenhe.user_id, role=Role.REVIEWER,
                     organization="幸福社区党委"))
    for cid, suffix in ((x2_compound.id, "x2"), (y_compound.id, "y")):
        wy = make_staff(db, username=f"wy_{suffix}")
        db.add(RoleGrant(compound_id=cid, user_id=wy.id, role=Role.COMMITTEE, organization="业主委员会"))
    other = make_staff(db, username="shenhe_y")
    db.add(RoleGrant(compound_id=y_compound.id, user_id=other.id, role=Role.REVIEWER, organization="和谐社区党委"))
    db.commit()
    x2 = World(client=client, clock=frozen_clock, outbox=outbox, compound=x2_compound, phones={})
    y = World(client=client, clock=frozen_clock, outbox=outbox, compound=y_compound, phones={})
    return x1, x2, y


def _adopt_and_propose(world: World, who: str, title: str) -> dict:
    world.ok("PUT", world.p("/settings"), who, {"template_key": "sanyi_yishen"})
    item = world.ok("POST", world.p("/items"), who, {
        "title": title, "text": "方案全文", "matter_type": "fee_adjustment", "category": "9",
        "proposer_body": "committee"}, status=201)
    return item


def test_queue_spans_the_reviewers_compounds_and_never_others(worlds) -> None:  # type: ignore[no-untyped-def]
    x1, x2, y = worlds
    a = _adopt_and_propose(x1, "wy", "甲：调整物业服务收费标准")
    b = _adopt_and_propose(x2, "wy_x2", "乙：调整物业服务收费标准")
    c = _adopt_and_propose(y, "wy_y", "丙：调整物业服务收费标准")

    queue = x1.ok("GET", "/api/v1/reviewer/queue", "shenhe")
    assert sorted(queue["compound_ids"]) == sorted([x1.cid, x2.cid])
    assert {i["id"] for i in queue["items"]} == {a["id"], b["id"]}
    assert {i["compound_name"] for i in queue["items"]} == {x1.compound.name, x2.compound.name}
    row = next(i for i in queue["items"] if i["id"] == a["id"])
    assert row["waiting_for_reviewer"] and row["current_step"]["name"] == "商议"
    assert row["documents"] == [] and row["history"][0]["action"] == "submit"
    assert row["due_at"] and row["overdue"] is False

    other = y.ok("GET", "/api/v1/reviewer/queue", "shenhe_y")
    assert [i["id"] for i in other["items"]] == [c["id"]]
    # Community Y's items are out of reach by any route, not just missing from the queue.
    for path in (f"/items/{c['id']}", f"/items/{c['id']}/timeline", f"/items/{c['id']}/audit", "/items"):
        r = x1.client.get(y.p(path), headers=x1.h("shenhe"))
        assert r.status_code == 403 and r.json()["error"] == "forbidden_compound_role"
    # Someone with no reviewer grant gets an empty queue.
    assert x1.ok("GET", "/api/v1/reviewer/queue", "wy") == {"compound_ids": [], "items": []}


def test_overdue_items_are_shown_to_the_reviewer(worlds) -> None:  # type: ignore[no-untyped-def]
    x1, _, _ = worlds
    item = _adopt_and_propose(x1, "wy", "调整物业服务收费标准")
    item = x1.decide(item, "shenhe")
    item = x1.decide(item, "shenhe", "return", "请补充业主意见征集情况")
    # Waiting for the committee's revision: not the reviewer's turn, so not in the queue…
    assert x1.ok("GET", "/api/v1/reviewer/queue", "shenhe")["items"] == []
    # …until its 15-day deadline passes; then it is listed as overdue.
    x1.clock.advance(days=16)
    rows = x1.ok("GET", "/api/v1/reviewer/queue", "shenhe")["items"]
    assert [(r["id"], r["overdue"], r["waiting_for_reviewer"]) for r in rows] == [(item["id"], True, False)]
    listed = x1.ok("GET", x1.p("/items"), "wy")
    assert listed[0]["overdue"] is True
    # A revoked grant takes the compound out of the queue at once.
    grant = next(g for g in x1.ok("GET", x1.url("/grants"), "admin") if g["role"] == "reviewer")
    x1.ok("DELETE", x1.url(f"/grants/{grant['id']}"), "admin")
    assert x1.ok("GET", "/api/v1/reviewer/queue", "shenhe")["compound_ids"] != [] and \
        x1.cid not in x1.ok("GET", "/api/v1/reviewer/queue", "shenhe")["compound_ids"]
    assert x1.ok("GET", "/api/v1/reviewer/queue", "shenhe")["items"] == []


def test_waiting_for_me_filter(worlds) -> None:  # type: ignore[no-untyped-def]
    x1, _, _ = worlds
    _adopt_and_propose(x1, "wy", "调整物业服务收费标准")
    assert len(x1.ok("GET", x1.p("/items?waiting_for_me=true"), "shenhe")) == 1
    assert x1.ok("GET", x1.p("/items?waiting_for_me=true"), "wuye") == []
