"""Quarterly reports and the annual appraisal over HTTP (seed 002 三(二)3): versioned reports and
their acknowledgment, the overdue flag on a frozen clock, the weighted score computed by hand with
the year's published satisfaction rate, publication, rectification to closure, and refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.appraisals.models import QuarterlyReport
from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clock import FrozenClock
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

PHONES = {f"业主{i}": f"1390000{i:04d}" for i in range(5)}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> dict[str, Any]:
    compound = make_compound(db)
    other = make_compound(db, name="别的小区")
    add_roster(db, compound, [UnitSpec("1栋", f"{i + 1}01", 9000, [f"业主{i}"]) for i in range(5)],
               phones=PHONES)
    for name, roles in (("wy", [Role.COMMITTEE]), ("wg", [Role.CLERK]), ("gc", [Role.OBSERVER]),
                        ("sh", [Role.REVIEWER])):
        make_staff(db, username=name, roles={compound.id or 0: roles})
    make_staff(db, username="outsider", roles={other.id or 0: [Role.REVIEWER, Role.CLERK]})
    db.commit()
    heads: dict[str, dict[str, str]] = {}

    def login() -> None:  # again after the clock moves past the tokens' life
        heads.update({name: bearer(client, name) for name in ("wy", "wg", "gc", "sh", "outsider")})
        heads.update({name: owner_bearer(client, outbox, phone) for name, phone in PHONES.items()})

    login()
    return {"c": f"/api/v1/compounds/{compound.id}", "h": heads, "clock": frozen_clock,
            "cid": compound.id, "login": login}


def _post(client: TestClient, w: dict[str, Any], path: str, who: str, body: Any = None,
          status: int = 200) -> Any:
    r = client.post(w["c"] + path, headers=w["h"][who], json=body)
    assert r.status_code == status, (path, who, r.status_code, r.text)
    return r.json()


def _get(client: TestClient, w: dict[str, Any], path: str, who: str, status: int = 200) -> Any:
    r = client.get(w["c"] + path, headers=w["h"][who])
    assert r.status_code == status, (path, who, r.status_code, r.text)
    return r.json()


def _upload(client: TestClient, w: dict[str, Any], who: str) -> int:
    r = client.post(w["c"] + "/files", headers=w["h"][who], data={"purpose": "attachment"},
                    files={"file": ("整改照片.png", io.BytesIO(PNG), "image/png")})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _quarter(data: dict[str, Any], n: int) -> dict[str, Any]:
    return data["quarters"][n - 1]


def test_quarterly_report_versions_and_acknowledgment(client: TestClient, world: dict[str, Any]) -> None:
    w = world
    # Clock: 2026-03-02. The second quarter has not begun.
    _post(client, w, "/quarterly-reports", "wg", {"year": 2026, "quarter": 2, "text": "报告"}, 422)
    doc = _upload(client, w, "wg")
    v1 = _post(client, w, "/quarterly-reports", "wg",
               {"year": 2026, "quarter": 1, "text": "一季度履行合同情况……", "file_ids": [doc]}, 201)
    assert (v1["version"], v1["file_ids"], v1["acknowledged"]) == (1, [doc], False)
    v2 = _post(client, w, "/quarterly-reports", "wg",
               {"year": 2026, "quarter": 1, "text": "一季度履行合同情况（更正：补充电梯维保）"}, 201)
    assert v2["version"] == 2
    # The first version is kept as it was: a correction never overwrites.
    q1 = _quarter(_get(client, w, "/quarterly-reports?year=2026", "sh"), 1)
    assert [v["version"] for v in q1["versions"]] == [2, 1]
    assert q1["versions"][1]["text"] == "一季度履行合同情况……" and q1["status_label"] == "已报告待签收"
    # Only the latest version is acknowledged, once, by the party organization.
    r = client.post(f"{w['c']}/quarterly-reports/{v1['id']}/acknowledge", headers=w["h"]["sh"],
                    json={"opinion": "收悉"})
    assert r.status_code == 409 and r.json()["error"] == "report_superseded"
    ack = _post(client, w, f"/quarterly-reports/{v2['id']}/acknowledge", "sh", {"opinion": "收悉，电梯维保要按月公示"})
    assert ack["acknowledged"] and ack["opinion"] == "收悉，电梯维保要按月公示"
    _post(client, w, f"/quarterly-reports/{v2['id']}/acknowledge", "sh", {"opinion": "再签"}, 409)
    q1 = _quarter(_get(client, w, "/quarterly-reports?year=2026", "wg"), 1)
    assert q1["status_label"] == "已签收" and q1["versions"][0]["acknowledged_at_text"]
    # The reviewer reads the attachment; an owner does not.
    assert client.get(f"{w['c']}/files/{doc}", headers=w["h"]["sh"]).status_code == 200
    assert client.get(f"{w['c']}/files/{doc}", headers=w["h"]["业主0"]).status_code == 404
    # Refusals: the committee does not file the company's report, the clerk does not
    # acknowledge, owners do not read the reports, another compound's staff reach nothing.
    _post(client, w, "/quarterly-reports", "wy", {"year": 2026, "quarter": 1, "text": "x"}, 403)
    _post(client, w, f"/quarterly-reports/{v2['id']}/acknowledge", "wg", {"opinion": "x"}, 403)
    _get(client, w, "/quarterly-reports", "业主0", 403)
    _post(client, w, f"/quarterly-reports/{v2['id']}/acknowledge", "outsider", {"opinion": "x"}, 403)


def test_quarterly_overdue_from_a_frozen_clock(client: TestClient, world: dict[str, Any], db: Session) -> None:
    w, clock = world, world["clock"]
    data = _get(client, w, "/quarterly-reports?year=2025", "sh")
    assert data["due_days"] == 15 and all(q["overdue"] for q in data["quarters"])
    # Q1 2026 ends 31 March: on time through 15 April (Beijing time), overdue from 16 April.
    clock.current = datetime(2026, 4, 15, 15, 59, tzinfo=UTC)  # 23:59 on 15 April in Beijing
    w["login"]()
    q1 = _quarter(_get(client, w, "/quarterly-reports?year=2026", "sh"), 1)
    assert (q1["overdue"], q1["due_on"], q1["status_label"]) == (False, "2026-04-15", "待报告")
    clock.current = datetime(2026, 4, 15, 16, 1, tzinfo=UTC)  # 00:01 on 16 April
    q1 = _quarter(_get(client, w, "/quarterly-reports?year=2026", "sh"), 1)
    assert q1["overdue"] and q1["status_label"] == "已逾期未报告"
    assert not _quarter(_get(client, w, "/quarterly-reports?year=2026", "sh"), 2)["overdue"]
    _post(client, w, "/quarterly-reports", "wg", {"year": 2026, "quarter": 1, "text": "迟交的报告"}, 201)
    q1 = _quarter(_get(client, w, "/quarterly-reports?year=2026", "sh"), 1)
    assert not q1["overdue"] and q1["status_label"] == "已报告待签收"
    assert db.execute(select(QuarterlyReport)).scalars().one().year == 2026


def _published_survey(client: TestClient, w: dict[str, Any]) -> dict[str, Any]:
    """The 2026 satisfaction survey: four flats 满意 on every item, one 不满意: 80.0%."""
    survey = _post(client, w, "/surveys", "wy", {
        "template_key": "property_satisfaction", "year": 2026,
        "opens_at": "2026-03-02T10:00:00+08:00", "closes_at": "2026-03-16T10:00:00+08:00"}, 201)
    sid = survey["id"]
    _post(client, w, f"/surveys/{sid}/open", "wy")
    for i in range(5):
        who = f"业主{i}"
        subject = _get(client, w, f"/surveys/{sid}/my-answers", who)["subjects"][0]["subject_id"]
        value = 1 if i == 0 else 3
        _post(client, w, f"/surveys/{sid}/answers", who, {
            "subject_id": subject, "answers": [{"question_id": q["id"], "value": value}
                                               for q in survey["questions"]]}, 201)
    _post(client, w, f"/surveys/{sid}/close", "wy")
    published = _post(client, w, f"/surveys/{sid}/publish", "wy")
    return published


def _scores(*values: int) -> dict[str, int]:
    keys = ("contract", "service", "repairs", "openness", "reporting")
    return dict(zip(keys, values, strict=True))


def test_appraisal_score_by_hand_publish_and_rectification(client: TestClient, world: dict[str, Any]) -> None:
    w, clock = world, world["clock"]
    # Before anything exists, the year has no appraisal.
    _get(client, w, "/appraisals/2026", "sh", 404)
    # The accounts: the committee files its own, the company (clerk) its own; a correction is v2.
    _post(client, w, "/appraisals/2026/accounts", "wy", {"text": "业委会年度述职"}, 201)
    _post(client, w, "/appraisals/2026/accounts", "wg", {"text": "物业年度述职"}, 201)
    out = _post(client, w, "/appraisals/2026/accounts", "wg", {"text": "物业年度述职（修订）"}, 201)
    assert [(a["party"], a["version"], a["latest"]) for a in out["accounts"]] == [
        ("committee", 1, True), ("company", 2, True), ("company", 1, False)]
    # Scores. The party organization changes its sheet once: the re-entry supersedes.
    _post(client, w, "/appraisals/2026/scores", "sh", {
        "appraiser_kind": "party", "appraiser_name": "社区党委", "scores": _scores(50, 50, 50, 50, 50)}, 201)
    _post(client, w, "/appraisals/2026/scores", "sh", {
        "appraiser_kind": "party", "appraiser_name": "社区党委", "scores": _scores(90, 85, 80, 95, 88)}, 201)
    _post(client, w, "/appraisals/2026/scores", "wy", {
        "appraiser_kind": "committee", "appraiser_name": "主任", "scores": _scores(80, 80, 80, 80, 80)}, 201)
    _post(client, w, "/appraisals/2026/scores", "wy", {
        "appraiser_kind": "committee", "appraiser_name": "委员", "scores": _scores(71, 75, 80, 85, 90)}, 201)
    _post(client, w, "/appraisals/2026/scores", "wy", {
        "appraiser_kind": "owner_rep", "appraiser_name": "业主代表甲", "scores": _scores(60, 70, 80, 90, 100)}, 201)
    out = _post(client, w, "/appraisals/2026/scores", "wy", {
        "appraiser_kind": "owner_rep", "appraiser_name": "业主代表乙", "scores": _scores(65, 65, 65, 65, 66)}, 201)
    # Without the year's published survey the owners' part is missing: no result yet.
    assert out["score"] is None and any("满意度调查" in m for m in out["missing"])
    r = client.post(w["c"] + "/appraisals/2026/publish", headers=w["h"]["sh"])
    assert r.status_code == 409 and r.json()["error"] == "appraisal_incomplete"
    assert _published_survey(client, w)["status"] == "published"
    # Rectification items, set by the party organization before publishing.
    late = _post(client, w, "/appraisals/2026/rectifications", "sh",
                 {"text": "电梯维保记录按月公示", "due_on": "2026-03-10"}, 201)
    item = _post(client, w, "/appraisals/2026/rectifications", "sh",
                 {"text": "地下车库照明修复", "due_on": "2026-04-30"}, 201)
    out = _get(client, w, "/appraisals/2026", "sh")
    # By hand: party (90+85+80+95+88)/5 = 87.6; committee (80.0 + 80.2)/2 = 80.1;
    # owner representatives (80.0 + 65.2)/2 = 72.6; owners: 4 of 5 satisfied on every item = 80.0.
    # 0.4×87.6 + 0.2×80.1 + 0.1×72.6 + 0.3×80.0 = 35.04 + 16.02 + 7.26 + 24.00 = 82.32 → 82.3, 合格.
    assert {x["kind"]: (x["weight_percent"], x["score"]) for x in out["weights"]} == {
        "party": (40, "87.6"), "committee": (20, "80.1"), "owner_rep": (10, "72.6"), "owners": (30, "80.0")}
    assert (out["score"], out["grade"], out["missing"]) == ("82.3", "合格", [])
    assert [g["grade"] + g["min_score"] for g in out["grade_rules"]] == ["优秀90.0", "合格60.0", "不合格0.0"]
    # Owners see nothing before publication.
    _get(client, w, "/appraisals/2026", "业主1", 404)
    assert _get(client, w, "/appraisals", "业主1") == []
    published = _post(client, w, "/appraisals/2026/publish", "sh")
    assert published["published"] and published["score"] == "82.3"
    _post(client, w, "/appraisals/2026/publish", "sh", None, 409)
    # Published: nothing more is scored or added.
    _post(client, w, "/appraisals/2026/scores", "wy", {
        "appraiser_kind": "committee", "appraiser_name": "主任", "scores": _scores(1, 1, 1, 1, 1)}, 409)
    _post(client, w, "/appraisals/2026/rectifications", "sh", {"text": "x", "due_on": "2026-05-01"}, 409)
    # The owner reads the result, the weights and the items, not the appraisers' sheets.
    mine = _get(client, w, "/appraisals/2026", "业主1")
    assert (mine["score"], mine["grade"], mine["scores"]) == ("82.3", "合格", [])
    assert [i["status_label"] for i in mine["rectifications"]] == ["整改中", "整改中"]
    assert _get(client, w, "/appraisals", "业主1")[0]["open_items"] == 2
    # Overdue: the first item's deadline passes (Beijing 11 March).
    clock.current = datetime(2026, 3, 10, 16, 30, tzinfo=UTC)
    w["login"]()
    items = {i["id"]: i for i in _get(client, w, "/appraisals/2026", "业主1")["rectifications"]}
    assert items[late["id"]]["overdue"] and not items[item["id"]]["overdue"]
    # The company reports done with evidence; the committee confirms.
    _post(client, w, f"/rectifications/{item['id']}/done", "wg", {"note": "已更换灯具", "file_ids": []}, 422)
    _post(client, w, f"/rectifications/{item['id']}/confirm", "wy", None, 409)
    photo = _upload(client, w, "wg")
    done = _post(client, w, f"/rectifications/{item['id']}/done", "wg",
                 {"note": "已更换灯具32盏", "file_ids": [photo]})
    assert done["status_label"] == "已整改待确认" and done["done_file_ids"] == [photo]
    assert client.get(f"{w['c']}/files/{photo}", headers=w["h"]["业主3"]).status_code == 200
    _post(client, w, f"/rectifications/{item['id']}/confirm", "wg", None, 403)
    closed = _post(client, w, f"/rectifications/{item['id']}/confirm", "wy")
    assert closed["status"] == "confirmed" and closed["confirmed_at_text"]
    mine = _get(client, w, "/appraisals/2026", "业主1")
    assert [i["status_label"] for i in mine["rectifications"]] == ["整改中", "已确认完成"]


def test_who_appraises_whom(client: TestClient, world: dict[str, Any], db: Session) -> None:
    w = world
    body = {"appraiser_kind": "party", "appraiser_name": "社区党委", "scores": _scores(9, 9, 9, 9, 9)}
    _post(client, w, "/appraisals/2026/scores", "wy", body, 403)  # the committee is not the party org
    _post(client, w, "/appraisals/2026/scores", "wg", body, 403)  # the company does not appraise itself
    _post(client, w, "/appraisals/2026/scores", "sh", {**body, "appraiser_kind": "committee"}, 403)
    _post(client, w, "/appraisals/2026/scores", "sh", {**body, "scores": {"contract": 9}}, 422)
    _post(client, w, "/appraisals/2026/scores", "sh", {**body, "scores": _scores(9, 9, 9, 9, 101)}, 422)
    _post(client, w, "/appraisals/2026/accounts", "sh", {"text": "x"}, 403)
    _post(client, w, "/appraisals/2026/accounts", "业主0", {"text": "x"}, 403)
    _post(client, w, "/appraisals/2026/publish", "wy", None, 403)
    _post(client, w, "/appraisals/2026/scores", "outsider", body, 403)
    _post(client, w, "/appraisals/2027/accounts", "wy", {"text": "明年的"}, 422)
    _post(client, w, "/appraisals/2026/scores", "sh", body, 201)
    codes = [e.action for e in db.execute(select(AuditEvent).where(
        AuditEvent.compound_id == w["cid"]).order_by(AuditEvent.id)).scalars()]
    assert codes[-1] == "appraisal.scored"
