"""How a statement reads: the notice's text and tables, shared by the notice, XLSX and PDF."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from app.ledger import rules
from app.timefmt import format_date

if TYPE_CHECKING:
    from app.files.service import StoredFile

LEGAL_BASIS = ("根据《中华人民共和国民法典》第二百八十二条，建设单位、物业服务企业或者其他管理人等"
               "利用业主的共有部分产生的收入，在扣除合理成本之后，属于业主共有。")
MAX_DETAIL_ROWS = 500  # longer statements list their entries online only


def day(iso: str) -> str:
    """A statement's ISO date (2026-07-15) as people read it (2026年7月15日)."""
    return format_date(date.fromisoformat(iso))


def period_dates(statement: dict[str, Any]) -> str:
    """2026年7月1日至2026年9月30日: the first and last day of the statement's period."""
    period = statement["period"]
    return f"{day(period['start_date'])}至{day(period['end_date'])}"


def yuan(fen: int) -> str:
    return rules.format_yuan(fen)


def fund_sentence(statement: dict[str, Any]) -> str:
    fund = statement["maintenance_fund"]
    if fund["met"] is None:
        return "本小区未设定公共收益转入维修资金的比例。"
    base = (f"本小区规定每期净收益的{fund['share_percent']}%转入专项维修资金："
            f"本期净收益（扣除合理成本后）{yuan(fund['base_fen'])}元，应转入"
            f"{yuan(fund['required_fen'])}元，实际转入{yuan(fund['transferred_fen'])}元，")
    return base + ("已达到规定比例。" if fund["met"] else "未达到规定比例。")


def summary_rows(statement: dict[str, Any]) -> list[list[str]]:
    income, expense = statement["income"], statement["expense"]
    return [
        ["期初余额", yuan(statement["opening_balance_fen"])],
        ["本期收入（总额）", yuan(income["gross_fen"])],
        ["减：收入中扣除的成本", yuan(income["cost_fen"])],
        ["本期收入（净额）", yuan(income["net_fen"])],
        ["本期支出", yuan(expense["total_fen"])],
        ["本期净额（收入净额－支出）", yuan(statement["net_fen"])],
        ["期末余额", yuan(statement["closing_balance_fen"])],
    ]


def income_rows(statement: dict[str, Any]) -> list[list[str | int]]:
    rows: list[list[str | int]] = [
        [c["category"], yuan(c["gross_fen"]), yuan(c["cost_fen"]), yuan(c["net_fen"]), c["entries"]]
        for c in statement["income"]["categories"]
    ]
    income = statement["income"]
    rows.append(["合计", yuan(income["gross_fen"]), yuan(income["cost_fen"]),
                 yuan(income["net_fen"]), sum(c["entries"] for c in income["categories"])])
    return rows


def expense_rows(statement: dict[str, Any]) -> list[list[str | int]]:
    rows: list[list[str | int]] = [[c["category"], yuan(c["amount_fen"]), c["entries"]]
                                   for c in statement["expense"]["categories"]]
    expense = statement["expense"]
    rows.append(["合计", yuan(expense["total_fen"]),
                 sum(c["entries"] for c in expense["categories"])])
    return rows


def entry_note(entry: dict[str, Any]) -> str:
    notes = []
    if entry.get("reverses_id"):
        notes.append(f"冲销第{entry['reverses_id']}号")
    if entry.get("late_for_period_start"):
        notes.append(f"补记{day(entry['late_for_period_start'])}起的期间")
    return "；".join(notes)


def detail_rows(statement: dict[str, Any]) -> list[list[str | int]]:
    return [
        [e["id"], day(e["entry_date"]), rules.DIRECTION_LABELS[e["direction"]], e["category"],
         yuan(e["amount_fen"]), yuan(e["cost_fen"]) if e["cost_fen"] else "",
         e["counterparty"], e["description"] + (f"（{entry_note(e)}）" if entry_note(e) else "")]
        for e in statement["entries"]
    ]


INCOME_COLUMNS = ["类别", "收入总额（元）", "扣除成本（元）", "收入净额（元）", "笔数"]
EXPENSE_COLUMNS = ["类别", "支出金额（元）", "笔数"]
DETAIL_COLUMNS = ["编号", "日期", "收支", "类别", "金额（元）", "扣除成本（元）", "对方", "摘要"]


def notice_content(
    *, statement: dict[str, Any], statement_sha256: str, display_days: int,
    audit_report: StoredFile | None,
) -> tuple[str, str, dict[str, Any]]:
    """Title, body and structured sections of the 公共收益公示 notice."""
    label = statement["period"]["label"]
    period = statement["period"]
    title = f"公共收益收支情况公示（{label}）"
    lines = [
        "全体业主：",
        "　　" + LEGAL_BASIS + f"现将本小区{label}（{period_dates(statement)}）"
        "公共收益收支情况公示如下：",
        f"　　期初余额{yuan(statement['opening_balance_fen'])}元；本期收入总额"
        f"{yuan(statement['income']['gross_fen'])}元，扣除成本{yuan(statement['income']['cost_fen'])}元，"
        f"收入净额{yuan(statement['income']['net_fen'])}元；本期支出"
        f"{yuan(statement['expense']['total_fen'])}元；期末余额"
        f"{yuan(statement['closing_balance_fen'])}元。",
        "　　" + fund_sentence(statement),
    ]
    if audit_report is not None:
        lines.append(f"　　随本公示附{period['end_date'][:4]}年度审计报告（{audit_report.file_name}）。")
    lines += [
        f"　　公示期{display_days}日。每笔收支的凭证可在“共决”平台本小区“公共收益”中查看；"
        "业主如有疑问，请向业主委员会提出。",
        f"　　本表各项数字均由所列账目逐笔汇总，可自行复核（报表指纹 SHA-256：{statement_sha256}）。",
    ]
    sections: list[dict[str, Any]] = [
        {"type": "table", "heading": "收支汇总（元）", "columns": ["项目", "金额（元）"],
         "rows": summary_rows(statement)},
        {"type": "table", "heading": "收入（按类别）", "columns": INCOME_COLUMNS,
         "rows": income_rows(statement)},
        {"type": "table", "heading": "支出（按类别）", "columns": EXPENSE_COLUMNS,
         "rows": expense_rows(statement)},
    ]
    if 0 < len(statement["entries"]) <= MAX_DETAIL_ROWS:
        sections.append({"type": "table", "heading": "收支明细", "columns": DETAIL_COLUMNS,
                         "rows": detail_rows(statement)})
    elif statement["entries"]:
        sections.append({"type": "text", "heading": "收支明细",
                         "text": f"本期共{len(statement['entries'])}笔账目，明细请在平台查看或下载。"})
    data = {"statement": statement, "statement_sha256": statement_sha256,
            "audit_report": {"file_id": audit_report.id, "sha256": audit_report.sha256,
                             "file_name": audit_report.file_name} if audit_report else None}
    return title, "\n".join(lines), {"sections": sections, "data": data}
