"""Roster import over HTTP: upload, preview, apply, template, permissions and error shapes."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.auth.models import Role
from app.auth.sender import MemorySender
from app.roster.importer import COLUMNS
from tests.factories import bearer, make_compound, make_staff, owner_bearer
from tests.roster.test_import import BASE, csv_bytes, ident, row

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def setup_committee(db: Session, client: TestClient) -> tuple[int, dict[str, str]]:
    compound = make_compound(db)
    assert compound.id is not None
    make_staff(db, roles={compound.id: [Role.COMMITTEE]}, username="weiyuan")
    db.commit()
    return compound.id, bearer(client, "weiyuan")


def upload(client: TestClient, cid: int, headers: dict[str, str], content: bytes,
           name: str = "名册.csv", media: str = CSV, **data: Any) -> Any:
    return client.post(f"/api/v1/compounds/{cid}/roster/imports", headers=headers,
                       files={"file": (name, content, media)}, data=data)


def test_upload_preview_apply(client: TestClient, db: Session) -> None:
    cid, headers = setup_committee(db, client)
    r = upload(client, cid, headers, csv_bytes(BASE))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {
        "id", "compound_id", "status", "file_name", "file_sha256", "row_count",
        "known_buildings_only", "uploaded_by", "created_at", "applied_by", "applied_at",
        "summary", "counts", "result", "diff",
    }
    assert (body["status"], body["file_name"], body["row_count"]) == ("previewed", "名册.csv", 5)
    assert body["summary"]["total_area"] == "471.22"
    assert body["summary"]["total_area_hundredths"] == 47122
    assert body["summary"]["headcount"] == 4 and body["summary"]["units"] == 5
    assert body["counts"]["units_added"] == 5 and len(body["diff"]["units_added"]) == 5
    assert set(body["diff"]) == {
        "buildings_added", "units_added", "units_changed", "units_missing", "owners_moved",
        "owners_updated", "counts", "list_limit", "truncated",
    }
    assert body["result"] is None and body["uploaded_by"] is not None
    import_id = body["id"]

    listed = client.get(f"/api/v1/compounds/{cid}/roster/imports", headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == import_id
    assert "diff" not in listed["items"][0]
    got = client.get(f"/api/v1/compounds/{cid}/roster/imports/{import_id}", headers=headers)
    assert got.status_code == 200 and got.json()["diff"] == body["diff"]

    r = client.post(f"/api/v1/compounds/{cid}/roster/imports/{import_id}/apply", headers=headers)
    assert r.status_code == 200, r.text
    applied = r.json()
    assert applied["status"] == "applied" and applied["applied_at"] is not None
    assert applied["result"]["headcount"] == 4
    assert applied["result"]["total_area"] == "471.22"
    assert applied["result"]["audit_seq"] >= 2
    summary = client.get(f"/api/v1/compounds/{cid}/roster/summary", headers=headers).json()
    assert (summary["unit_count"], summary["subject_count"], summary["total_area"]) == (
        5, 4, "471.22")
    units = client.get(f"/api/v1/compounds/{cid}/units", headers=headers).json()
    assert units["total"] == 5
    assert units["items"][0]["owners"][0]["name_masked"] == "张*"

    again = client.post(f"/api/v1/compounds/{cid}/roster/imports/{import_id}/apply",
                        headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "roster_import_already_applied"
    events = client.get(f"/api/v1/compounds/{cid}/audit/events", headers=headers)
    assert events.status_code == 200
    actions = [e["action"] for e in events.json()["items"]]
    assert actions.count("roster.imported") == 1
    assert client.get(f"/api/v1/compounds/{cid}/audit/verify", headers=headers).json()["ok"]


def test_newest_first_and_stale_preview(client: TestClient, db: Session) -> None:
    cid, headers = setup_committee(db, client)
    first = upload(client, cid, headers, csv_bytes(BASE)).json()["id"]
    second = upload(client, cid, headers, csv_bytes(BASE[:3]), name="b.csv").json()["id"]
    listed = client.get(f"/api/v1/compounds/{cid}/roster/imports", headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [second, first]
    assert client.post(f"/api/v1/compounds/{cid}/roster/imports/{first}/apply",
                       headers=headers).status_code == 200
    r = client.post(f"/api/v1/compounds/{cid}/roster/imports/{second}/apply", headers=headers)
    assert r.status_code == 409
    assert r.json()["error"] == "roster_changed" and "重新上传" in r.json()["detail"]


def test_import_of_another_compound_is_not_found(client: TestClient, db: Session) -> None:
    one, two = make_compound(db), make_compound(db)
    assert one.id is not None and two.id is not None
    make_staff(db, roles={one.id: [Role.COMMITTEE], two.id: [Role.COMMITTEE]}, username="both")
    db.commit()
    headers = bearer(client, "both")
    import_id = upload(client, one.id, headers, csv_bytes(BASE)).json()["id"]
    for r in (
        client.get(f"/api/v1/compounds/{two.id}/roster/imports/{import_id}", headers=headers),
        client.post(f"/api/v1/compounds/{two.id}/roster/imports/{import_id}/apply",
                    headers=headers),
    ):
        assert r.status_code == 404 and r.json()["error"] == "roster_import_not_found"


def test_invalid_file_error_shape_and_nothing_stored(client: TestClient, db: Session) -> None:
    cid, headers = setup_committee(db, client)
    bad = [row(room="101", phone="13800000001"), row(room="101", area="1.234", phone="138")]
    r = upload(client, cid, headers, csv_bytes(bad))
    assert r.status_code == 422
    assert r.json() == {
        "error": "roster_invalid",
        "detail": "名册有 1 行错误，未写入任何数据",
        "errors": [
            {"row": 3, "column": "房号", "message": "房号重复（与第2行相同）"},
            {"row": 3, "column": "专有面积（㎡）",
             "message": "专有面积须为正数，最多两位小数（填写的是“1.234”）"},
            {"row": 3, "column": "手机号", "message": "业主手机号格式不正确（须为11位手机号码）"},
        ],
    }
    listed = client.get(f"/api/v1/compounds/{cid}/roster/imports", headers=headers).json()
    assert listed == {"total": 0, "items": []}
    r = upload(client, cid, headers, b"%PDF-1.4", name="名册.pdf", media="application/pdf")
    assert r.status_code == 415 and r.json()["error"] == "roster_file_type"
    assert "xlsx" in r.json()["detail"]


def test_known_buildings_only_form_field(client: TestClient, db: Session) -> None:
    cid, headers = setup_committee(db, client)
    import_id = upload(client, cid, headers, csv_bytes(BASE)).json()["id"]
    client.post(f"/api/v1/compounds/{cid}/roster/imports/{import_id}/apply", headers=headers)
    extra = [*BASE, row(building="3栋", room="101", name="吴九", phone="13800000009")]
    r = upload(client, cid, headers, csv_bytes(extra), known_buildings_only="true")
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"row": 7, "column": "楼栋", "message": "未知楼栋“3栋”：本小区名册中没有该楼栋"}]
    r = upload(client, cid, headers, csv_bytes(extra))
    assert r.status_code == 201 and r.json()["diff"]["buildings_added"] == ["3栋"]


def test_template_downloads_and_reimports(client: TestClient, db: Session) -> None:
    cid, headers = setup_committee(db, client)
    r = client.get(f"/api/v1/compounds/{cid}/roster/template?format=xlsx", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(r.content))
    assert workbook.sheetnames == ["名册", "填写说明"]
    sheet = workbook["名册"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS and len(rows) == 4
    assert {rows[2][8], rows[3][6]} == {"李四；王五", "未售"}  # a co-owned and an unsold unit
    notes = [r[0] for r in workbook["填写说明"].iter_rows(min_row=2, values_only=True)]
    assert set(COLUMNS) <= set(notes)

    # Fill the template as a committee member would: keep the examples, add one unit.
    sheet.append(["2栋", "1", "102", 77.77, "测绘", "住宅", "已交付", "个人", "赵六", ident(40),
                  "13800000040"])
    filled = io.BytesIO()
    workbook.save(filled)
    r = upload(client, cid, headers, filled.getvalue(), name="阳光名册.xlsx", media=XLSX)
    assert r.status_code == 201, r.text
    assert r.json()["summary"] == {
        "units": 4, "voting_units": 4, "developer_units": 1, "co_owned_units": 1,
        "parking_units": 0, "buildings": 2, "owners": 4, "subjects": 4, "headcount": 4,
        "total_area": "382.39", "total_area_hundredths": 38239,
    }
    import_id = r.json()["id"]
    r = client.post(f"/api/v1/compounds/{cid}/roster/imports/{import_id}/apply", headers=headers)
    assert r.status_code == 200 and r.json()["result"]["units"] == 4

    r = client.get(f"/api/v1/compounds/{cid}/roster/template?format=csv", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 4
    r = upload(client, cid, headers, r.content, name="template.csv")
    assert r.status_code == 201, r.text
    counts = r.json()["counts"]
    assert (counts["units_missing"], counts["units_unchanged"]) == (1, 3)
    bad = client.get(f"/api/v1/compounds/{cid}/roster/template?format=pdf", headers=headers)
    assert bad.status_code == 422


def test_owner_and_observer_cannot_upload(client: TestClient, db: Session,
                                          outbox: MemorySender) -> None:
    cid, headers = setup_committee(db, client)
    import_id = upload(client, cid, headers, csv_bytes(BASE)).json()["id"]
    client.post(f"/api/v1/compounds/{cid}/roster/imports/{import_id}/apply", headers=headers)
    make_staff(db, roles={cid: [Role.OBSERVER]}, username="guancha")
    make_staff(db, roles={cid: [Role.CLERK]}, username="wuye")
    db.commit()
    for who in (owner_bearer(client, outbox, "13800000001"), bearer(client, "guancha"),
                bearer(client, "wuye")):
        r = upload(client, cid, who, csv_bytes(BASE))
        assert r.status_code == 403 and r.json()["error"] == "forbidden_compound_role"
        for path in ("roster/imports", f"roster/imports/{import_id}", "roster/template"):
            assert client.get(f"/api/v1/compounds/{cid}/{path}", headers=who).status_code == 403
        r = client.post(f"/api/v1/compounds/{cid}/roster/imports/{import_id}/apply", headers=who)
        assert r.status_code == 403
    r = client.post(f"/api/v1/compounds/{cid}/roster/imports",
                    files={"file": ("a.csv", csv_bytes(BASE), CSV)})
    assert r.status_code == 401


def test_platform_admin_can_import(client: TestClient, db: Session) -> None:
    compound = make_compound(db)
    make_staff(db, platform_admin=True, username="pingtai")
    db.commit()
    headers = bearer(client, "pingtai")
    r = upload(client, compound.id, headers, csv_bytes(BASE))  # type: ignore[arg-type]
    assert r.status_code == 201
    r = client.post(f"/api/v1/compounds/{compound.id}/roster/imports/{r.json()['id']}/apply",
                    headers=headers)
    assert r.status_code == 200
    r = client.get("/api/v1/compounds/99999/roster/imports", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "compound_not_found"
    r = upload(client, 99999, headers, csv_bytes(BASE))
    assert r.status_code == 404 and r.json()["error"] == "compound_not_found"
