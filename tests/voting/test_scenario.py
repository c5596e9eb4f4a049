"""End to end: notice, open 15 days later, 70% vote, close, object, publish, recount."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.voting.__main__ import main as voting_cli
from tests.voting.helpers import TOTAL_AREA, TOTAL_HEADCOUNT, build_world, open_ballot, owner

AG, OP, AB = "agree", "oppose", "abstain"


def test_full_ballot_matches_hand_computation(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    bid = ballot["id"]
    assert (ballot["total_area_hundredths"], ballot["total_headcount"]) == (TOTAL_AREA, TOTAL_HEADCOUNT)
    m1, m2, m3 = (m["id"] for m in ballot["matters"])
    cands = {c["name"]: c["id"] for c in ballot["matters"][2]["candidates"]}

    def ids(*names: str) -> dict:
        return {"approve": [cands[n] for n in names]}

    plan = {
        "A": (AG, AG, ids("王一", "李二")),
        "B": (AG, AG, ids("王一", "李二", "张三")),
        "C": (AG, OP, ids("王一")),
        "D": (AG, AG, ids("王一", "张三")),
        "E": (OP, OP, ids("李二")),
        "F": (AB, AG, ids("李二")),
        "I": (AG, AG, ids("王一", "张三")),
    }
    receipts = {}
    for name, (c1, c2, c3) in plan.items():
        headers = owner(client, outbox, world, name)
        detail = client.get(world.url(f"/ballots/{bid}"), headers=headers).json()
        assert detail["can_vote"] is True
        subject = detail["my_subjects"][0]["subject_id"]
        if name == "A":  # vote once the other way, then change it
            first = client.post(world.url(f"/ballots/{bid}/votes"), headers=headers,
                                json={"subject_id": subject, "choices": {str(m1): OP, str(m2): OP, str(m3): ids()}})
            assert first.status_code == 201
            receipts["A-first"] = first.json()["receipt_code"]
        r = client.post(world.url(f"/ballots/{bid}/votes"), headers=headers,
                        json={"subject_id": subject, "choices": {str(m1): c1, str(m2): c2, str(m3): c3}})
        assert r.status_code == 201, r.text
        receipts[name] = r.json()["receipt_code"]
        assert len(r.json()["receipt_code"]) == 32 and r.json()["audit_seq"] > 0

    # J co-owns with I: only the representative votes.
    j = owner(client, outbox, world, "J")
    j_detail = client.get(world.url(f"/ballots/{bid}"), headers=j).json()
    assert j_detail["my_subjects"][0]["as"] == "co_owner" and j_detail["can_vote"] is False

    progress = client.get(world.url(f"/ballots/{bid}/progress"), headers=world.observer).json()
    assert (progress["voted_area_hundredths"], progress["voted_headcount"]) == (75000, 7)
    assert progress["quorum_area_met"] and progress["quorum_headcount_met"]
    assert "choices" not in json.dumps(progress)

    # After the end, no job has closed it yet: a late vote is refused by the server itself.
    world.travel(client, frozen_clock, days=7)
    g = owner(client, outbox, world, "G")
    g_subject = client.get(world.url(f"/ballots/{bid}"), headers=g).json()["my_subjects"][0]["subject_id"]
    late = client.post(world.url(f"/ballots/{bid}/votes"), headers=g,
                       json={"subject_id": g_subject, "choices": {str(m1): AG, str(m2): AG, str(m3): ids()}})
    assert late.status_code == 409 and late.json()["error"] == "vote_outside_period"

    closed = client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "tallied"
    res = client.get(world.url(f"/ballots/{bid}/results"), headers=world.observer).json()
    r1, r2, r3 = res["matters"]
    # (九) simple majority: agree 550.00 m² / 5 of participating 750.00 m² / 7.
    assert r1["passed"] is True
    assert (r1["result"]["participating_area"], r1["result"]["participating_headcount"]) == (75000, 7)
    assert (r1["result"]["agree_area"], r1["result"]["agree_headcount"]) == (55000, 5)
    assert r1["result"]["approval_area_ratio"]["fraction"] == "11/15"
    # (八) three quarters: 580/750 ≥ 3/4 by area, but 5/7 < 3/4 by headcount.
    assert r2["passed"] is False
    assert r2["result"]["reasons"] == ["approval_headcount"]
    assert (r2["result"]["agree_area"], r2["result"]["agree_headcount"]) == (58000, 5)
    # Election: 王一 (5 heads, 550.00) and 李二 (4, 400.00) qualify; 张三 (3 of 7) does not.
    assert sorted(c["name"] for c in r3["result"]["candidates"] if c["elected"]) == ["李二", "王一"]
    assert r3["result"]["unfilled_seats"] == 1 and r3["passed"] is False

    # Objection window: 查票, object, answer; publishing early is refused.
    e = owner(client, outbox, world, "E")
    mine = client.get(world.url(f"/ballots/{bid}/my-votes"), headers=e).json()
    assert mine[0]["casts"][0]["effective"] is True
    assert mine[0]["casts"][0]["choices"][0]["choice_label"] == "反对"
    obj = client.post(world.url(f"/ballots/{bid}/objections"), headers=e,
                      json={"subject_id": mine[0]["subject_id"], "text": "我的选择记录无误，但想了解计票方式。"})
    assert obj.status_code == 201
    early = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert early.status_code == 409 and early.json()["error"] == "objection_window_open"
    world.travel(client, frozen_clock, days=4)
    unanswered = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert unanswered.status_code == 409 and unanswered.json()["error"] == "objections_unanswered"
    ans = client.post(world.url(f"/ballots/{bid}/objections/{obj.json()['id']}/answer"),
                      headers=world.committee, json={"answer": "计票按专有部分面积和人数双过半规则进行。"})
    assert ans.status_code == 200
    published = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    e = owner(client, outbox, world, "E")  # a fresh login after the days that passed
    codes = client.get(world.url(f"/ballots/{bid}/receipts"), headers=e).json()["receipt_codes"]
    assert len(codes) == 7 and receipts["A"] in codes and receipts["A-first"] not in codes

    notice_id = published.json()["result_notice_id"]
    notice = client.get(world.url(f"/notices/{notice_id}"), headers=e).json()
    assert "决议公告" in notice["title"]
    assert "第二百八十条" in notice["body"] and "核验信息" in notice["body"]
    # Owners read percentages, not fractions, and no command line; the verification material is
    # the last printed section, each line saying what it is for.
    assert not re.search(r"\d+/\d+", notice["body"]) and "python" not in notice["body"]
    assert re.search(r"同意的专有部分面积占参与表决专有部分面积的 \d+\.\d\d%", notice["body"])
    check = notice["structured"]["sections"][-1]
    assert check["heading"] == "核验信息"
    closing_hash = notice["structured"]["data"]["audit_head"]["hash"]
    assert any(closing_hash in item and "指纹" in item for item in check["items"])
    assert any("共决核验工具" in item and "监督人员" in item for item in check["items"])

    export = client.get(world.url(f"/ballots/{bid}/tally-inputs"), headers=world.observer)
    assert export.status_code == 200
    path = tmp_path / "tally.json"
    path.write_bytes(export.content)
    assert voting_cli(["recount", str(path)]) == 0
    tampered = json.loads(export.content)
    for s in tampered["subjects"]:
        if s["choices"] and s["choices"][str(m1)] == OP:
            s["choices"][str(m1)] = AG
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    assert voting_cli(["recount", str(path)]) == 1
