"""Issue 11 finding 8: notices a ballot (or a procedure, or the ledger) generated change only
through that lifecycle; one committee member cannot supersede them through the notice API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.errors import Conflict
from app.notices import service
from app.notices.models import NoticeKind
from tests.notices.conftest import Site
from tests.voting.helpers import build_world, open_ballot


def test_a_ballots_notices_cannot_be_corrected_through_the_notice_api(
    client: TestClient, db: Session, frozen_clock  # type: ignore[no-untyped-def]
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    meeting_id = ballot["notice_id"]
    correction = {"title": "关于召开业主大会的公告（更正）", "body": "表决截止时间延长。"}
    # While the ballot runs: its meeting notice is not an editor's to rewrite.
    r = client.post(world.url(f"/notices/{meeting_id}/corrections"), headers=world.committee,
                    json=correction)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "notice_generated" and "表决" in r.json()["detail"]

    world.travel(client, frozen_clock, days=7)
    assert client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee).status_code == 200
    world.travel(client, frozen_clock, days=4)
    published = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert published.status_code == 200, published.text
    result_id = published.json()["result_notice_id"]
    preliminary_id = published.json()["preliminary_notice_id"]
    for notice_id in (meeting_id, preliminary_id, result_id):
        r = client.post(world.url(f"/notices/{notice_id}/corrections"), headers=world.committee2,
                        json={"title": "决议公告（更正）", "body": "经核实，全部事项均已通过。"})
        assert r.status_code == 409 and r.json()["error"] == "notice_generated", (notice_id, r.text)
    # The result in force is still the ballot's own announcement.
    shown = client.get(world.url(f"/notices/{result_id}"), headers=world.committee).json()
    assert shown["superseded_by_id"] is None and shown["status"] != "superseded"


def test_the_service_refuses_editors_but_lets_the_lifecycle_correct(db: Session, site: Site) -> None:
    generated = service.publish_notice(
        db, compound_id=site.id, kind=NoticeKind.RESULT, title="决议公告", body="表决结果如下。",
        source_type="ballot", source_id="7", actor=site.actor,
    )
    with pytest.raises(Conflict) as refused:
        service.supersede(db, compound_id=site.id, notice_id=generated.id or 0, title="改写",
                          body="全部通过。", actor=site.actor)
    assert (refused.value.code, refused.value.status) == ("notice_generated", 409)
    by_ballot = service.supersede(db, compound_id=site.id, notice_id=generated.id or 0,
                                  title="决议公告（更正）", body="更正后的结果。", actor=site.actor,
                                  by_lifecycle=True)
    assert by_ballot.supersedes_id == generated.id and by_ballot.source_id == "7"
    # A hand-written notice is corrected as before.
    manual = service.publish_notice(db, compound_id=site.id, kind=NoticeKind.GENERAL, title="通知",
                                    body="正文", actor=site.actor)
    fixed = service.supersede(db, compound_id=site.id, notice_id=manual.id or 0, title="通知（更正）",
                              body="更正", actor=site.actor)
    assert fixed.supersedes_id == manual.id
