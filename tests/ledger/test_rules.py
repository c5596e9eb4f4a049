"""Pure ledger rules: exact money, periods, decisions, and the statement against a naive sum."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ledger import rules
from app.ledger.rules import EntryFacts


@pytest.mark.parametrize(("text", "fen"), [
    ("1", 100), ("0.01", 1), ("1,234.56", 123456), ("1234.5", 123450), ("¥88", 8800),
    ("￥1,000,000.00", 100000000), ("１２３.４５", 12345), (" 66.60 ", 6660), ("12元", 1200),
])
def test_parse_yuan_is_exact(text: str, fen: int) -> None:
    assert rules.parse_yuan(text) == fen


@pytest.mark.parametrize(("text", "message"), [
    ("12.345", "最多两位小数"), ("1,23.45", "格式不正确"), ("-5", "格式不正确"), ("", "不能为空"),
    ("0.00", "大于零"), ("1e3", "格式不正确"), ("12,34", "格式不正确"), ("1.2.3", "格式不正确"),
    ("2000000000.00", "上限"),
])
def test_parse_yuan_refuses_what_is_not_an_exact_amount(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.parse_yuan(text)


def test_format_yuan() -> None:
    assert rules.format_yuan(123456789) == "1,234,567.89"
    assert rules.format_yuan(-5) == "-0.05"
    assert rules.format_yuan(0) == "0.00"


def test_periods_and_labels() -> None:
    assert rules.calendar_period("quarter", date(2026, 8, 15)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert rules.calendar_period("quarter", date(2026, 12, 31)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert rules.calendar_period("month", date(2028, 2, 10)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert rules.period_label(date(2026, 7, 1), date(2026, 9, 30)) == "2026年第三季度"
    assert rules.period_label(date(2026, 9, 1), date(2026, 9, 30)) == "2026年9月"
    # Switching from monthly to quarterly mid-quarter: the period runs to the quarter's end.
    assert rules.next_period("quarter", date(2026, 5, 1)) == (date(2026, 5, 1), date(2026, 6, 30))
    assert rules.period_label(date(2026, 5, 1), date(2026, 6, 30)) == "2026年5月1日至2026年6月30日"
    assert rules.is_year_end(date(2026, 12, 31)) and not rules.is_year_end(date(2026, 9, 30))


def test_ended_quarters_and_their_due_dates() -> None:
    quarters = rules.ended_quarters(date(2026, 2, 1), date(2026, 10, 1), due_days=30)
    assert [q.label for q in quarters] == ["2026年第一季度", "2026年第二季度", "2026年第三季度"]
    assert quarters[-1].due == date(2026, 10, 30)
    assert rules.ended_quarters(date(2026, 2, 1), date(2026, 3, 31), due_days=30) == []


def test_decision_thresholds_are_strictly_above() -> None:
    rules_ = rules.DEFAULT_DECISION_RULES
    assert not rules.decision_required(rules_, category="维修养护", amount_fen=500_000)
    assert rules.decision_required(rules_, category="维修养护", amount_fen=500_001)
    assert rules.decision_required(rules_, category="业委会工作经费", amount_fen=1)
    assert not rules.decision_required(rules_, category="审计费", amount_fen=10**9)
    assert not rules.decision_required(rules_, category="转入维修资金", amount_fen=10**9)


def test_required_transfer_rounds_up_to_the_fen() -> None:
    assert rules.required_transfer(101, 50) == 51
    assert rules.required_transfer(100, 50) == 50
    assert rules.required_transfer(-100, 50) == 0
    assert rules.required_transfer(999, 0) == 0


def _income(i: int, amount: int, cost: int = 0, category: str = "停车", **kw) -> EntryFacts:  # type: ignore[no-untyped-def]
    return EntryFacts(id=i, entry_date=date(2026, 7, 1 + i % 28), direction="income",
                      category=category, amount_fen=amount, cost_fen=cost, counterparty="",
                      description="", **kw)


def _expense(i: int, amount: int, category: str, **kw) -> EntryFacts:  # type: ignore[no-untyped-def]
    return EntryFacts(id=i, entry_date=date(2026, 7, 1 + i % 28), direction="expense",
                      category=category, amount_fen=amount, cost_fen=0, counterparty="",
                      description="", **kw)


def test_statement_by_category_and_the_maintenance_share() -> None:
    entries = [
        _income(1, 1_000_000, 100_000),            # 停车 10,000.00 gross, 1,000.00 cost
        _income(2, 360_000, category="广告"),
        _expense(3, 60_000, "合理成本"),
        _expense(4, 300_000, "转入维修资金"),
        _expense(5, 200_000, "审计费"),
    ]
    s = rules.compute_statement(compound_id=1, period_kind="quarter", start=date(2026, 7, 1),
                                end=date(2026, 9, 30), opening_balance_fen=50_000,
                                entries=entries, share_percent=50)
    assert s["income"]["gross_fen"] == 1_360_000 and s["income"]["net_fen"] == 1_260_000
    assert s["expense"]["total_fen"] == 560_000
    assert s["net_fen"] == 700_000 and s["closing_balance_fen"] == 750_000
    fund = s["maintenance_fund"]
    # Base is net income after reasonable costs: 12,600.00 − 600.00 = 12,000.00; half is 6,000.00.
    assert (fund["base_fen"], fund["required_fen"], fund["transferred_fen"]) == (1_200_000, 600_000, 300_000)
    assert fund["met"] is False
    assert s["period"]["label"] == "2026年第三季度"
    assert rules.recompute_totals(s) == s


def test_a_reversal_nets_its_original_to_zero() -> None:
    original = _income(1, 123_456, 3_456)
    reversal = _income(2, -123_456, -3_456, reverses_id=1)
    s = rules.compute_statement(compound_id=1, period_kind="quarter", start=date(2026, 7, 1),
                                end=date(2026, 9, 30), opening_balance_fen=0,
                                entries=[original, reversal], share_percent=50)
    assert original.net_fen + reversal.net_fen == 0
    assert s["income"]["net_fen"] == 0 and s["closing_balance_fen"] == 0
    assert s["income"]["categories"][0]["entries"] == 2


amounts = st.integers(min_value=1, max_value=10**9)


@st.composite
def entry_lists(draw):  # type: ignore[no-untyped-def]
    entries: list[EntryFacts] = []
    for i in range(draw(st.integers(min_value=0, max_value=25))):
        if draw(st.booleans()):
            gross = draw(amounts)
            cost = draw(st.integers(min_value=0, max_value=gross))
            entries.append(_income(i + 1, gross, cost,
                                   category=draw(st.sampled_from(rules.INCOME_CATEGORIES))))
        else:
            entries.append(_expense(i + 1, draw(amounts),
                                    draw(st.sampled_from(rules.EXPENSE_CATEGORIES))))
    # Reverse some of them.
    for e in list(entries):
        if draw(st.booleans()):
            entries.append(EntryFacts(id=1000 + e.id, entry_date=e.entry_date, direction=e.direction,
                                      category=e.category, amount_fen=-e.amount_fen,
                                      cost_fen=-e.cost_fen, counterparty="", description="",
                                      reverses_id=e.id))
    return entries


@settings(max_examples=200, deadline=None)
@given(entries=entry_lists(), opening=st.integers(min_value=-10**9, max_value=10**9),
       share=st.integers(min_value=0, max_value=100))
def test_statement_matches_a_naive_sum(entries: list[EntryFacts], opening: int, share: int) -> None:
    s = rules.compute_statement(compound_id=1, period_kind="quarter", start=date(2026, 7, 1),
                                end=date(2026, 9, 30), opening_balance_fen=opening,
                                entries=entries, share_percent=share)
    naive = opening
    for e in entries:
        naive += (e.amount_fen - e.cost_fen) if e.direction == "income" else -e.amount_fen
    assert s["closing_balance_fen"] == naive
    assert s["closing_balance_fen"] == s["opening_balance_fen"] + s["net_fen"]
    live = [e for e in entries if e.reverses_id is None
            and not any(r.reverses_id == e.id for r in entries)]
    assert s["closing_balance_fen"] == opening + sum(e.net_fen for e in live)
    assert rules.recompute_totals(s) == s
