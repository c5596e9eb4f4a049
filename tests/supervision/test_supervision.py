"""属地监管: the supervision screen across the compounds a supervisor is granted (seeds 002, 004)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.audit.service import Actor
from app.auth.models import Role
from app.clock import FrozenClock
from app.ledger import service as ledger_service
from app.surveys import service as survey_service
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

URL = "/api/v1/supervision"
# Twenty flats of 100.00 m² each, one owner each with a phone.
NAMES = [f"P{i:02d}" for i in range(1, 21)]
PHONES = {name: f"1390000{i:04d}" for i, name in enumerate(NAMES, start=1)}
ROSTER = [UnitSpec("1栋", f"{i:03d}", 10000, [name]) for i, name in enumerate(NAMES, start=101)]


def _grant(client: TestClient, admin: dict[str, str], compound_id: int, user_id: int) -> None:
    r = client.post(f"/api/v1/compounds/{compound_id}/grants", headers=admin,
                    json={"user_id": user_id, "role": "supervisor", "organization": "幸福街道办事处"})
    assert r.status_code == 201, r.text


def _rows(client: TestClient, headers: dict[str, str]) -> dict[int, dict]:
    r = client.get(URL, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["satisfaction_line_tenths"] == 900
    return {row["compound_id"]: row for row in r.json()["rows"]}


def _busy_compound(client: TestClient, db: Session, outbox, clock: FrozenClock) -> int:  # type: ignore[no-untyped-def]
    """A compound with a running ballot (3 of 20 flats voted), a ledger started on 1 October
    2025 with no statement published (the 2025 Q4 one was due on 30 January 2026), a published
    satisfaction survey at 17/20 = 85.0%, and one work order never dispatched."""
    compound = make_compound(db, name="红旗小区")
    cid = compound.id
    assert cid is not None
    add_roster(db, compound, ROSTER, phones=PHONES)
    committee_user = make_staff(db, username="sv_wy", roles={cid: [Role.COMMITTEE]})
    db.commit()
    actor = Actor(user_id=committee_user.id or 0, role="committee")
    committee = bearer(client, "sv_wy")
    url = f"/api/v1/compounds/{cid}"

    ledger_service.update_settings(db, compound_id=cid, changes={"starts_on": date(2025, 10, 1)}, actor=actor)
    db.commit()

    start = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) - timedelta(hours=8)  # 17 Mar 00:00 Shanghai
    r = client.post(url + "/ballots", headers=committee, json={
        "title": "2026年第一次业主大会", "description": "请各位业主按时参加表决。",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(days=7)).isoformat(),
        "matters": [{"title": "调整物业服务收费标准", "category": "9"}]})
    assert r.status_code == 201, r.text
    ballot = r.json()
    r = client.post(url + f"/ballots/{ballot['id']}/notice", json={}, headers=committee)
    assert r.status_code == 200, r.text

    reporter = owner_bearer(client, outbox, PHONES["P20"])
    r = client.post(url + "/work-orders", headers=reporter,
                    json={"category": "repair", "text": "楼道灯不亮", "location": "1栋"})
    assert r.status_code == 201, r.text

    survey = survey_service.create_survey(
        db, compound_id=cid, actor=actor, year=2026, opens_at=clock.current + timedelta(hours=1),
        closes_at=clock.current + timedelta(days=10), template_key="property_satisfaction")
    survey_service.open_survey(db, compound_id=cid, survey_id=survey.id or 0, actor=actor)
    clock.current += timedelta(hours=2)
    questions = survey_service.questions_of(db, survey=survey)
    for i, name in enumerate(NAMES):
        subject = survey_service.answering_subjects(db, compound_id=cid, phone=PHONES[name])[0]
        value = 1 if i < 3 else 3  # three 不满意 on every item, seventeen 满意
        survey_service.submit_answer(db, compound_id=cid, survey_id=survey.id or 0, phone=PHONES[name],
                                     subject_id=subject.subject_id,
                                     answers={q.id or 0: value for q in questions}, comment="")
    clock.current = datetime(2026, 3, 13, 2, 0, tzinfo=UTC)
    survey_service.close_survey(db, compound_id=cid, survey_id=survey.id or 0, actor=actor)
    survey_service.publish_survey(db, compound_id=cid, survey_id=survey.id or 0, actor=actor)
    db.commit()

    clock.current = start + timedelta(hours=1)
    committee = bearer(client, "sv_wy")
    r = client.post(url + f"/ballots/{ballot['id']}/open", headers=committee)
    assert r.status_code == 200, r.text
    for name in NAMES[:3]:
        voter = owner_bearer(client, outbox, PHONES[name])
        detail = client.get(url + f"/ballots/{ballot['id']}", headers=voter).json()
        sid = detail["my_subjects"][0]["subject_id"]
        choices = {str(detail["matters"][0]["id"]): "agree"}
        r = client.post(url + f"/ballots/{ballot['id']}/votes", headers=voter,
                        json={"subject_id": sid, "choices": choices})
        assert r.status_code in (200, 201), r.text
    return cid


def test_supervisor_sees_exactly_the_granted_compounds_with_hand_computed_figures(
    client: TestClient, db: Session, outbox, frozen_clock: FrozenClock  # type: ignore[no-untyped-def]
) -> None:
    busy = _busy_compound(client, db, outbox, frozen_clock)
    quiet = make_compound(db, name="绿园小区").id
    other = make_compound(db, name="东方小区").id
    supervisor = make_staff(db, username="sv_jd")
    make_staff(db, username="sv_admin", platform_admin=True)
    db.commit()
    admin = bearer(client, "sv_admin")
    _grant(client, admin, busy, supervisor.id or 0)
    _grant(client, admin, quiet or 0, supervisor.id or 0)

    rows = _rows(client, bearer(client, "sv_jd"))
    assert set(rows) == {busy, quiet}  # not `other`

    row = rows[busy]
    assert row["compound_name"].startswith("红旗小区")
    assert row["reviews_pending"] == 0 and row["oldest_review_days"] is None
    # One ballot open, 3 of 20 flats (300.00 of 2,000.00 m²) voted: 15.0% against the 2/3 quorum.
    assert row["ballots_running"] == 1
    assert row["turnout_area_tenths"] == 150 and row["turnout_headcount_tenths"] == 150
    assert row["quorum_met"] is False and row["quorum_percent"]
    # Ledger from 1 Oct 2025: the 2025 Q4 statement was due on 30 Jan 2026 and is not published.
    assert row["ledger_started"] is True
    assert row["statements_missing"] == 1 and row["statements_overdue"] == 1
    # 17 of 20 satisfied on every item: 85.0%, below the 90% line.
    assert row["satisfaction_year"] == 2026 and row["satisfaction_tenths"] == 850
    assert row["satisfaction_below_line"] is True
    # The order reported on 2 March was never dispatched (24 hours): open and overdue.
    assert row["work_orders_open"] == 1 and row["work_orders_overdue"] == 1
    assert row["work_orders_average_hours"] is None
    assert row["appraisal_year"] is None and row["rectifications_open"] == 0
    # No personal data: no name or phone of any owner anywhere in the answer.
    text = client.get(URL, headers=bearer(client, "sv_jd")).text
    assert not any(p in text for p in PHONES.values()) and "楼道灯" not in text

    blank = rows[quiet]
    assert blank["ballots_running"] == 0 and blank["turnout_area_tenths"] is None
    assert blank["ledger_started"] is False and blank["statements_overdue"] == 0
    assert blank["satisfaction_tenths"] is None and blank["satisfaction_below_line"] is None

    # The platform administrator sees every compound.
    assert set(_rows(client, admin)) == {busy, quiet, other}

    # A revoked grant takes the compound off the screen.
    grants = client.get(f"/api/v1/compounds/{quiet}/grants", headers=admin).json()
    grant_id = next(g["id"] for g in grants if g["user_id"] == supervisor.id and g["role"] == "supervisor")
    r = client.delete(f"/api/v1/compounds/{quiet}/grants/{grant_id}", headers=admin)
    assert r.status_code in (200, 204), r.text
    assert set(_rows(client, bearer(client, "sv_jd"))) == {busy}


def test_xlsx_export_has_one_row_per_compound(
    client: TestClient, db: Session, outbox, frozen_clock: FrozenClock  # type: ignore[no-untyped-def]
) -> None:
    busy = _busy_compound(client, db, outbox, frozen_clock)
    # A name that looks like a formula and carries a control character (stored text can: the API
    # fuzzer made one) is written as plain text, the control character dropped.
    quiet = make_compound(db, name="=HYPERLINK(\"x\")\x1a").id
    supervisor = make_staff(db, username="sv_jd", roles={busy: [Role.SUPERVISOR], quiet or 0: [Role.SUPERVISOR]})
    db.commit()
    assert supervisor.id
    r = client.get(URL, params={"format": "xlsx"}, headers=bearer(client, "sv_jd"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in ws[2]]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert len(body) == 2
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    hq = next(v for k, v in by_name.items() if k.startswith("红旗小区"))
    assert float(hq["满意度（%）"]) == 85.0 and hq["低于90%"] == "是"
    assert hq["逾期未公布（季度）"] == 1 and hq["进行中的表决"] == 1
    assert float(hq["参与面积（%）"]) == 15.0
    # A compound name that looks like a formula is written as text, never as a formula.
    formula_like = [row[0] for row in ws.iter_rows(min_row=3) if str(row[0].value).startswith("=")]
    assert len(formula_like) == 1 and formula_like[0].data_type == "s"
    assert "\x1a" not in str(formula_like[0].value) and str(formula_like[0].value).startswith("=HYPERLINK")


def test_owner_committee_and_other_staff_are_refused(
    client: TestClient, db: Session, outbox, frozen_clock: FrozenClock  # type: ignore[no-untyped-def]
) -> None:
    compound = make_compound(db)
    cid = compound.id or 0
    add_roster(db, compound, ROSTER[:1], phones={"P01": PHONES["P01"]})
    make_staff(db, username="sv_wy", roles={cid: [Role.COMMITTEE, Role.REVIEWER, Role.CLERK, Role.OBSERVER,
                                                  Role.GRID_WORKER]})
    make_staff(db, username="sv_jd", roles={cid: [Role.SUPERVISOR]})
    db.commit()
    for headers in (bearer(client, "sv_wy"), owner_bearer(client, outbox, PHONES["P01"])):
        for params in ({}, {"format": "xlsx"}):
            r = client.get(URL, params=params, headers=headers)
            assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert client.get(URL).status_code == 401
    # A supervisor has no other power in the compound: not its page, nor its roster.
    jd = bearer(client, "sv_jd")
    assert client.get(f"/api/v1/compounds/{cid}", headers=jd).status_code == 403
    assert client.get(f"/api/v1/compounds/{cid}/roster/summary", headers=jd).status_code == 403
    me = client.get("/api/v1/auth/me", headers=jd).json()
    assert me["compounds"][0]["capabilities"] == ["supervise"]

