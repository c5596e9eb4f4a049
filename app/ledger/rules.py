"""Pure ledger rules: categories, periods, exact money, decisions and the statement.

Nothing here touches the database or the web, so the published figures can be recomputed from
a statement's own entries by anyone (`recompute_totals`).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from app.calendar import period_last_day
from app.timefmt import format_date

INCOME = "income"
EXPENSE = "expense"
Direction = Literal["income", "expense"]
DIRECTION_LABELS = {INCOME: "收入", EXPENSE: "支出"}

INCOME_CATEGORIES = ("停车", "广告", "场地租赁", "快递柜", "充电桩", "其他")
EXPENSE_CATEGORIES = ("合理成本", "维修养护", "审计费", "业委会工作经费", "转入维修资金", "其他")
CATEGORIES: dict[str, tuple[str, ...]] = {INCOME: INCOME_CATEGORIES, EXPENSE: EXPENSE_CATEGORIES}
COST_CATEGORY = "合理成本"  # deducted before the maintenance-fund share is computed
FUND_CATEGORY = "转入维修资金"

# Expense categories that spend the owners' money on something new need their decision
# (公共收益的分配使用, Art. 278 (九)); the value is the amount in fen above which it is needed
# (0: always). Costs of earning the income, the audit and the mandated transfer to the
# maintenance fund are not new spending decisions.
DEFAULT_DECISION_RULES: dict[str, int] = {"维修养护": 500_000, "业委会工作经费": 0, "其他": 0}
# The floor no compound setting may go below: spending on the committee's work or on anything else
# is a use of the owners' income that only they decide, whatever the amount (a passed budget
# resolution may be referenced). Repairs may be delegated up to an amount by the rules of procedure.
ART_278_ITEM_9 = "《中华人民共和国民法典》第二百七十八条第一款第（九）项"
ALWAYS_DECIDED = ("业委会工作经费", "其他")

PeriodKind = Literal["quarter", "month"]
PERIOD_KINDS = ("quarter", "month")
PERIOD_KIND_LABELS = {"quarter": "按季度", "month": "按月"}
QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")

MAX_AMOUNT_FEN = 100_000_000_000  # 10亿元: far above any single entry, below 64-bit overflow
STATEMENT_FORMAT = "gongjue-ledger-statement/1"


# --- money -----------------------------------------------------------------------------------

_YUAN = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")


def parse_yuan(text: str) -> int:
    """Exact fen from a yuan amount such as "1,234.56" or "¥88"; ValueError with a message."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    raw = raw.removeprefix("¥").removeprefix("￥").removesuffix("元").strip().replace(" ", "")
    if not raw:
        raise ValueError("金额不能为空")
    match = _YUAN.match(raw)
    if not match:
        raise ValueError(f"金额“{text}”格式不正确，应为正数，如 1234.56 或 1,234.56")
    decimals = match.group(1) or ""
    if len(decimals) > 2:
        raise ValueError(f"金额“{text}”最多两位小数（精确到分）")
    whole = raw.split(".")[0].replace(",", "").lstrip("0")
    if len(whole) > len(str(MAX_AMOUNT_FEN)):  # also spares int() its 4,300-digit refusal
        raise ValueError(f"金额超过 {format_yuan(MAX_AMOUNT_FEN)} 元上限，请核对")
    fen = int(whole or "0") * 100 + int((decimals + "00")[:2])
    if fen <= 0:
        raise ValueError("金额须大于零")
    if fen > MAX_AMOUNT_FEN:
        raise ValueError(f"金额超过 {format_yuan(MAX_AMOUNT_FEN)} 元上限，请核对")
    return fen


def format_yuan(fen: int) -> str:
    """12345678 → "123,456.78" (negative amounts keep their sign)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


# --- periods ---------------------------------------------------------------------------------


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def calendar_period(kind: str, day: date) -> tuple[date, date]:
    """The calendar month or quarter containing `day`, as (first day, last day)."""
    if kind == "month":
        return day.replace(day=1), _month_end(day)
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    return start, _month_end(date(day.year, first_month + 2, 1))


def next_period(kind: str, start: date) -> tuple[date, date]:
    """A period starting on `start` and ending with the calendar month or quarter it falls in."""
    return start, calendar_period(kind, start)[1]


def period_label(start: date, end: date) -> str:
    """2026年第三季度, 2026年9月, or the dates when the period is irregular."""
    q_start, q_end = calendar_period("quarter", start)
    if (start, end) == (q_start, q_end):
        return f"{start.year}年{QUARTER_NAMES[(start.month - 1) // 3]}"
    if (start, end) == calendar_period("month", start):
        return f"{start.year}年{start.month}月"
    return f"{format_date(start)}至{format_date(end)}"


def is_year_end(end: date) -> bool:
    return (end.month, end.day) == (12, 31)


@dataclass(frozen=True)
class QuarterDue:
    """A calendar quarter that has ended, and by when its statement is due."""

    start: date
    end: date
    due: date

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)


def ended_quarters(starts_on: date, today: date, *, due_days: int) -> list[QuarterDue]:
    """Calendar quarters from the ledger's start that ended before today, oldest first; each is
    due `due_days` after its end, a due day on a statutory holiday moving to the next working day."""
    out: list[QuarterDue] = []
    start, end = calendar_period("quarter", starts_on)
    while end < today:
        out.append(QuarterDue(start=start, end=end, due=period_last_day(end, due_days)))
        start, end = calendar_period("quarter", end + timedelta(days=1))
    return out


# --- decisions -------------------------------------------------------------------------------


def decision_required(rules: Mapping[str, int], *, category: str, amount_fen: int) -> bool:
    """Whether an expense of this category and amount needs the owners' decision."""
    threshold = rules.get(category)
    return threshold is not None and amount_fen > threshold


