"""The pure survey rules: answers' validation, the 5-answer floor, the satisfaction rate."""

from __future__ import annotations

import math
import random
from fractions import Fraction

from app.surveys import rules

Q = [(1, "清洁卫生", rules.SATISFACTION), (2, "绿化养管", rules.SATISFACTION),
     (3, "总体打分", rules.POINTS)]


def test_the_template_holds_the_seed_items() -> None:
    texts = "".join(q.text for q in rules.TEMPLATES[rules.PROPERTY_SATISFACTION].questions)
    for item in ("清洁卫生", "公共秩序维护", "共用部位维修养护", "绿化养管", "共用设施设备", "24小时报修"):
        assert item in texts
    assert "四（三）" in rules.TEMPLATES[rules.PROPERTY_SATISFACTION].clause
    assert rules.STANDARD_PERCENT == 90


def test_validate_answers() -> None:
    qs = [(1, rules.SATISFACTION), (2, rules.POINTS)]
    assert rules.validate_answers(qs, {1: 3, 2: 5}) == []
    assert rules.validate_answers(qs, {1: 3}) == ["第2项未作答"]
    assert rules.validate_answers(qs, {1: 4, 2: 5}) == ["第1项的答案不在可选范围内"]
    assert rules.validate_answers(qs, {1: 3, 2: 5, 9: 1}) == ["答卷含有本问卷没有的题目"]


def test_under_five_answers_nothing_is_computed() -> None:
    answers = [(1, 3), (2, 1), (3, 5)] * 4
    result = rules.tally(Q, answers, responses=4)
    assert not result.published and result.rate_tenths is None and result.meets_standard is None
    assert all(not i.published and i.shares == () and i.answers == 0 for i in result.items)


def test_satisfaction_rate_by_hand() -> None:
    # Item 1: 满意 3, 基本满意 2, 不满意 1 → 5/6 = 83.3%. Item 2: 满意 6 → 100%.
    # Overall: (5 + 6) / 12 = 91.7% (≥ 90%). Points: (5·3 + 4·2 + 1·1) / 6 = 4.0.
    answers = ([(1, 3)] * 3 + [(1, 2)] * 2 + [(1, 1)] + [(2, 3)] * 6
               + [(3, 5)] * 3 + [(3, 4)] * 2 + [(3, 1)])
    result = rules.tally(Q, answers, responses=6)
    one, two, points = result.items
    assert (one.satisfied, one.answers, one.rate_tenths) == (5, 6, 833)
    assert [(s.label, s.count, s.percent_tenths) for s in one.shares] == [
        ("满意", 3, 500), ("基本满意", 2, 333), ("不满意", 1, 167)]
    assert two.rate_tenths == 1000
    assert points.rate_tenths is None and points.average_tenths == 40
    assert (result.satisfied, result.rated, result.rate_tenths) == (11, 12, 917)
    assert result.meets_standard is True
    assert rules.percent_text(result.rate_tenths) == "91.7%"


def test_below_the_standard() -> None:
    answers = [(1, 3)] * 8 + [(1, 1)] * 2 + [(2, 2)] * 9 + [(2, 1)]
    result = rules.tally(Q[:2], answers, responses=10)
    assert result.rate_tenths == 850 and result.meets_standard is False


def test_an_item_with_fewer_answers_is_suppressed_alone() -> None:
    answers = [(1, 3)] * 5 + [(2, 3)] * 4
    result = rules.tally(Q[:2], answers, responses=5)
    assert result.items[0].published and not result.items[1].published
    assert result.rate_tenths == 1000 and result.rated == 5  # the suppressed item is left out


def test_rate_against_a_naive_recount() -> None:
    rng = random.Random(16)
    for _ in range(300):
        n = rng.randint(5, 60)
        values = [rng.choice((1, 2, 3)) for _ in range(n)]
        result = rules.tally(Q[:1], [(1, v) for v in values], responses=n)
        satisfied = sum(1 for v in values if v in (2, 3))
        expected = math.floor(Fraction(satisfied * 1000, n) + Fraction(1, 2))  # half up
        assert result.rate_tenths == expected
        assert sum(s.count for s in result.items[0].shares) == n
