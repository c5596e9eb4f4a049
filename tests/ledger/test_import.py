"""CSV import into drafts: exact amounts, every bad row named, review before anything is recorded."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.ledger import importer
from app.ledger.exceptions import ImportInvalid
from app.ledger.models import LedgerEntry, LedgerImport
from tests.ledger.helpers import Q1, after_quarter, build_ledger_world

HEADER = "日期,收支,类别,金额（元）,对方,摘要,扣除成本（元）\n"
GOOD = HEADER + (
    "2026-02-28,收入,停车,\"1,234.56\",阳光物业服务有限公司,2月停车费,100.00\n"
    "2026/3/1,收入,广告,3600,某某传媒,电梯广告,\n"
    "2026年3月1日,支出,审计费,2000.5,某某会计师事务所,审计预付款,\n"
)
TODAY = date(2026, 3, 2)


def _upload(lw, text: str, encoding: str = "utf-8", headers=None):  # type: ignore[no-untyped-def]
    return lw.client.post(lw.url("/ledger/imports"), headers=headers or lw.clerk,
                          files={"file": ("bank.csv", io.BytesIO(text.encode(encoding)), "text/csv")})


def test_parse_reads_exact_amounts_and_dates() -> None:
    rows = importer.parse_csv(GOOD.encode(), today=TODAY)
    assert [(r.row, r.amount_fen, r.cost_fen) for r in rows] == [(2, 123456, 10000), (3, 360000, 0),
                                                                 (4, 200050, 0)]
    assert rows[1].entry_date == date(2026, 3, 1) == rows[2].entry_date
    assert [r.direction for r in rows] == ["income", "income", "expense"]
    # GBK, as Excel in China saves it, and a UTF-8 BOM.
    assert importer.parse_csv(GOOD.encode("gb18030"), today=TODAY) == rows
    assert importer.parse_csv(b"\xef\xbb\xbf" + GOOD.encode(), today=TODAY) == rows


@pytest.mark.parametrize(("line", "column", "message"), [
    ("2026-03-01,收入,停车,12.345,甲,摘要,", "金额（元）", "最多两位小数"),
    ("2026-03-01,收入,停车,-5,甲,摘要,", "金额（元）", "格式不正确"),
    ("2026-03-01,收入,停车,abc,甲,摘要,", "金额（元）", "格式不正确"),
    ("2026-02-30,收入,停车,1,甲,摘要,", "日期", "不存在"),
    ("2026-03-03,收入,停车,1,甲,摘要,", "日期", "晚于今天"),
    ("2026-03-01,收,审计费,1,甲,摘要,", "类别", "收入类别只能是"),
    ("2026-03-01,转账,停车,1,甲,摘要,", "收支", "收入"),
    ("2026-03-01,支出,审计费,1,甲,摘要,0.5", "扣除成本（元）", "只有收入"),
    ("2026-03-01,收入,停车,1,甲,,", "摘要", "不能为空"),
])
def test_a_bad_row_refuses_the_file_with_its_row_number(line: str, column: str, message: str) -> None:
    text = GOOD + line + "\n"
    with pytest.raises(ImportInvalid) as caught:
        importer.parse_csv(text.encode(), today=TODAY)
    errors = caught.value.extra["errors"]
    assert errors == [{"row": 5, "column": column, "message": errors[0]["message"]}]
    assert message in errors[0]["message"]
    assert "第5行" in caught.value.message


def test_upload_with_a_bad_amount_is_refused_with_the_row_and_stores_nothing(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    r = _upload(lw, HEADER + "2026-03-01,收入,停车,1,甲,好行,\n2026-03-01,收入,广告,\"1,000.001\",乙,坏行,\n")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "ledger_import_invalid"
    assert "第3行" in body["detail"] and "最多两位小数" in body["detail"]
    assert body["errors"] == [{"row": 3, "column": "金额（元）", "message": body["errors"][0]["message"]}]
    db.rollback()
    assert db.execute(select(func.count()).select_from(LedgerImport)).scalar_one() == 0
    r = _upload(lw, "时间,金额\n2026-03-01,1\n")
    assert r.status_code == 422 and "缺少必填列" in r.json()["detail"]


def test_drafts_are_reviewed_before_they_are_recorded(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    r = _upload(lw, GOOD)
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["row_count"] == 3 and imported["undecided"] == 3
    assert [row["status"] for row in imported["rows"]] == ["draft"] * 3
    db.rollback()
    assert db.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0
    base = f"/ledger/imports/{imported['id']}/rows"
    parking, ads, audit = (row["id"] for row in imported["rows"])

    # Only the committee reviews; the parking row has a cost and needs its evidence.
    r = client.post(lw.url(f"{base}/{ads}/accept"), headers=lw.clerk, json={})
    assert r.status_code == 403
    r = client.post(lw.url(f"{base}/{parking}/accept"), headers=lw.committee, json={})
    assert r.status_code == 422 and r.json()["error"] == "ledger_cost_evidence_required"
    r = client.post(lw.url(f"{base}/{parking}/accept"), headers=lw.committee,
                    json={"cost_evidence_file_ids": [lw.upload(lw.committee)]})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["status"] == "pending" and entry["amount_fen"] == 123456
    assert entry["vouchers"][0]["file_name"] == "bank.csv"  # the export itself is a voucher
    # The reviewer recorded it: someone else must approve.
    r = client.post(lw.url(f"/ledger/entries/{entry['id']}/approve"), headers=lw.committee)
    assert r.json()["error"] == "same_person_cannot_approve"
    lw.approve(entry["id"], headers=lw.committee2)
    again = client.post(lw.url(f"{base}/{parking}/accept"), headers=lw.committee, json={})
    assert again.status_code == 409

    r = client.post(lw.url(f"{base}/{audit}/discard"), headers=lw.committee,
                    json={"reason": "已手工记账，重复"})
    assert r.status_code == 200
    assert [row["status"] for row in r.json()["rows"]] == ["accepted", "draft", "discarded"]

    # A draft dated in the quarter blocks its closing; once closed, it can only come in late.
    after_quarter(frozen_clock, lw)
    assert lw.close(Q1, expect=409)["error"] == "ledger_import_drafts_pending"
    r = client.post(lw.url(f"{base}/{ads}/accept"), headers=lw.committee, json={})
    assert r.status_code == 201
    lw.approve(r.json()["id"], headers=lw.committee2)
    lw.close(Q1)
    listed = client.get(lw.url("/ledger/imports"), headers=lw.observer).json()
    assert listed[0]["undecided"] == 0

    late = _upload(lw, HEADER + "2026-03-15,收入,快递柜,88.00,快递柜运营商,3月快递柜场地费,\n")
    row_id = late.json()["rows"][0]["id"]
    path = f"/ledger/imports/{late.json()['id']}/rows/{row_id}/accept"
    r = client.post(lw.url(path), headers=lw.committee, json={})
    assert r.status_code == 409 and r.json()["error"] == "ledger_period_closed"
    r = client.post(lw.url(path), headers=lw.committee, json={"late": True})
    assert r.status_code == 201, r.text
    assert r.json()["late_for_period_start"] == Q1 and "原日期 2026年3月15日" in r.json()["description"]
    assert r.json()["period_start"] == "2026-04-01"


def test_template_is_itself_a_valid_import() -> None:
    rows = importer.parse_csv(importer.TEMPLATE.encode(), today=date(2026, 12, 31))
    assert len(rows) == 3 and rows[0].amount_fen == 1_280_000 and rows[0].cost_fen == 128_000