def decision_rule_text(rules: Mapping[str, int]) -> list[str]:
    """The rules in words, for the settings screen and the refusal message."""
    out = []
    for category in EXPENSE_CATEGORIES:
        if category in rules:
            threshold = rules[category]
            out.append(f"{category}：" + ("一律须经业主共同决定" if threshold == 0
                                         else f"单笔超过{format_yuan(threshold)}元须经业主共同决定"))
    return out


# --- the statement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFacts:
    """What the statement needs of one approved entry."""

    id: int
    entry_date: date
    direction: str
    category: str
    amount_fen: int  # negative for a reversing entry
    cost_fen: int
    counterparty: str
    description: str
    reverses_id: int | None = None
    late_for_period_start: date | None = None

    @property
    def net_fen(self) -> int:
        """What the entry adds to the balance: income net of its cost, expenses negative."""
        return self.amount_fen - self.cost_fen if self.direction == INCOME else -self.amount_fen

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "entry_date": self.entry_date.isoformat(), "direction": self.direction,
            "category": self.category, "amount_fen": self.amount_fen, "cost_fen": self.cost_fen,
            "counterparty": self.counterparty, "description": self.description,
            "reverses_id": self.reverses_id,
            "late_for_period_start": self.late_for_period_start.isoformat()
            if self.late_for_period_start else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntryFacts:
        late = data.get("late_for_period_start")
        return cls(
            id=int(data["id"]), entry_date=date.fromisoformat(data["entry_date"]),
            direction=data["direction"], category=data["category"],
            amount_fen=int(data["amount_fen"]), cost_fen=int(data["cost_fen"]),
            counterparty=data.get("counterparty", ""), description=data.get("description", ""),
            reverses_id=data.get("reverses_id"),
            late_for_period_start=date.fromisoformat(late) if late else None,
        )


def balance_change(entries: Iterable[EntryFacts]) -> int:
    return sum(e.net_fen for e in entries)


def required_transfer(base_fen: int, share_percent: int) -> int:
    """The share of net income owed to the maintenance fund, rounded up to the fen."""
    if base_fen <= 0 or share_percent <= 0:
        return 0
    return -(-base_fen * share_percent // 100)


def compute_statement(
    *, compound_id: int, period_kind: str, start: date, end: date, opening_balance_fen: int,
    entries: Sequence[EntryFacts], share_percent: int,
) -> dict[str, Any]:
    """The period's statement from its approved entries: every figure is a sum of them."""
    ordered = sorted(entries, key=lambda e: (e.entry_date, e.id))
    income: list[dict[str, Any]] = []
    for category in INCOME_CATEGORIES:
        rows = [e for e in ordered if e.direction == INCOME and e.category == category]
        gross = sum(e.amount_fen for e in rows)
        cost = sum(e.cost_fen for e in rows)
        income.append({"category": category, "gross_fen": gross, "cost_fen": cost,
                       "net_fen": gross - cost, "entries": len(rows)})
    expense: list[dict[str, Any]] = []
    for category in EXPENSE_CATEGORIES:
        rows = [e for e in ordered if e.direction == EXPENSE and e.category == category]
        expense.append({"category": category, "amount_fen": sum(e.amount_fen for e in rows),
                        "entries": len(rows)})
    income_net = sum(c["net_fen"] for c in income)
    expense_total = sum(c["amount_fen"] for c in expense)
    costs = next(c["amount_fen"] for c in expense if c["category"] == COST_CATEGORY)
    transferred = next(c["amount_fen"] for c in expense if c["category"] == FUND_CATEGORY)
    base = income_net - costs
    required = required_transfer(base, share_percent)
    return {
        "format": STATEMENT_FORMAT,
        "compound_id": compound_id,
        "period": {"kind": period_kind, "start_date": start.isoformat(),
                   "end_date": end.isoformat(), "label": period_label(start, end)},
        "opening_balance_fen": opening_balance_fen,
        "income": {"categories": income, "gross_fen": sum(c["gross_fen"] for c in income),
                   "cost_fen": sum(c["cost_fen"] for c in income), "net_fen": income_net},
        "expense": {"categories": expense, "total_fen": expense_total},
        "net_fen": income_net - expense_total,
        "closing_balance_fen": opening_balance_fen + income_net - expense_total,
        "maintenance_fund": {
            "share_percent": share_percent, "base_fen": base, "required_fen": required,
            "transferred_fen": transferred,
            "met": None if share_percent <= 0 else transferred >= required,
        },
        "entries": [e.as_dict() for e in ordered],
    }


def recompute_totals(statement: Mapping[str, Any]) -> dict[str, Any]:
    """Recompute a published statement from the entries it lists (anyone can run this)."""
    period = statement["period"]
    return compute_statement(
        compound_id=statement["compound_id"], period_kind=period["kind"],
        start=date.fromisoformat(period["start_date"]), end=date.fromisoformat(period["end_date"]),
        opening_balance_fen=statement["opening_balance_fen"],
        entries=[EntryFacts.from_dict(e) for e in statement["entries"]],
        share_percent=statement["maintenance_fund"]["share_percent"],
    )
