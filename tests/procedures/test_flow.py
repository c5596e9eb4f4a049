"""Each shipped template end to end; returns keep every version; rejections end the procedure."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app import timefmt
from app.audit.models import AuditEvent
from app.clock import FrozenClock
from app.notices.models import Notice
from app.voting.models import Ballot
from tests.procedures.helpers import ALL_AGREE, ALL_OPPOSE, build_world, finish, walk_to_ballot


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox):  # type: ignore[no-untyped-def]
    return build_world(db, client, frozen_clock, outbox)


@pytest.mark.parametrize("template_key", ["sanyi_yishen", "sanyi_yishen_street", "wuyi_yibei"])
def test_each_shipped_template_runs_end_to_end(world, db: Session, template_key: str) -> None:  # type: ignore[no-untyped-def]
    settings = world.adopt(template_key)
    assert settings["adopted"] and settings["template"]["key"] == template_key
    item = world.propose()
    assert item["steps"][0]["state"] == "done" and item["current_step"]["index"] == 1
    item = walk_to_ballot(world, item)
    assert item["gate_passed"] and item["public"]

    ballot = world.ballot()
    item = world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
                    {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    assert item["ballot"]["matter_title"] == ballot["matters"][0]["title"]
    # The resolution step waits for the published result.
    r = world.client.post(world.p(f"/items/{item['id']}/resolution"), headers=world.h("wy"))
    assert r.status_code == 409 and r.json()["error"] == "ballot_not_published"

    world.run_ballot(ballot, ALL_AGREE)
    item = world.ok("POST", world.p(f"/items/{item['id']}/resolution"), "wy")
    assert item["resolution_passed"] is True
    assert "通过" in item["ballot"]["resolution"]["line"]
    item = finish(world, item)

    assert item["status"] == "closed" and item["closed_at"]
    assert all(s["state"] == "done" for s in item["steps"]), item["steps"]
    # Both publications are procedure notices linked to the item, the last one closing it.
    notices = db.execute(select(Notice).where(Notice.source_type == "agenda_item",
                                              Notice.source_id == str(item["id"]))).scalars().all()
    assert len(notices) == 2 and all(n.kind == "procedure" and n.published_at for n in notices)
    assert all("业主大会表决结果" in n.body for n in notices)
    # The ballot's end reads as it read on the ballot: a midnight end is 24:00 of the day before.
    ends = ballot_end_text(db, ballot)
    assert all(f"（投票于{ends}结束）" in n.body and " 00:00结束" not in n.body for n in notices)
    # Every step is an audit event, each recorded step pointing at its event.
    events = db.execute(select(AuditEvent).where(AuditEvent.object_type == "agenda_item",
                                                 AuditEvent.object_id == str(item["id"]))
                        .order_by(AuditEvent.seq)).scalars().all()
    actions = [e.action for e in events]
    assert actions[0] == "procedure.item_proposed" and actions[-1] == "procedure.item_closed"
    by_seq = {e.seq: e for e in events}
    for record in item["history"]:
        event = by_seq[record["audit_seq"]]
        assert json.loads(event.payload)["step_key"] == item["steps"][record["step_index"]]["key"]
    assert len({r["step_index"] for r in item["history"]}) == len(item["steps"])
    verify = world.ok("GET", world.url("/audit/verify"), "gcy")
    assert verify["ok"] is True


def test_return_and_resubmit_keeps_both_versions(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    item = world.propose()
    item = world.decide(item, "shenhe")  # 商议 (the joint meeting)
    assert item["current_step"]["key"] == "review"
    item = world.decide(item, "shenhe", "return", "场地费标准须经公开比价，请补充比价材料后重新提交")
    assert item["status"] == "returned" and item["current_step"]["waiting_for_revision"]
    assert [s["state"] for s in item["steps"][:3]] == ["current", "done", "returned"]
    assert item["my_actions"]["decide"] == []

    # Someone of another proposing body may not revise it; the committee may.
    r = world.client.post(world.p(f"/items/{item['id']}/revisions"), headers=world.h("wuye"),
                          json={"title": "x", "text": "y", "note": "z"})
    assert r.status_code == 403
    doc = world.upload("wy", "比价材料.pdf")
    item = world.ok("POST", world.p(f"/items/{item['id']}/revisions"), "wy", {
        "title": "利用东门空地设置快递柜（修订稿）", "text": "修订方案：经三家比价，场地费每年1.2万元。",
        "note": "补充三家比价材料，调整场地费", "document_file_ids": [doc]})
    # Back to the reviewer who returned it, not through the meeting again.
    assert item["status"] == "in_progress" and item["current_step"]["key"] == "review"
    assert item["version"] == 2
    v1, v2 = item["versions"]
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["text"].startswith("方案全文") and v2["text"].startswith("修订方案")
    assert v2["note"] == "补充三家比价材料，调整场地费" and v2["files"][0]["file_name"] == "比价材料.pdf"
    assert v1["files"] and v1["files"][0]["id"] != doc
    assert [h["action"] for h in item["history"]] == ["submit", "approve", "return", "resubmit"]
    assert item["history"][2]["version"] == 1 and item["history"][3]["version"] == 2

    item = world.decide(item, "shenhe", opinion="同意按修订稿提交业主大会表决")
    assert item["gate_passed"] and item["current_step"]["kind"] == "ballot"
    approval = item["history"][-1]
    assert approval["version"] == 2 and approval["by"] == "社区党组织审核人（幸福社区党委）"
    # The owners' timeline shows the approved version, and the return with its opinion.
    timeline = world.ok("GET", world.p(f"/items/{item['id']}/timeline"), "A")
    assert timeline["proposal"]["version"] == 2
    review = next(s for s in timeline["steps"] if s["key"] == "review")
    assert [d["action"] for d in review["decisions"]] == ["return", "approve"]


def test_return_after_the_gate_needs_a_new_review(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt("wuyi_yibei")
    item = world.propose()
    item = world.decide(item, "wy")  # 商议
    item = world.decide(item, "shenhe")  # 审议 (the gate)
    assert item["gate_passed"] and item["current_step"]["key"] == "appraise"
    item = world.decide(item, "wy", "return", "业主代表要求补充实施细则")
    assert item["gate_passed"] is False
    item = world.ok("POST", world.p(f"/items/{item['id']}/revisions"), "wy", {
        "title": item["title"], "text": "补充实施细则后的方案。", "note": "补充实施细则"})
    # The revised version goes back to the gate before it can reach the owners.
    assert item["current_step"]["key"] == "deliberate"


def test_rejection_ends_the_procedure(world, db: Session) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    item = world.propose()
    item = world.decide(item, "shenhe")
    item = world.decide(item, "shenhe", "reject", "该事项不符合小区实际，不同意提交业主大会")
    assert item["status"] == "rejected" and item["current_step"] is None
    assert item["steps"][2]["state"] == "rejected" and not item["public"]
    r = world.client.post(world.p(f"/items/{item['id']}/decisions"), headers=world.h("shenhe"),
                          json={"step_key": "review", "action": "approve", "opinion": "同意"})
    assert r.status_code == 409 and r.json()["error"] == "agenda_item_rejected"


def test_failed_resolution_publishes_and_closes_without_implementation(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    item = walk_to_ballot(world, world.propose())
    ballot = world.ballot()
    world.ok("POST", world.p(f"/items/{item['id']}/ballot-link"), "wy",
             {"ballot_id": ballot["id"], "matter_id": ballot["matters"][0]["id"]})
    world.run_ballot(ballot, ALL_OPPOSE)
    item = world.ok("POST", world.p(f"/items/{item['id']}/resolution"), "wy")
    assert item["resolution_passed"] is False and item["current_step"]["key"] == "publish_resolution"
    item = world.publish(item)
    assert item["status"] == "closed"
    assert item["steps"][-1]["state"] == "skipped"
    assert item["history"][-1]["action"] == "skip"


def test_steps_are_taken_only_by_their_roles(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    # The property company proposes for itself, not for the committee.
    r = world.client.post(world.p("/items"), headers=world.h("wuye"), json={
        "title": "t", "text": "x", "matter_type": "parking", "proposer_body": "committee"})
    assert r.status_code == 403
    item = world.propose("wuye", body="property_company", matter_type="parking", category=None,
                         title="地面机动车停车位分配方案")
    assert item["proposer_body_label"] == "物业服务企业"
    item = world.decide(item, "wy")  # the committee may record the joint meeting
    r = world.client.post(world.p(f"/items/{item['id']}/decisions"), headers=world.h("wy"),
                          json={"step_key": "review", "action": "approve", "opinion": "同意"})
    assert r.status_code == 403 and r.json()["error"] == "procedure_step_role"
    # A stale screen (the step moved on) is refused, not applied to the wrong step.
    r = world.client.post(world.p(f"/items/{item['id']}/decisions"), headers=world.h("shenhe"),
                          json={"step_key": "consult", "action": "approve", "opinion": "同意"})
    assert r.status_code == 409 and r.json()["error"] == "procedure_step_moved"
    # A review needs its written opinion; a meeting needs its minutes.
    r = world.client.post(world.p(f"/items/{item['id']}/decisions"), headers=world.h("shenhe"),
                          json={"step_key": "review", "action": "approve", "opinion": "  "})
    assert r.status_code == 422 and r.json()["error"] == "opinion_missing"


def test_meeting_needs_minutes_attendees_and_date(world) -> None:  # type: ignore[no-untyped-def]
    world.adopt()
    item = world.propose()
    r = world.client.post(world.p(f"/items/{item['id']}/decisions"), headers=world.h("shenhe"),
                          json={"step_key": "consult", "action": "approve", "opinion": "一致同意",
                                "meeting_date": "2026-03-03", "attendees": ["业主委员会"]})
    assert r.status_code == 422 and r.json()["error"] == "minutes_missing"
    r = world.client.post(world.p(f"/items/{item['id']}/decisions"), headers=world.h("shenhe"),
                          json={"step_key": "consult", "action": "approve", "opinion": "一致同意"})
    assert r.status_code == 422 and r.json()["error"] == "meeting_details_missing"
    item = world.decide(item, "shenhe")
    meeting = item["history"][-1]
    assert meeting["data"]["attendees"][0] == "小区党支部" and meeting["files"][0]["file_name"] == "会议纪要.pdf"



def ballot_end_text(db: Session, ballot: dict) -> str:
    row = db.get(Ballot, ballot["id"])
    assert row is not None
    return timefmt.format_moment(row.ends_at, end=True)
