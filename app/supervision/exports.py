"""The supervision table as an XLSX workbook (one row per compound, figures only)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from app.spreadsheets import neutralize_formulas, sheet_row
from app.supervision.service import SupervisionRow


def _percent(tenths: int | None) -> Decimal | None:
    return None if tenths is None else Decimal(tenths) / 10


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


COLUMNS: tuple[tuple[str, Callable[[SupervisionRow], Any]], ...] = (
    ("小区", lambda r: r.compound_name),
    ("街道", lambda r: r.street),
    ("社区", lambda r: r.community),
    ("待审核议题", lambda r: r.reviews_pending),
    ("最久待审（天）", lambda r: r.oldest_review_days),
    ("进行中的表决", lambda r: r.ballots_running),
    ("参与面积（%）", lambda r: _percent(r.turnout_area_tenths)),
    ("参与人数（%）", lambda r: _percent(r.turnout_headcount_tenths)),
    ("参与门槛", lambda r: r.quorum_percent or ""),
    ("已达参与门槛", lambda r: _yes_no(r.quorum_met)),
    ("公共收益台账已启用", lambda r: _yes_no(r.ledger_started)),
    ("未公布收支表（季度）", lambda r: r.statements_missing),
    ("逾期未公布（季度）", lambda r: r.statements_overdue),
    ("满意度调查年度", lambda r: r.satisfaction_year),
    ("满意度（%）", lambda r: _percent(r.satisfaction_tenths)),
    ("低于90%", lambda r: _yes_no(r.satisfaction_below_line)),
    ("未办结工单", lambda r: r.work_orders_open),
    ("逾期工单", lambda r: r.work_orders_overdue),
    ("平均办理时长（小时）", lambda r: r.work_orders_average_hours),
    ("评议年度", lambda r: r.appraisal_year),
    ("评议得分", lambda r: _percent(r.appraisal_score_tenths)),
    ("评议等级", lambda r: r.appraisal_grade or ""),
    ("未完成整改", lambda r: r.rectifications_open),
)


def supervision_xlsx(rows: Sequence[SupervisionRow], *, generated_at: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "属地监管"
    ws.append([f"属地监管一览（生成于 {generated_at}）"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([name for name, _ in COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(sheet_row([value(row) for _, value in COLUMNS]))
    ws.column_dimensions["A"].width = 24
    neutralize_formulas(ws)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
