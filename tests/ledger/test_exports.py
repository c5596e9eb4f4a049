"""XLSX and Chinese PDF statements: embedded font, text that comes back out, exact figures."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.clock import FrozenClock
from tests.ledger.helpers import Q1, after_quarter, build_ledger_world


def _closed_quarter(client: TestClient, db: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    lw = build_ledger_world(db, client)
    lw.booked(amount="12,345.67", cost="1,000.00", cost_evidence_file_ids=[lw.upload(lw.clerk)],
              counterparty="阳光物业服务有限公司", description="一季度地面停车费")
    lw.booked(direction="expense", category="审计费", amount="2,000.00",
              counterparty="某某会计师事务所", description="公共收益专项审计")
    after_quarter(clock, lw)
    lw.close(Q1)
    return lw


def test_pdf_embeds_the_chinese_font_and_its_text_comes_back(
    client: TestClient, db: Session, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    lw = _closed_quarter(client, db, frozen_clock)
    r = client.get(lw.url(f"/ledger/periods/{Q1}/statement.pdf"), headers=lw.observer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path / "statement.pdf"
    path.write_bytes(r.content)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    rows = [line.split() for line in fonts if line.strip()]
    assert any("WenQuanYi" in row[0] for row in rows), fonts
    assert all(row[-5] == "yes" for row in rows), fonts  # every font embedded
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    for expected in ("公共收益收支表", "2026年第一季度", "停车", "审计费", "12,345.67",
                     "期末余额", "9,345.67", "第二百八十二条", "一季度地面停车费"):
        assert expected in text, expected


def test_xlsx_has_the_same_exact_figures(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = _closed_quarter(client, db, frozen_clock)
    r = client.get(lw.url(f"/ledger/periods/{Q1}/statement.xlsx"), headers=lw.committee)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    summary = {row[0]: row[1] for row in wb["收支表"].iter_rows(values_only=True) if row and row[0]}
    assert Decimal(str(summary["期末余额"])) == Decimal("9345.67")
    assert Decimal(str(summary["本期收入（总额）"])) == Decimal("12345.67")
    detail = list(wb["明细"].iter_rows(values_only=True))
    assert detail[0][:4] == ("编号", "日期", "收支", "类别")
    assert [row[3] for row in detail[1:]] == ["停车", "审计费"]
    assert all(str(row[1]).startswith("2026年") and str(row[1]).endswith("日") for row in detail[1:])


def test_an_open_period_cannot_be_exported(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    lw = build_ledger_world(db, client)
    lw.booked()
    r = client.get(lw.url(f"/ledger/periods/{Q1}/statement.pdf"), headers=lw.committee)
    assert r.status_code == 409 and r.json()["error"] == "ledger_period_not_closed"


def test_the_published_notice_prints_with_the_statement_tables(
    client: TestClient, db: Session, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    lw = _closed_quarter(client, db, frozen_clock)
    notice_id = lw.publish(Q1)["notice_id"]
    r = client.get(lw.url(f"/notices/{notice_id}/pdf"), headers=lw.observer)
    assert r.status_code == 200, r.text
    path = tmp_path / "notice.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    for expected in ("公共收益公示", "公共收益收支情况公示", "收入（按类别）", "收支明细", "9,345.67"):
        assert expected in text, expected
