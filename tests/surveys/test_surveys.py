"""Surveys over HTTP: one answer per voting subject (changeable until the close), the 5-answer
floor in every view, the period, who may do what, and nothing that ties an answer to a flat."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clock import FrozenClock
from app.surveys.models import SurveyParticipation, SurveyResponse
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

PHONES = {f"业主{i}": f"1390000{i:04d}" for i in range(8)}
OPENS = "2026-03-02T10:00:00+08:00"  # the frozen clock's moment
CLOSES = "2026-03-16T10:00:00+08:00"


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> dict[str, Any]:
    compound = make_compound(db)
    other = make_compound(db, name="别的小区")
    # Seven flats of one owner each, and one flat of two co-owners (业主6 represents it).
    units = [UnitSpec("1栋", f"{i + 1}01", 9000, [f"业主{i}"]) for i in range(6)]
    units.append(UnitSpec("2栋", "101", 9000, ["业主6", "业主7"]))
    add_roster(db, compound, units, phones=PHONES)
    add_roster(db, other, [UnitSpec("9栋", "101", 9000, ["外人"])], phones={"外人": "13911112222"})
    for name, roles in (("wy", [Role.COMMITTEE]), ("wg", [Role.CLERK]), ("gc", [Role.OBSERVER]),
                        ("sh", [Role.REVIEWER])):
        make_staff(db, username=name, roles={compound.id or 0: roles})
    make_staff(db, username="outsider", roles={other.id or 0: [Role.COMMITTEE]})
    db.commit()
    base = f"/api/v1/compounds/{compound.id}/surveys"
    heads = {name: bearer(client, name) for name in ("wy", "wg", "gc", "sh", "outsider")}
    heads.update({name: owner_bearer(client, outbox, phone) for name, phone in PHONES.items()})
    heads["外人"] = owner_bearer(client, outbox, "13911112222")
    return {"base": base, "h": heads, "cid": compound.id, "clock": frozen_clock}


def _create(client: TestClient, w: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = client.post(w["base"], headers=w["h"]["wy"], json={
        "template_key": "property_satisfaction", "year": 2026, "opens_at": OPENS,
        "closes_at": CLOSES, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _subject(client: TestClient, w: dict[str, Any], sid: int, who: str) -> int:
    r = client.get(f"{w['base']}/{sid}/my-answers", headers=w["h"][who])
    assert r.status_code == 200, r.text
    return r.json()["subjects"][0]["subject_id"]


def _answer(client: TestClient, w: dict[str, Any], survey: dict[str, Any], who: str,
            values: list[int], comment: str = "", subject_id: int | None = None):  # type: ignore[no-untyped-def]
    sid = survey["id"]
    subject = subject_id if subject_id is not None else _subject(client, w, sid, who)
    return client.post(f"{w['base']}/{sid}/answers", headers=w["h"][who], json={
        "subject_id": subject, "comment": comment,
        "answers": [{"question_id": q["id"], "value": v}
                    for q, v in zip(survey["questions"], values, strict=True)]})


def test_one_step_from_the_template(client: TestClient, world: dict[str, Any]) -> None:
    templates = client.get(world["base"] + "/templates", headers=world["h"]["wy"]).json()
    assert templates[0]["key"] == "property_satisfaction" and "四（三）" in templates[0]["clause"]
    survey = _create(client, world)
    assert survey["title"] == "2026年度物业服务满意度调查" and survey["status"] == "draft"
    assert [q["text"][:4] for q in survey["questions"]][:2] == ["清洁卫生", "公共秩序"]
    assert [o["label"] for o in survey["questions"][0]["options"]] == ["满意", "基本满意", "不满意"]
    assert survey["period_text"] == "2026年3月2日 10:00 至 2026年3月16日 10:00"
    # A draft is the committee's: owners and the property company do not see it.
    assert client.get(world["base"], headers=world["h"]["业主0"]).json() == []
    r = client.get(f"{world['base']}/{survey['id']}", headers=world["h"]["wg"])
    assert r.status_code == 404


def test_one_answer_per_subject_and_changing_it(client: TestClient, world: dict[str, Any],
                                                db: Session) -> None:
    survey = _create(client, world)
    sid = survey["id"]
    n = len(survey["questions"])
    assert client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"]).status_code == 200
    r = _answer(client, world, survey, "业主0", [3] * n, "保洁不错")
    assert r.status_code == 201 and r.json()["revised"] is False, r.text
    r = _answer(client, world, survey, "业主0", [1] * n, "改主意了")
    assert r.status_code == 201 and r.json()["revised"] is True
    mine = client.get(f"{world['base']}/{sid}/my-answers", headers=world["h"]["业主0"]).json()
    assert mine["subjects"][0]["answered"] and set(mine["subjects"][0]["answers"].values()) == {1}
    assert mine["subjects"][0]["comment"] == "改主意了"
    # The co-owned flat: its representative answers, the other co-owner may not.
    subject = _subject(client, world, sid, "业主6")
    assert _answer(client, world, survey, "业主7", [3] * n, subject_id=subject).status_code == 403
    assert client.get(f"{world['base']}/{sid}/my-answers",
                      headers=world["h"]["业主7"]).json()["subjects"] == []
    assert _answer(client, world, survey, "业主6", [3] * n).status_code == 201
    # Nor for someone else's flat.
    r = _answer(client, world, survey, "业主1", [3] * n, subject_id=subject)
    assert r.status_code == 403 and r.json()["error"] == "not_a_voter_for_subject"
    db.rollback()
    assert db.execute(select(func.count()).select_from(SurveyParticipation)).scalar_one() == 2
    responses = list(db.execute(select(SurveyResponse)).scalars())
    assert sorted(r.superseded for r in responses) == [False, False, True]  # kept, superseded
    got = client.get(f"{world['base']}/{sid}", headers=world["h"]["wy"]).json()
    assert got["response_count"] == 2


def test_answers_only_within_the_period(client: TestClient, world: dict[str, Any],
                                        outbox: Any) -> None:
    clock: FrozenClock = world["clock"]

    def later(**delta: float) -> None:
        clock.advance(**delta)  # sessions expire meanwhile: sign in again
        world["h"]["业主0"] = owner_bearer(client, outbox, PHONES["业主0"])
        world["h"]["wy"] = bearer(client, "wy")

    survey = _create(client, world, opens_at="2026-03-05T10:00:00+08:00")
    sid, n = survey["id"], len(survey["questions"])
    r = _answer(client, world, survey, "业主0", [3] * n, subject_id=1)
    assert r.status_code == 404  # a draft: owners do not see it
    client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"])
    r = _answer(client, world, survey, "业主0", [3] * n)
    assert r.status_code == 409 and r.json()["error"] == "survey_not_open"  # period not begun
    later(days=3)
    assert _answer(client, world, survey, "业主0", [3] * n).status_code == 201
    later(days=11)  # 16 March 10:00: the period is over
    assert _answer(client, world, survey, "业主0", [2] * n).status_code == 409
    client.post(f"{world['base']}/{sid}/close", headers=world["h"]["wy"])
    assert _answer(client, world, survey, "业主0", [2] * n).status_code == 409


def test_fewer_than_five_answers_publish_nothing(client: TestClient, world: dict[str, Any]) -> None:
    survey = _create(client, world)
    sid, n = survey["id"], len(survey["questions"])
    client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"])
    for who in ("业主0", "业主1", "业主2", "业主3"):
        assert _answer(client, world, survey, who, [1] * n, "电梯常坏").status_code == 201
    # While open: the committee sees the count, nobody sees results.
    assert client.get(f"{world['base']}/{sid}", headers=world["h"]["wy"]).json()["response_count"] == 4
    r = client.get(f"{world['base']}/{sid}/results", headers=world["h"]["wy"])
    assert r.status_code == 409 and r.json()["error"] == "survey_results_not_ready"
    client.post(f"{world['base']}/{sid}/close", headers=world["h"]["wy"])
    assert client.post(f"{world['base']}/{sid}/publish", headers=world["h"]["wy"]).status_code == 200
    for who in ("业主0", "wg", "gc", "wy"):
        res = client.get(f"{world['base']}/{sid}/results", headers=world["h"][who]).json()
        assert res["published"] is False and res["rate_tenths"] is None
        assert res["rate_text"] == "答卷不足5份，不公布" and res["comments"] == []
        assert all(not i["published"] and i["shares"] == [] and i["answers"] == 0 for i in res["items"])
        assert "电梯常坏" not in str(res)
        assert res["series"] == [{"survey_id": sid, "year": 2026, "responses": 4,
                                  "rate_tenths": None, "rate_text": "答卷不足5份，不公布"}]


def test_results_by_hand_and_year_over_year(client: TestClient, world: dict[str, Any]) -> None:
    n = 8
    past = _create(client, world, year=2025)
    client.post(f"{world['base']}/{past['id']}/open", headers=world["h"]["wy"])
    for who in ("业主0", "业主1", "业主2", "业主3", "业主4"):
        _answer(client, world, past, who, [3] * 4 + [1] * 4)
    for action in ("close", "publish"):
        client.post(f"{world['base']}/{past['id']}/{action}", headers=world["h"]["wy"])

    survey = _create(client, world)
    sid = survey["id"]
    client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"])
    # Item 1 (清洁卫生): 满意 ×3, 基本满意 ×2, 不满意 ×1 → 5/6 = 83.3%; every other item: 满意 ×6.
    plan = {"业主0": 3, "业主1": 3, "业主2": 3, "业主3": 2, "业主4": 2, "业主5": 1}
    for who, first in plan.items():
        assert _answer(client, world, survey, who, [first] + [3] * (n - 1),
                       f"{who}的意见").status_code == 201
    client.post(f"{world['base']}/{sid}/close", headers=world["h"]["wy"])
    # Closed, not published: the committee and the overseers check; owners and the company wait.
    assert client.get(f"{world['base']}/{sid}/results", headers=world["h"]["gc"]).status_code == 200
    assert client.get(f"{world['base']}/{sid}/results", headers=world["h"]["业主0"]).status_code == 409
    assert client.get(f"{world['base']}/{sid}/results", headers=world["h"]["wg"]).status_code == 404
    client.post(f"{world['base']}/{sid}/publish", headers=world["h"]["wy"])
    res = client.get(f"{world['base']}/{sid}/results", headers=world["h"]["wg"]).json()
    first = res["items"][0]
    assert (first["satisfied"], first["answers"], first["rate_tenths"], first["rate_text"]) == (
        5, 6, 833, "83.3%")
    assert first["meets_standard"] is False
    assert [(s["label"], s["count"]) for s in first["shares"]] == [("满意", 3), ("基本满意", 2), ("不满意", 1)]
    # Overall: (5 + 7 × 6) / (8 × 6) = 47/48 = 97.9%.
    assert (res["rate_tenths"], res["rate_text"], res["meets_standard"]) == (979, "97.9%", True)
    assert res["standard_percent"] == 90 and "基本满意" in res["definition"]
    assert sorted(res["comments"]) == sorted(f"{who}的意见" for who in plan)
    # 2025: (4 × 5) / (8 × 5) = 50.0%; 2026: 97.9%.
    assert [(p["year"], p["rate_tenths"]) for p in res["series"]] == [(2025, 500), (2026, 979)]
    # Nothing in the results names a flat.
    assert "1栋" not in str(res) and "subject" not in str(res)


def test_the_trail_records_no_choice_and_no_one(client: TestClient, world: dict[str, Any],
                                               db: Session) -> None:
    survey = _create(client, world)
    sid, n = survey["id"], len(survey["questions"])
    client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"])
    _answer(client, world, survey, "业主0", [1] * n, "秘密意见")
    db.rollback()
    events = list(db.execute(select(AuditEvent).where(AuditEvent.compound_id == world["cid"],
                                                      AuditEvent.object_type == "survey")).scalars())
    assert [e.action for e in events] == ["survey.created", "survey.opened", "survey.answer_recorded"]
    recorded = events[-1]
    assert recorded.actor_user_id is None and recorded.actor_role == "owner"
    assert "秘密意见" not in recorded.payload and "subject" not in recorded.payload
    # The response row holds no subject id and no time.
    columns = set(SurveyResponse.__table__.columns.keys())
    assert columns == {"id", "compound_id", "survey_id", "subject_digest", "comment", "superseded"}


def test_outsiders_and_other_compounds_are_refused(client: TestClient, world: dict[str, Any]) -> None:
    survey = _create(client, world)
    sid, n = survey["id"], len(survey["questions"])
    client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"])
    # The other compound's committee and owner: refused in this compound.
    for who in ("outsider", "外人"):
        assert client.get(world["base"], headers=world["h"][who]).status_code == 403
        assert _answer(client, world, survey, who, [3] * n, subject_id=1).status_code == 403
    # Only the committee runs surveys.
    for who in ("wg", "gc", "sh", "业主0"):
        assert client.post(f"{world['base']}/{sid}/close", headers=world["h"][who]).status_code == 403
    # Staff do not answer.
    assert _answer(client, world, survey, "wy", [3] * n, subject_id=1).status_code == 403
    # The survey under another compound's path: not found.
    other = world["base"].replace(f"/compounds/{world['cid']}/", f"/compounds/{world['cid'] + 1}/")
    assert client.get(f"{other}/{sid}", headers=world["h"]["outsider"]).status_code == 404
    # Before its period ends the committee may close early: the trail says so.
    r = client.post(f"{world['base']}/{sid}/close", headers=world["h"]["wy"])
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert client.post(f"{world['base']}/{sid}/open", headers=world["h"]["wy"]).status_code == 409


def test_a_period_must_end_after_it_starts(client: TestClient, world: dict[str, Any]) -> None:
    r = client.post(world["base"], headers=world["h"]["wy"], json={
        "template_key": "property_satisfaction", "year": 2026, "opens_at": CLOSES, "closes_at": OPENS})
    assert r.status_code == 422 and r.json()["error"] == "survey_period_invalid"
    r = client.post(world["base"], headers=world["h"]["wy"], json={
        "title": "停车意见", "year": 2026, "opens_at": OPENS, "closes_at": CLOSES,
        "questions": [{"text": "停车管理", "scale": "points"}]})
    assert r.status_code == 201 and r.json()["questions"][0]["options"][0]["label"] == "5分"
