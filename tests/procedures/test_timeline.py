"""The owners' timeline: where a major matter stands, what was decided and by which role and
organization, the published documents — and no names or phone numbers of anyone."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from tests.procedures.helpers import ALL_AGREE, STAFF, build_world, finish, walk_to_ballot


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    return build_world(db, client, frozen_clock, outbox)


def test_owner_timeline_from_review_to_the_second_publication(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    item = walk_to_ballot(world, world.propose())
    timeline = world.ok("GET", world.p(f"/items/{item['id']}/timeline"), "H")
    assert [s["state"] for s in timeline["steps"]] == ["done", "done", "done", "current", "pending", "pending"]
    review = timeline["steps"][2]
    assert review["gate"] and review["decisions"][0]["by"] == "社区党组织审核人（幸福社区党委）"
    assert review["decisions"][0]["opinion"] == "同意"
    meeting = timeline["steps"][1]["decisions"][0]
    assert meeting["data"]["attendees"] and "files" not in meeting  # minutes stay in the staff record
    proposal = timeline["steps"][0]["decisions"][0]
    assert proposal["by"] == "业委会委员（幸福家园业主委员会）"
    assert proposal["data"]["proposer_body_label"] == "业主委员会"
    assert timeline["proposal"]["files"][0]["file_name"] == "方案.pdf"
    assert "业主大会的表决" in timeline["disclaimer"]

    ballot = world.ballot()
    world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
             {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    world.run_ballot(ballot, ALL_AGREE)
    item = world.ok("POST", world.p(f"/items/{item['id']}/resolution"), "wy")
    finish(world, item)

    timeline = world.ok("GET", world.p(f"/items/{item['id']}/timeline"), "H")
    assert timeline["status"] == "closed" and all(s["state"] == "done" for s in timeline["steps"])
    assert timeline["ballot"]["resolution"]["passed"] is True
    kinds = [n["kind"] for n in timeline["notices"]]
    assert kinds == ["meeting", "result", "procedure", "procedure"]
    text = json.dumps(timeline, ensure_ascii=False, default=str)
    for _, (_, _, name) in STAFF.items():
        assert name not in text
    for phone in world.phones.values():
        assert phone not in text
    assert "13700000" not in text and "actor_name" not in text and "user_id" not in text
    # The staff record does name the staff who acted (they act in office).
    record = world.ok("GET", world.p(f"/items/{item['id']}"), "gcy")
    assert record["history"][2]["actor_name"] == "郑红"


def test_owner_list_shows_only_matters_that_passed_review(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    shown = walk_to_ballot(world, world.propose(title="设置快递柜"))
    world.propose(title="尚在商议的事项", matter_type="parking", category=None)
    owner_view = world.ok("GET", world.p("/items"), "A")
    assert [i["title"] for i in owner_view] == ["设置快递柜"] and owner_view[0]["id"] == shown["id"]
    assert len(world.ok("GET", world.p("/items"), "wy")) == 2
    # Owners never get the staff record.
    assert world.client.get(world.p(f"/items/{shown['id']}"), headers=world.h("A")).status_code == 403
