"""A major matter cannot reach the owners (notice or open) without the review's approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.service import Actor
from app.clock import FrozenClock
from app.notices.models import Notice
from app.voting import service as voting_service
from app.voting.service import MatterSpec
from tests.procedures.helpers import BALLOT_START, build_world, walk_to_ballot


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    return build_world(db, client, frozen_clock, outbox)


def _notice(world, ballot: dict):  # type: ignore[no-untyped-def]
    return world.client.post(world.url(f"/ballots/{ballot['id']}/notice"), headers=world.h("wy"), json={})


def _meeting_notices(db: Session) -> int:
    db.rollback()  # a fresh snapshot: the requests committed in between
    return len(db.execute(select(Notice).where(Notice.kind == "meeting")).scalars().all())


def test_major_matter_cannot_reach_owners_without_approval(world, db: Session) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    ballot = world.ballot()
    r = _notice(world, ballot)
    assert r.status_code == 409 and r.json()["error"] == "procedure_review_required"
    assert "改变共有部分的用途" in r.json()["detail"]
    assert _meeting_notices(db) == 0

    # Proposed, discussed, not yet reviewed: still refused; the owners do not see the item.
    item = world.propose()
    item = world.decide(item, "shenhe")
    assert _notice(world, ballot).status_code == 409
    assert world.ok("GET", world.p("/items"), "A") == []
    r = world.client.get(world.p(f"/items/{item['id']}/timeline"), headers=world.h("A"))
    assert r.status_code == 404
    # The item cannot be linked before its review: the resolution step is not reached yet.
    r = world.client.post(world.p(f"/items/{item['id']}/ballot-link"), headers=world.h("wy"),
                          json={"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    assert r.status_code == 409 and r.json()["error"] == "procedure_wrong_step"

    item = world.decide(item, "shenhe", opinion="同意提交业主大会表决")
    world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
             {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    assert _notice(world, ballot).status_code == 200
    assert _meeting_notices(db) == 1
    assert [i["id"] for i in world.ok("GET", world.p("/items"), "A")] == [item["id"]]


def test_unreviewed_linked_item_and_open_are_gated_too(world, db: Session) -> None:  # type: ignore[no-untyped-def]
    """Opening re-checks: a ballot noticed before the compound adopted a procedure, with a major
    matter, cannot open until that matter's item is approved and linked."""
    ballot = world.ballot()
    assert _notice(world, ballot).status_code == 200  # no procedure adopted yet: no gate
    world.clock.advance(hours=2)
    world.adopt()
    world.clock.current = BALLOT_START + timedelta(hours=1)
    r = world.client.post(world.url(f"/ballots/{ballot['id']}/open"), headers=world.h("wy"))
    assert r.status_code == 409 and r.json()["error"] == "procedure_review_required"
    item = walk_to_ballot(world, world.propose())
    # Noticed before adoption: linking is allowed and marked as such.
    item = world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
                    {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    assert item["ballot"]["noticed_before_adoption"] is True
    assert world.client.post(world.url(f"/ballots/{ballot['id']}/open"), headers=world.h("wy")).status_code == 200


def test_ballot_noticed_after_adoption_but_before_approval_cannot_be_linked(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    survey = world.ballot([{"title": "快递柜位置意见征集", "category": "survey"}])
    assert _notice(world, survey).status_code == 200  # surveys decide nothing: never gated
    world.clock.advance(hours=2)
    item = walk_to_ballot(world, world.propose(category=None))
    r = world.client.post(world.p(f"/items/{item['id']}/ballot-link"), headers=world.h("wy"),
                          json={"ballot_id": survey["id"], "matter_id": survey["matters"][0]["id"]})
    assert r.status_code == 409 and r.json()["error"] == "ballot_noticed_before_approval"
    options = world.ok("GET", world.p(f"/items/{item['id']}/linkable-ballots"), "wy")
    assert options[0]["matters"][0]["linkable"] is False


def test_keywords_catch_major_matters_outside_the_categories(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    fee = world.ballot([{"title": "调整物业服务收费标准", "category": "9"}])
    r = _notice(world, fee)
    assert r.status_code == 409 and "调整物业服务收费标准" in r.json()["detail"]
    plain = world.ballot([{"title": "修订小区文明养犬公约", "category": "2"}])
    assert _notice(world, plain).status_code == 200
    # A compound adds its own major matter: from then on it is gated as well.
    world.ok("PUT", world.p("/settings"), "wy", {
        "template_key": "sanyi_yishen",
        "extra_major_matters": [{"key": "pets", "label": "养犬管理", "keywords": ["养犬"]}]})
    again = world.ballot([{"title": "修订小区文明养犬公约（第二稿）", "category": "2"}])
    r = _notice(world, again)
    assert r.status_code == 409 and "养犬管理" in r.json()["detail"]


def test_gate_applies_when_the_voting_service_is_called_directly(world, db: Session) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    ballot = voting_service.create_ballot(
        db, compound_id=world.cid, title="直接调用", description="", starts_at=BALLOT_START,
        ends_at=BALLOT_START + timedelta(days=7), scope_building_ids=[],
        matters=[MatterSpec(title="续聘物业服务企业", category="4")], actor=Actor(user_id=None, role="system"))
    from app.errors import DomainError

    with pytest.raises(DomainError) as exc:
        voting_service.publish_notice(db, ballot=ballot, actor=Actor(user_id=None, role="system"))
    assert exc.value.code == "procedure_review_required"
    db.rollback()


def test_without_an_adopted_procedure_nothing_is_gated_and_no_item_can_start(world) -> None:  # type: ignore[no-untyped-def]
    ballot = world.ballot()
    assert _notice(world, ballot).status_code == 200
    r = world.client.post(world.p("/items"), headers=world.h("wy"), json={
        "title": "t", "text": "x", "matter_type": "parking", "proposer_body": "committee"})
    assert r.status_code == 409 and r.json()["error"] == "procedure_not_adopted"


def test_only_the_platform_admin_may_drop_the_procedure(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    r = world.client.put(world.p("/settings"), headers=world.h("wy"), json={"template_key": None})
    assert r.status_code == 403 and r.json()["error"] == "procedure_disable_admin_only"
    # Switching templates is the committee's: running items keep the steps they started with.
    item = world.propose()
    world.adopt("wuyi_yibei")
    again = world.ok("GET", world.p(f"/items/{item['id']}"), "wy")
    assert again["template_key"] == "sanyi_yishen" and len(again["steps"]) == 6
    settings = world.ok("PUT", world.p("/settings"), "admin", {"template_key": None})
    assert settings["adopted"] is False


def test_settings_of_a_compound_that_does_not_exist_are_not_found(world) -> None:  # type: ignore[no-untyped-def]
    """The platform admin reaches every compound id; an unknown one is 404, not a 500 (fuzz find)."""
    path = world.p("/settings").replace(f"/compounds/{world.cid}/", "/compounds/999999/")
    for body in ({"template_key": None, "extra_major_matters": None}, {"template_key": "sanyi_yishen"}):
        r = world.client.put(path, headers=world.h("admin"), json=body)
        assert r.status_code == 404 and r.json()["error"] == "compound_not_found", r.text
