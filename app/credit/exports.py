"""A published red and black list as an XLSX workbook: the list, then every compound's basis."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from app.credit.schemas import CreditListOut
from app.spreadsheets import neutralize_formulas, sheet_row


def list_xlsx(data: CreditListOut, *, generated_at: str) -> bytes:
    s = data.summary
    wb = Workbook()
    ws = wb.active
    ws.title = "红黑榜"
    ws.append(sheet_row([f"{s.district}{s.period_label}物业服务企业红黑榜（第{s.version}版）"]))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(sheet_row([f"公布于 {s.published_at_text}；{s.thresholds_text}；导出于 {generated_at}"]))
    if s.correction_reason:
        ws.append(sheet_row([f"更正原因：{s.correction_reason}"]))
    if data.superseded_by:
        ws.append(sheet_row(["本版已被更正，以最新版本为准"]))
    ws.append(["排名", "物业服务企业", "统一社会信用代码", "得分", "榜单", "在管小区数"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for e in data.entries:
        ws.append(sheet_row([e.rank, e.company_name, e.credit_code, e.score, e.place_label, e.compound_count]))
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 22

    basis = wb.create_sheet("评分依据")
    basis.append(["小区", "街道", "社区", "物业服务企业", "小区得分", "评价项", "权重", "依据", "得分", "计分规则",
                  "来源记录"])
    for cell in basis[1]:
        cell.font = Font(bold=True)
    for a in data.assessments:
        for p in a.basis.points:
            basis.append(sheet_row([
                a.compound_name, a.street, a.community, a.company_name, a.score, p.name, p.weight,
                p.value, p.points, p.rule, "；".join(src.label for src in p.sources)]))
    basis.column_dimensions["A"].width = 20
    basis.column_dimensions["H"].width = 48
    basis.column_dimensions["J"].width = 48

    criteria = wb.create_sheet("评价标准")
    criteria.append(["评价项", "权重", "数据来源", "计分规则", "无数据时"])
    for cell in criteria[1]:
        cell.font = Font(bold=True)
    for c in data.criteria:
        criteria.append(sheet_row([c.name, c.weight, c.source, c.rule, c.no_data or "—"]))
    for sheet in (ws, basis, criteria):
        neutralize_formulas(sheet)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
