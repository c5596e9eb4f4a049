"""A closed period's statement as an XLSX workbook and as an A4 PDF in Chinese."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from app.ledger import rules
from app.ledger import statements as st
from app.pdf_pages import ACCENT, MUTED, PageSetup, base_style, font_name, grid_table, render_a4
from app.spreadsheets import neutralize_formulas, sheet_row


def statement_xlsx(*, compound_name: str, statement: dict[str, Any], statement_sha256: str,
                   status_label: str) -> bytes:
    """Summary, categories and every entry, amounts in yuan as exact text-free numbers."""
    wb = Workbook()
    ws = wb.active
    ws.title = "收支表"
    label = statement["period"]["label"]
    ws.append(sheet_row([f"{compound_name} 公共收益收支表（{label}）"]))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"期间：{st.period_dates(statement)}",
               f"状态：{status_label}"])
    ws.append([])
    ws.append(["项目", "金额（元）"])
    for name, value in st.summary_rows(statement):
        ws.append([name, _yuan_number(value)])
    ws.append([])
    ws.append(st.INCOME_COLUMNS)
    for row in st.income_rows(statement):
        ws.append(sheet_row([row[0], _yuan_number(row[1]), _yuan_number(row[2]), _yuan_number(row[3]), row[4]]))
    ws.append([])
    ws.append(st.EXPENSE_COLUMNS)
    for row in st.expense_rows(statement):
        ws.append(sheet_row([row[0], _yuan_number(row[1]), row[2]]))
    ws.append([])
    ws.append(["转入维修资金", st.fund_sentence(statement)])
    ws.append(["报表指纹 SHA-256", statement_sha256])
    ws.column_dimensions["A"].width = 28
    for col in "BCDE":
        ws.column_dimensions[col].width = 18

    detail = wb.create_sheet("明细")
    detail.append(st.DETAIL_COLUMNS)
    for e in statement["entries"]:
        detail.append(sheet_row([e["id"], st.day(e["entry_date"]), rules.DIRECTION_LABELS[e["direction"]],
                       e["category"], _fen_number(e["amount_fen"]),
                       _fen_number(e["cost_fen"]) if e["cost_fen"] else None,
                       e["counterparty"], e["description"], st.entry_note(e)]))
    detail.cell(row=1, column=9, value="备注")
    for col, width in zip("ABCDEFGHI", (8, 12, 8, 14, 14, 14, 20, 40, 24), strict=True):
        detail.column_dimensions[col].width = width
    for sheet in (ws, detail):
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    neutralize_formulas(ws, detail)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _fen_number(fen: int) -> Decimal:
    # Exact: a Decimal keeps the fen (openpyxl writes it as the number text it is).
    return Decimal(fen) / 100


def _yuan_number(text: Any) -> Any:
    """"1,234.56" back to an exact number for the spreadsheet; other cells stay as they are."""
    if isinstance(text, str) and text.replace(",", "").replace("-", "").replace(".", "").isdigit():
        return Decimal(text.replace(",", ""))
    return text


# --- PDF -------------------------------------------------------------------------------------

def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = base_style(font, size=11, leading=18)
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER,
                                textColor=ACCENT, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=12, leading=18, alignment=TA_CENTER,
                              textColor=MUTED, spaceAfter=8),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12.5, leading=20,
                                  spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "money": ParagraphStyle("money", parent=base, fontSize=9.5, leading=13, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=MUTED),
    }


def _table(columns: list[str], rows: list[list[Any]], styles: dict[str, ParagraphStyle],
           widths: list[float], *, money: frozenset[int] = frozenset(),
           total_row: bool = False) -> Table:
    """A grid table; the `money` columns are right-aligned so amounts line up."""
    return grid_table(columns, rows, style=styles["cell"], widths=widths,
                      column_styles={i: styles["money"] for i in money}, total_row=total_row)


def statement_pdf(*, compound_name: str, statement: dict[str, Any], statement_sha256: str,
                  status_label: str, audit_report_name: str | None = None) -> bytes:
    """The statement on A4 with the WenQuanYi font embedded (prints the same on any reader)."""
    styles = _styles(font_name())
    label = statement["period"]["label"]
    setup = PageSetup(
        title=f"{compound_name} 公共收益收支表（{label}）", author=compound_name,
        subject="公共收益公示", footer=f"{compound_name} · 公共收益收支表 · {label}",
        margin=16 * mm, top_margin=16 * mm, bottom_margin=18 * mm, footer_y=9 * mm,
    )
    return render_a4(setup, lambda width: _statement_story(
        statement, styles, width, compound_name=compound_name, statement_sha256=statement_sha256,
        status_label=status_label, audit_report_name=audit_report_name))


def _statement_story(statement: dict[str, Any], styles: dict[str, ParagraphStyle], width: float, *,
                     compound_name: str, statement_sha256: str, status_label: str,
                     audit_report_name: str | None) -> list[Flowable]:
    label = statement["period"]["label"]
    story: list[Flowable] = [
        Paragraph(escape(f"{compound_name} 公共收益收支表"), styles["title"]),
        Paragraph(escape(f"{label}（{st.period_dates(statement)}） · {status_label}"), styles["sub"]),
        Paragraph(escape(st.LEGAL_BASIS), styles["body"]),
        Spacer(1, 3 * mm),
        Paragraph("收支汇总", styles["heading"]),
        _table(["项目", "金额（元）"], st.summary_rows(statement), styles,
               [width * 0.6, width * 0.4], money=frozenset({1})),
        Paragraph("收入（按类别）", styles["heading"]),
        _table(st.INCOME_COLUMNS, st.income_rows(statement), styles,
               [width * w for w in (0.22, 0.2, 0.2, 0.2, 0.18)], money=frozenset({1, 2, 3, 4}),
               total_row=True),
        Paragraph("支出（按类别）", styles["heading"]),
        _table(st.EXPENSE_COLUMNS, st.expense_rows(statement), styles,
               [width * w for w in (0.4, 0.35, 0.25)], money=frozenset({1, 2}), total_row=True),
        Paragraph("转入维修资金", styles["heading"]),
        Paragraph(escape(st.fund_sentence(statement)), styles["body"]),
    ]
    if audit_report_name:
        story.append(Paragraph(escape(f"附：审计报告《{audit_report_name}》"), styles["body"]))
    story.append(Paragraph("收支明细", styles["heading"]))
    if statement["entries"]:
        story.append(_table(st.DETAIL_COLUMNS, st.detail_rows(statement), styles,
                            [width * w for w in (0.07, 0.12, 0.07, 0.11, 0.13, 0.11, 0.15, 0.24)],
                            money=frozenset({4, 5})))
    else:
        story.append(Paragraph("本期没有收支。", styles["body"]))
    story += [Spacer(1, 4 * mm),
              Paragraph(escape(f"报表指纹 SHA-256：{statement_sha256}"), styles["small"]),
              Paragraph("各项数字均由所列账目逐笔汇总，可自行复核。", styles["small"])]
    return story
