"""Credit over HTTP: who may compute, publish and read a district's list (a street's supervisor
only over its own compounds), the XLSX, what owners and the committee see of their compound, and
the committee's prompt to the dismissal proposal in the procedure."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.clock import FrozenClock
from tests.credit.helpers import NAMES, PHONES, RED_CODE, District, build
from tests.factories import bearer, owner_bearer

API = "/api/v1"
PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def w(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> dict[str, Any]:
    d = build(db, frozen_clock)
    h = {who: bearer(client, f"cr_{who}") for who in ("wy", "wy2", "sh", "wg", "jd", "qu", "admin")}
    h["owner"] = owner_bearer(client, outbox, PHONES["业主2"])
    return {"d": d, "h": h}


def _get(client: TestClient, w: dict[str, Any], path: str, who: str, status: int = 200, **params: Any) -> Any:
    r = client.get(API + path, headers=w["h"][who], params=params)
    assert r.status_code == status, (path, who, r.status_code, r.text)
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r


def _post(client: TestClient, w: dict[str, Any], path: str, who: str, body: Any = None, status: int = 200) -> Any:
    r = client.post(API + path, headers=w["h"][who], json=body)
    assert r.status_code == status, (path, who, r.status_code, r.text)
    return r.json()


def _preview(client: TestClient, w: dict[str, Any], who: str = "qu", **extra: Any) -> Any:
    return _get(client, w, "/credit/preview", who, district="朝阳区", year=2025, quarter=4, **extra)


def _publish(client: TestClient, w: dict[str, Any], who: str = "qu", black: int = 62, **extra: Any) -> Any:
    digest = _preview(client, w, who)["digest"]
    return _post(client, w, "/credit/lists", who, {
        "district": "朝阳区", "year": 2025, "quarter": 4, "threshold_mode": "score", "red": 90, "black": black,
        "digest": digest, **extra}, status=201)


def test_a_supervisor_computes_over_its_own_compounds_only(client: TestClient, w: dict[str, Any]) -> None:
    d: District = w["d"]
    street = _get(client, w, "/credit/lists", "jd")
    assert street["districts"] == ["朝阳区"] and street["lists"] == []
    assert street["periods"][0] == {"year": 2025, "quarter": 4, "label": "2025年第4季度"}
    assert next(c["key"] for c in street["criteria"]) == "satisfaction"
    assert _get(client, w, "/credit/lists", "qu")["districts"] == ["朝阳区", "海淀区"]
    mine = _preview(client, w, "jd")
    assert [c["compound_id"] for c in mine["compounds"]] == [d.red]
    bureau = _preview(client, w, "qu", threshold_mode="score", red=90, black=62)
    assert [c["compound_id"] for c in bureau["compounds"]] == [d.red, d.green]
    assert [(c["company_name"], c["score"], c["rank"], c["place_label"]) for c in bureau["companies"]] == [
        ("绿城物业服务集团有限公司", "65.0", 1, "未上榜"), ("阳光物业服务有限公司", "61.1", 2, "黑榜")]
    red = next(c for c in bureau["compounds"] if c["compound_id"] == d.red)
    assert red["basis"]["total"] == "61.1"
    assert [(p["name"], p["points"]) for p in red["basis"]["points"]] == [
        ("业主满意度", "19.4"), ("年度述职评议", "16.2"), ("工单按期办结", "7.5"), ("工单群众评价", "8.0"),
        ("公共收益收支表公布", "0.0"), ("负面清单", "10.0")]
    assert bureau["thresholds_text"] == "红榜：得分90分及以上；黑榜：得分低于62分"
    # A district where the street supervises nothing; callers who supervise nothing at all.
    r = client.get(API + "/credit/preview", headers=w["h"]["jd"], params={"district": "海淀区", "year": 2025, "quarter": 4})
    assert (r.status_code, r.json()["error"]) == (403, "credit_district_forbidden")
    for who in ("wy", "owner"):
        r = client.get(API + "/credit/lists", headers=w["h"][who])
        assert (r.status_code, r.json()["error"]) == (403, "forbidden")
    r = client.get(API + "/credit/preview", headers=w["h"]["qu"], params={"district": "朝阳区", "year": 2026, "quarter": 1})
    assert (r.status_code, r.json()["error"]) == (422, "credit_period_not_ended")
    r = client.get(API + "/credit/preview", headers=w["h"]["qu"], params={
        "district": "朝阳区", "year": 2025, "quarter": 4, "threshold_mode": "score", "red": 50, "black": 60})
    assert (r.status_code, r.json()["error"]) == (422, "credit_thresholds_invalid")


def test_a_published_list_is_read_only_by_those_who_supervise_all_it_names(
        client: TestClient, w: dict[str, Any], db: Session) -> None:
    d: District = w["d"]
    listing = _publish(client, w)
    lid = listing["summary"]["id"]
    assert listing["summary"]["version"] == 1 and listing["summary"]["black_count"] == 1
    assert [a["compound_name"] for a in listing["assessments"]] == ["红旗小区", "绿园小区"]
    r = client.get(API + f"/credit/lists/{lid}", headers=w["h"]["jd"])  # 和平街道 does not supervise 绿园
    assert (r.status_code, r.json()["error"]) == (403, "credit_list_forbidden")
    assert _get(client, w, "/credit/lists", "jd")["lists"] == []
    assert _get(client, w, f"/credit/lists/{lid}", "admin")["summary"]["id"] == lid
    assert [x["id"] for x in _get(client, w, "/credit/lists", "qu")["lists"]] == [lid]
    assert client.get(API + "/credit/lists/987654", headers=w["h"]["qu"]).status_code == 404
    # The street publishes its own list over 红旗小区: it reads that one.
    own = _publish(client, w, who="jd")
    assert [x["id"] for x in _get(client, w, "/credit/lists", "jd")["lists"]] == [own["summary"]["id"]]
    # The platform administrator's list spans the district (every compound of it): the same
    # compounds as the bureau's, so publishing it again is a correction of that list.
    admin = _publish(client, w, who="admin", correction_reason="区住建委复核后重新发布")
    assert (admin["summary"]["compound_count"], admin["summary"]["version"]) == (2, 2)
    events = db.execute(select(AuditEvent).where(AuditEvent.compound_id == d.red,
                                                 AuditEvent.action == "credit.list_published")
                        .order_by(AuditEvent.seq)).scalars().all()
    assert [e.actor_role for e in events] == ["supervisor", "supervisor", "platform_admin"]
    db.rollback()


def test_the_list_as_a_workbook(client: TestClient, w: dict[str, Any]) -> None:
    lid = _publish(client, w)["summary"]["id"]
    r = client.get(API + f"/credit/lists/{lid}", headers=w["h"]["qu"], params={"format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames == ["红黑榜", "评分依据", "评价标准"]
    rows = [list(row) for row in book["红黑榜"].iter_rows(values_only=True)]
    assert rows[0][0] == "朝阳区2025年第4季度物业服务企业红黑榜（第1版）"
    assert [2, "阳光物业服务有限公司", RED_CODE, "61.1", "黑榜", 1] in rows
    basis = [list(row) for row in book["评分依据"].iter_rows(values_only=True)]
    assert len(basis) == 1 + 2 * 6
    assert any(row[0] == "红旗小区" and row[5] == "负面清单" and "擅自占用消防通道" in row[10] for row in basis[1:])


def test_publishing_checks_the_digest_and_asks_a_reason_to_correct(client: TestClient, w: dict[str, Any]) -> None:
    body = {"district": "朝阳区", "year": 2025, "quarter": 4, "threshold_mode": "rank", "red": 1, "black": 1,
            "digest": "0" * 64}
    r = client.post(API + "/credit/lists", headers=w["h"]["qu"], json=body)
    assert (r.status_code, r.json()["error"]) == (409, "credit_inputs_changed")
    _publish(client, w)
    r = client.post(API + "/credit/lists", headers=w["h"]["qu"], json={**body, "digest": _preview(client, w)["digest"]})
    assert (r.status_code, r.json()["error"]) == (422, "credit_correction_reason_required")
    second = _publish(client, w, black=60, correction_reason="按区住建委通知调整黑榜线")
    assert (second["summary"]["version"], second["summary"]["correction_reason"]) == (2, "按区住建委通知调整黑榜线")
    first = _get(client, w, f"/credit/lists/{second['summary']['id'] - 1}", "qu")
    assert first["superseded_by"] == second["summary"]["id"] and first["summary"]["superseded"]


def test_owners_see_their_company_its_place_and_the_basis_without_personal_data(
        client: TestClient, w: dict[str, Any]) -> None:
    d: District = w["d"]
    before = _get(client, w, f"/compounds/{d.red}/credit", "owner")
    assert before["company"]["name"] == "阳光物业服务有限公司" and before["latest"] is None
    _publish(client, w)
    r = client.get(API + f"/compounds/{d.red}/credit", headers=w["h"]["owner"])
    view = r.json()
    assert view["latest"]["entry"]["place_label"] == "黑榜" and view["latest"]["compound_score"] == "61.1"
    assert view["latest"]["listing"]["period_label"] == "2025年第4季度"
    assert [e["company_name"] for e in view["latest"]["entries"]] == ["绿城物业服务集团有限公司", "阳光物业服务有限公司"]
    assert len(view["latest"]["basis"]["points"]) == 6 and len(view["criteria"]) == 6
    assert set(PHONE.findall(r.text)) == set()
    assert not any(name in r.text for name in NAMES)
    # The committee's prompt and the supervisor's findings are not the owners'.
    for path in ("/dismissal-prompt", "/findings"):
        assert client.get(API + f"/compounds/{d.red}/credit{path}", headers=w["h"]["owner"]).status_code == 403


def test_the_committee_records_its_company(client: TestClient, w: dict[str, Any]) -> None:
    d: District = w["d"]
    r = client.post(API + f"/compounds/{d.red}/credit/company", headers=w["h"]["wy"], json={
        "name": "新城物业", "credit_code": "91350100M000100Y44", "contract_starts_on": "2026-02-01"})
    assert (r.status_code, r.json()["error"]) == (422, "credit_code_invalid")
    assert "校验位" in r.json()["detail"]
    made = _post(client, w, f"/compounds/{d.red}/credit/company", "wy", {
        "name": "新城物业", "credit_code": "91110000802100433B", "contract_starts_on": "2026-02-01",
        "note": "业主大会选聘"}, status=201)
    assert (made["name"], made["contract_text"]) == ("新城物业", "2026年2月1日至未约定")
    view = _get(client, w, f"/compounds/{d.red}/credit", "wy")
    assert [h["name"] for h in view["history"]] == ["新城物业", "阳光物业服务有限公司"]
    assert client.post(API + f"/compounds/{d.red}/credit/company", headers=w["h"]["wg"], json={
        "name": "x", "credit_code": RED_CODE, "contract_starts_on": "2026-02-01"}).status_code == 403


def test_findings_by_the_supervisor_of_the_compound(client: TestClient, w: dict[str, Any]) -> None:
    d: District = w["d"]
    made = _post(client, w, f"/compounds/{d.red}/credit/findings", "jd",
                 {"found_on": "2026-01-09", "text": "电梯维保记录缺失"}, status=201)
    assert made["company_name"] == "阳光物业服务有限公司" and not made["withdrawn"]
    r = client.post(API + f"/compounds/{d.green}/credit/findings", headers=w["h"]["jd"],
                    json={"found_on": "2026-01-09", "text": "x"})
    assert (r.status_code, r.json()["error"]) == (403, "forbidden_compound_role")
    listed = _get(client, w, f"/compounds/{d.red}/credit/findings", "wy")
    assert [f["text"] for f in listed] == ["电梯维保记录缺失", "擅自占用消防通道停放车辆"]
    gone = _post(client, w, f"/compounds/{d.red}/credit/findings/{made['id']}/withdraw", "jd", {"reason": "重复登记"})
    assert gone["withdrawn"] and gone["withdraw_reason"] == "重复登记"
    assert client.post(API + f"/compounds/{d.red}/credit/findings", headers=w["h"]["wy"],
                       json={"found_on": "2026-01-09", "text": "x"}).status_code == 403


def test_the_committee_is_prompted_and_proposes_the_dismissal(client: TestClient, w: dict[str, Any],
                                                              db: Session) -> None:
    d: District = w["d"]
    url = f"/compounds/{d.red}/credit/dismissal-prompt"
    assert _get(client, w, url, "wy")["show"] is False
    _publish(client, w)
    prompt = _get(client, w, url, "wy")
    assert prompt["show"] and prompt["unrecorded"] == 1 and prompt["company_score"] == "61.1"
    assert [(c["text"], c["due_on_text"], c["status"]) for c in prompt["causes"]] == [
        ("修复地下车库照明", "2025年12月15日", "open")]
    assert prompt["proposal_title"] == "解聘物业服务企业：阳光物业服务有限公司"
    assert not prompt["procedure_adopted"]
    shown = _post(client, w, url + "/shown", "wy")
    assert shown["unrecorded"] == 0 and shown["causes"][0]["recorded"]
    _post(client, w, url + "/shown", "wy")
    _get(client, w, url, "wy2", status=403)  # another compound's committee
    r = client.post(API + url + "/proposal", headers=w["h"]["wy"],
                    json={"title": prompt["proposal_title"], "text": prompt["proposal_text"]})
    assert (r.status_code, r.json()["error"]) == (409, "procedure_not_adopted")
    r = client.put(API + f"/compounds/{d.red}/procedures/settings", headers=w["h"]["wy"],
                   json={"template_key": "sanyi_yishen"})
    assert r.status_code == 200, r.text
    done = _post(client, w, url + "/proposal", "wy",
                 {"title": prompt["proposal_title"], "text": prompt["proposal_text"] + "\n补充：附整改台账。"},
                 status=201)
    assert not done["show"] and done["draft"]["current_step_name"] == "商议"
    assert done["causes"][0]["status"] == "proposed"
    item = _get(client, w, f"/compounds/{d.red}/procedures/items/{done['draft']['id']}", "wy")
    assert item["matter_type"] == "property_manager" and item["category"] == "4"
    assert item["current_step"]["key"] == "consult"
    # The party organization reviews it like any other major matter; owners do not see it yet.
    assert done["draft"]["id"] not in {i["id"] for i in _get(client, w, f"/compounds/{d.red}/procedures/items", "owner")}
    actions = [e.action for e in db.execute(select(AuditEvent).where(AuditEvent.compound_id == d.red)
                                            .order_by(AuditEvent.seq)).scalars()]
    db.rollback()
    assert actions.count("credit.dismissal_prompted") == 1
    assert actions[-3:] == ["procedure.version_submitted", "procedure.step_recorded", "credit.dismissal_proposed"]


def test_the_committee_may_set_the_prompt_aside_with_a_reason(client: TestClient, w: dict[str, Any]) -> None:
    d: District = w["d"]
    url = f"/compounds/{d.red}/credit/dismissal-prompt"
    _publish(client, w)
    r = client.post(API + url + "/dismiss", headers=w["h"]["admin"], json={"reason": "x"})
    assert r.status_code == 403  # the platform may see it, only committee members act on it
    after = _post(client, w, url + "/dismiss", "wy", {"reason": "物业已承诺1月底前完成，下月复核"})
    assert not after["show"] and after["causes"][0]["status"] == "dismissed"
    assert after["causes"][0]["dismiss_reason"] == "物业已承诺1月底前完成，下月复核"
    r = client.post(API + url + "/dismiss", headers=w["h"]["wy"], json={"reason": "again"})
    assert (r.status_code, r.json()["error"]) == (409, "no_dismissal_prompt")
