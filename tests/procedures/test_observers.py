"""Observers (两代表一委员): appointed to a compound or one item; they see the whole record, the
ballot's participation and tally inputs, the audit trail, verify its export offline, record
observations, and can change nothing else — proved by walking every write route of the app."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.__main__ import main as audit_cli
from app.audit.models import AuditEvent
from app.clock import FrozenClock
from tests.factories import make_staff
from tests.procedures.helpers import ALL_AGREE, BALLOT_START, build_world, walk_to_ballot
from tests.security.access_helpers import SESSION_ROUTES

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OBSERVATIONS = ("POST", "/api/v1/compounds/{compound_id}/procedures/items/{item_id}/observations")
# Writes that concern one's own session, not any compound's records.


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    w = build_world(db, client, frozen_clock, outbox)
    make_staff(db, username="daibiao")  # a deputy with no grant: appointed to one item below
    db.commit()
    return w


def _write_routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    return sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops
                  if m.upper() in WRITE_METHODS and p not in SESSION_ROUTES)


def _fill(path: str, cid: int, item_id: int) -> str:
    path = path.replace("{compound_id}", str(cid)).replace("{item_id}", str(item_id))
    return re.sub(r"\{[^}]+\}", "1", path)


def _item_with_ballot(world) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    world.adopt()
    item = walk_to_ballot(world, world.propose())
    ballot = world.ballot()
    item = world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
                    {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    return item, ballot


def test_every_write_route_refuses_observers_except_observations(world, db: Session) -> None:  # type: ignore[no-untyped-def]
    item, _ = _item_with_ballot(world)
    world.ok("POST", world.p(f"/items/{item['id']}/observers"), "shenhe",
             {"username": "daibiao", "organization": "市政协委员"}, status=201)
    routes = _write_routes(world.client)
    assert OBSERVATIONS in routes and len(routes) > 30
    db.rollback()
    head_before = db.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first()

    for who in ("gcy", "daibiao"):  # the compound's observer, then the item's
        headers = world.h(who)
        let_through = []
        for method, path in routes:
            if (method, path) == OBSERVATIONS:
                continue
            r = world.client.request(method, _fill(path, world.cid, item["id"]), headers=headers, json={})
            if r.status_code != 403:
                let_through.append((who, method, path, r.status_code, r.text[:100]))
        assert let_through == [], let_through
    db.rollback()
    assert db.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first() == head_before

    # The one write they may make: an observation, kept in the record and the audit trail.
    for who, text in (("gcy", "联席会议到会单位齐全，会议纪要已签字。"), ("daibiao", "表决公告已在各楼栋张贴。")):
        record = world.ok("POST", world.p(f"/items/{item['id']}/observations"), who, {"text": text}, status=201)
    assert [o["text"][:4] for o in record["observations"]] == ["联席会议", "表决公告"]
    assert [o["by"] for o in record["observations"]] == ["观察员（两代表一委员）（区人大代表）",
                                                         "观察员（两代表一委员）（市政协委员）"]
    db.rollback()
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "procedure.observation_recorded")).scalars().all()
    assert len(events) == 2 and json.loads(events[0].payload)["text"].startswith("联席会议")
    # Others may not record observations.
    r = world.client.post(world.p(f"/items/{item['id']}/observations"), headers=world.h("wy"), json={"text": "x"})
    assert r.status_code == 403


def test_observer_sees_record_participation_tally_and_verifies_offline(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    item, ballot = _item_with_ballot(world)
    world.ok("POST", world.p(f"/items/{item['id']}/observers"), "admin",
             {"username": "daibiao", "organization": "区党代表"}, status=201)
    for who in ("gcy", "daibiao"):
        record = world.ok("GET", world.p(f"/items/{item['id']}"), who)
        assert [v["version"] for v in record["versions"]] == [1]
        assert [h["action"] for h in record["history"]] == ["submit", "approve", "approve", "link"]
        assert record["history"][1]["data"]["attendees"]
        assert record["my_actions"]["observe"] is True and record["my_actions"]["decide"] == []

    # While open: participation only.
    world.ok("POST", world.url(f"/ballots/{ballot['id']}/notice"), "wy", {})
    world.clock.current = BALLOT_START + timedelta(hours=1)
    opened = world.ok("POST", world.url(f"/ballots/{ballot['id']}/open"), "wy")
    subject = world.ok("GET", world.url(f"/ballots/{ballot['id']}"), "A")["my_subjects"][0]["subject_id"]
    world.ok("POST", world.url(f"/ballots/{ballot['id']}/votes"), "A",
             {"subject_id": subject, "choices": {str(opened["matters"][0]["id"]): "agree"}}, status=201)
    progress = world.ok("GET", world.p(f"/items/{item['id']}/ballot/progress"), "daibiao")
    assert progress["voted_headcount"] == 1 and "choices" not in json.dumps(progress)
    r = world.client.get(world.p(f"/items/{item['id']}/ballot/tally-inputs"), headers=world.h("daibiao"))
    assert r.status_code == 409  # not before closing

    for name in "BCDEFGI":
        subject = world.ok("GET", world.url(f"/ballots/{ballot['id']}"), name)["my_subjects"][0]["subject_id"]
        world.ok("POST", world.url(f"/ballots/{ballot['id']}/votes"), name,
                 {"subject_id": subject, "choices": {str(opened["matters"][0]["id"]): ALL_AGREE[name]}}, status=201)
    world.clock.current = BALLOT_START + timedelta(days=7, hours=1)
    world.ok("POST", world.url(f"/ballots/{ballot['id']}/close"), "wy")
    tally = world.ok("GET", world.p(f"/items/{item['id']}/ballot/tally-inputs"), "daibiao")
    assert tally["format"] == "gongjue-tally/1" and len(tally["subjects"]) == 10

    audit = world.ok("GET", world.p(f"/items/{item['id']}/audit"), "daibiao")
    assert audit["verification"]["ok"] is True
    actions = [e["action"] for e in audit["events"]]
    assert "procedure.item_proposed" in actions and "ballot.closed" in actions

    # The export downloaded by the item's observer verifies offline, checkpoints included.
    export = world.client.get(world.p(f"/items/{item['id']}/audit/export"), headers=world.h("daibiao"))
    assert export.status_code == 200
    path = tmp_path / "audit.jsonl"
    path.write_bytes(export.content)
    assert audit_cli(["verify", "--file", str(path)]) == 0
    # And an edited copy does not.
    lines = path.read_text(encoding="utf-8").splitlines()
    tampered = [ln.replace("业主代表", "开发商代表") if '"procedure.step_decided"' in ln else ln for ln in lines]
    assert tampered != lines
    path.write_text("\n".join(tampered) + "\n", encoding="utf-8")
    assert audit_cli(["verify", "--file", str(path)]) == 1


def test_item_observer_sees_only_their_item(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    mine = world.propose(title="设置快递柜")
    other = world.propose(title="地面停车位分配", matter_type="parking", category=None)
    world.ok("POST", world.p(f"/items/{mine['id']}/observers"), "shenhe",
             {"username": "daibiao", "organization": "区人大代表"}, status=201)
    assert world.client.get(world.p(f"/items/{mine['id']}"), headers=world.h("daibiao")).status_code == 200
    for path in (f"/items/{other['id']}", f"/items/{other['id']}/audit", "/items", "/settings"):
        r = world.client.get(world.p(path), headers=world.h("daibiao"))
        assert r.status_code == 403, (path, r.text)
    # Who may appoint: the platform admin or the reviewer, not the committee.
    r = world.client.post(world.p("/observers"), headers=world.h("wy"),
                          json={"username": "daibiao", "organization": "区人大代表"})
    assert r.status_code == 403
    made = world.ok("POST", world.p("/observers"), "shenhe", {"username": "daibiao", "organization": "区人大代表"},
                    status=201)
    assert made["scope"] == "compound"
    assert world.client.get(world.p(f"/items/{other['id']}"), headers=world.h("daibiao")).status_code == 200
    listed = world.ok("GET", world.p("/observers"), "shenhe")
    assert {(o["scope"], o["organization"]) for o in listed} >= {("compound", "区人大代表"), ("item", "区人大代表")}
    world.ok("POST", world.p(f"/observers/{made['id']}/revoke"), "shenhe")
    world.clock.advance(minutes=1)
    assert world.client.get(world.p(f"/items/{other['id']}"), headers=world.h("daibiao")).status_code == 403
