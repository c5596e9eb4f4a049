"""The credit rules, pure: the 统一社会信用代码 check, each criterion's points over its whole
range (missing data included: never silently full marks), the sum, and the places on a list."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pytest

from app.appraisals.rules import Quarter
from app.credit import rules
from app.credit.rules import (
    AppraisalFact,
    FindingFact,
    Inputs,
    LedgerFact,
    RatingFact,
    RoundFact,
    SurveyFact,
    Thresholds,
)

Q3 = Quarter(2026, 3)  # 1 July – 30 September 2026
IN_Q3 = date(2026, 8, 15)


# --- the code ---------------------------------------------------------------------------------------


def test_known_codes_pass_and_every_wrong_check_character_is_refused() -> None:
    for code in ("91350100M000100Y43", "91110000802100433B", "911100001000079554"):
        assert rules.credit_code_problem(code) is None, code
        for wrong in rules.CREDIT_CODE_CHARS:
            if wrong != code[-1]:
                assert "校验位" in (rules.credit_code_problem(code[:17] + wrong) or ""), wrong


def test_a_code_of_random_characters_is_valid_exactly_with_its_check_character() -> None:
    rng = random.Random(16)
    for _ in range(500):
        first17 = "".join(rng.choice(rules.CREDIT_CODE_CHARS) for _ in range(17))
        check = rules.credit_code_check_char(first17)
        assert rules.credit_code_problem(first17 + check) is None
        assert sum(rules.credit_code_problem(first17 + c) is None for c in rules.CREDIT_CODE_CHARS) == 1


@pytest.mark.parametrize("code, words", [
    ("9135010M000100Y43", "18位"), ("91350100M000100Y430", "18位"), ("91350100M000100I43", "不允许的字符"),
    ("91350100m000100Y43", "不允许的字符"), ("91350100M000100Z43", "Z"),
])
def test_malformed_codes_say_why(code: str, words: str) -> None:
    assert words in (rules.credit_code_problem(code) or "")


# --- the criteria, one by one ------------------------------------------------------------------------


def test_the_criteria_weigh_100_and_say_how_they_score_missing_data() -> None:
    assert sum(c.weight for c in rules.CRITERIA) == 100
    assert [c.key for c in rules.CRITERIA] == ["satisfaction", "appraisal", "timeliness", "rating",
                                                "ledger", "findings"]
    for c in rules.CRITERIA:
        assert c.name and c.source and c.rule
    # The four criteria that can lack a figure say what it then scores: half, not full marks.
    assert {c.key for c in rules.CRITERIA if c.no_data} == {"satisfaction", "appraisal", "timeliness", "rating"}
    assert all("一半" in c.no_data for c in rules.CRITERIA if c.no_data)


def _satisfaction(rate: int | None, year: int = 2026, responses: int = 30) -> rules.Point:
    return rules.satisfaction_point(Q3, [SurveyFact(1, year, responses, rate)])


def test_satisfaction_every_rate() -> None:
    previous = -1
    for rate in range(0, 1001):
        p = _satisfaction(rate)
        assert not p.no_data
        assert p.points_tenths == (250 if rate >= 900 else 0 if rate <= 600
                                   else (2 * 250 * (rate - 600) + 300) // 600)
        assert p.points_tenths >= previous  # never less for a better rate
        previous = p.points_tenths
    assert _satisfaction(900).points_tenths == 250 and _satisfaction(899).points_tenths == 249
    assert _satisfaction(750).points_tenths == 125 and _satisfaction(601).points_tenths == 1
    assert "达到90%" in _satisfaction(900).value and "低于90%" in _satisfaction(833).value
    assert _satisfaction(833).sources[0] == rules.Source("survey", "1", "2026年度物业服务满意度调查")


def test_satisfaction_without_a_usable_survey_is_no_data_at_half() -> None:
    for point in (rules.satisfaction_point(Q3, []), _satisfaction(None),  # under 5 answers
                  _satisfaction(950, year=2024)):  # two years before the quarter's year
        assert point.no_data and point.points_tenths == 125 and point.value.startswith("无数据")
    assert not _satisfaction(950, year=2025).no_data  # the year before counts
    assert not _satisfaction(950, year=2026).no_data


def test_satisfaction_takes_the_latest_usable_survey() -> None:
    p = rules.satisfaction_point(Q3, [SurveyFact(1, 2025, 20, 950), SurveyFact(2, 2026, 20, 700),
                                      SurveyFact(3, 2026, 3, None)])
    assert p.sources[0].ref == "2" and p.points_tenths == (2 * 250 * 100 + 300) // 600


def test_appraisal_every_score() -> None:
    for score in range(0, 1001):
        p = rules.appraisal_point(Q3, [AppraisalFact(7, 2026, score, "合格")])
        assert p.points_tenths == (2 * 200 * score + 1000) // 2000 and not p.no_data
    assert rules.appraisal_point(Q3, [AppraisalFact(7, 2026, 855, "合格")]).points_tenths == 171
    latest = rules.appraisal_point(Q3, [AppraisalFact(1, 2025, 950, "优秀"), AppraisalFact(2, 2026, 500, "不合格")])
    assert latest.points_tenths == 100 and latest.value == "2026年度述职评议综合得分50.0分（不合格）"
    for none in ([], [AppraisalFact(1, 2024, 1000, "优秀")]):
        p = rules.appraisal_point(Q3, none)
        assert p.no_data and p.points_tenths == 100


def test_timeliness_every_share() -> None:
    for n in range(1, 21):
        for k in range(n + 1):
            rounds = [RoundFact(i, IN_Q3, i < k) for i in range(n)]
            p = rules.timeliness_point(Q3, rounds)
            assert p.points_tenths == (2 * 150 * k + n) // (2 * n), (k, n)
            assert len(p.sources) == n
            assert ("逾期工单" in p.value) == (k < n)
    p = rules.timeliness_point(Q3, [RoundFact(1, IN_Q3, True), RoundFact(2, IN_Q3, True),
                                    RoundFact(3, IN_Q3, True), RoundFact(4, IN_Q3, False)])
    assert p.points_tenths == 113 and p.value == "到期4次，按期办结3次（75.0%），逾期工单：4号"


def test_timeliness_counts_only_deadlines_in_the_quarter() -> None:
    outside = [RoundFact(1, date(2026, 6, 30), False), RoundFact(2, date(2026, 10, 1), False)]
    assert rules.timeliness_point(Q3, outside).no_data
    assert rules.timeliness_point(Q3, outside).points_tenths == 75
    edge = rules.timeliness_point(Q3, [RoundFact(3, date(2026, 7, 1), False), RoundFact(4, date(2026, 9, 30), True)])
    assert edge.points_tenths == 75 and not edge.no_data


def test_rating_every_mix() -> None:
    for s, b, u in itertools.product(range(6), repeat=3):
        n = s + b + u
        ratings = ([RatingFact(i, IN_Q3, "satisfied") for i in range(s)]
                   + [RatingFact(10 + i, IN_Q3, "basic") for i in range(b)]
                   + [RatingFact(20 + i, IN_Q3, "unsatisfied") for i in range(u)])
        p = rules.rating_point(Q3, ratings)
        if n == 0:
            assert p.no_data and p.points_tenths == 50
        else:
            assert not p.no_data
            assert p.points_tenths == (2 * (100 * s + 60 * b) + n) // (2 * n), (s, b, u)
    p = rules.rating_point(Q3, [RatingFact(1, IN_Q3, "satisfied"), RatingFact(2, IN_Q3, "basic"),
                                RatingFact(3, date(2026, 10, 8), "unsatisfied")])
    assert p.points_tenths == 80 and p.value == "评价2次：满意1次，基本满意1次；平均80.0分"


def test_ledger_points() -> None:
    assert rules.ledger_point(Q3, LedgerFact(started=False)).points_tenths == 0
    assert rules.ledger_point(Q3, LedgerFact(started=False)).value == "未启用公共收益台账"
    assert rules.ledger_point(Q3, LedgerFact(started=True)).points_tenths == 100
    due = [(date(2026, 1, 30), "2025年第4季度"), (date(2026, 4, 30), "2026年第1季度"),
           (date(2026, 7, 30), "2026年第2季度"), (date(2026, 10, 30), "2026年第3季度")]
    # Only statements due by the quarter's end count; two are worth the whole criterion.
    assert rules.ledger_point(Q3, LedgerFact(True, tuple(due[3:]))).points_tenths == 100
    assert rules.ledger_point(Q3, LedgerFact(True, tuple(due[2:]))).points_tenths == 50
    assert rules.ledger_point(Q3, LedgerFact(True, tuple(due[1:]))).points_tenths == 0
    assert rules.ledger_point(Q3, LedgerFact(True, tuple(due))).points_tenths == 0
    p = rules.ledger_point(Q3, LedgerFact(True, tuple(due[2:3])))
    assert p.value == "1个季度的收支表逾期未公布：2026年第2季度"
    assert p.sources == (rules.Source("ledger_quarter", "2026-07-30", "2026年第2季度收支表"),)


def test_findings_points() -> None:
    for n in range(5):
        found = [FindingFact(i, IN_Q3, f"问题{i}") for i in range(n)]
        assert rules.findings_point(Q3, found).points_tenths == max(0, 200 - 100 * n)
    other_quarter = [FindingFact(9, date(2026, 6, 30), "上季度的问题")]
    assert rules.findings_point(Q3, other_quarter).points_tenths == 200
    p = rules.findings_point(Q3, [FindingFact(4, IN_Q3, "占用消防通道")])
    assert p.sources == (rules.Source("finding", "4", "2026年8月15日：占用消防通道"),)


# --- the sum ---------------------------------------------------------------------------------------------


def test_a_compound_without_any_data_is_not_given_full_marks() -> None:
    s = rules.score(Q3, Inputs())
    by = {p.key: p for p in s.points}
    assert [p.key for p in s.points] == [c.key for c in rules.CRITERIA]
    assert {k for k, p in by.items() if p.no_data} == {"satisfaction", "appraisal", "timeliness", "rating"}
    # half of 25, 20, 15 and 10; no ledger: 0; no finding: 20.
    assert s.total_tenths == 125 + 100 + 75 + 50 + 0 + 200 == 550


def test_the_score_is_the_sum_of_its_points_and_stays_within_100() -> None:
    rng = random.Random(5)
    for _ in range(400):
        inputs = Inputs(
            serving_since=rng.choice([None, date(2025, 1, 1), date(2026, 8, 1)]),
            surveys=tuple(SurveyFact(i, rng.choice([2024, 2025, 2026]), 10, rng.choice([None, rng.randint(0, 1000)]))
                          for i in range(rng.randint(0, 3))),
            appraisals=tuple(AppraisalFact(i, rng.choice([2025, 2026]), rng.randint(0, 1000), "合格")
                             for i in range(rng.randint(0, 2))),
            rounds=tuple(RoundFact(i, date(2026, rng.randint(6, 10), 10), rng.random() < 0.7)
                         for i in range(rng.randint(0, 8))),
            ratings=tuple(RatingFact(i, date(2026, rng.randint(6, 10), 10),
                                     rng.choice(list(rules.RATING_POINTS))) for i in range(rng.randint(0, 8))),
            ledger=LedgerFact(rng.random() < 0.8, tuple((date(2026, m, 28), f"{m}") for m in range(1, rng.randint(1, 12)))),
            findings=tuple(FindingFact(i, date(2026, rng.randint(6, 10), 1), "问题") for i in range(rng.randint(0, 3))))
        s = rules.score(Q3, inputs)
        assert s.total_tenths == sum(p.points_tenths for p in s.points)
        assert 0 <= s.total_tenths <= 1000
        for p in s.points:
            assert 0 <= p.points_tenths <= p.weight * 10


def test_what_judged_an_earlier_company_does_not_count() -> None:
    inputs = Inputs(serving_since=date(2026, 8, 1),
                    surveys=(SurveyFact(1, 2025, 30, 500),), appraisals=(AppraisalFact(1, 2025, 300, "不合格"),),
                    rounds=(RoundFact(1, date(2026, 7, 20), False), RoundFact(2, date(2026, 8, 20), True)),
                    ratings=(RatingFact(1, date(2026, 7, 20), "unsatisfied"),),
                    ledger=LedgerFact(True), findings=(FindingFact(1, date(2026, 7, 2), "前任物业的问题"),))
    by = {p.key: p for p in rules.score(Q3, inputs).points}
    assert by["satisfaction"].no_data and by["appraisal"].no_data and by["rating"].no_data
    assert by["timeliness"].points_tenths == 150
    assert by["findings"].points_tenths == 200


def test_a_full_score_by_hand() -> None:
    inputs = Inputs(
        serving_since=date(2024, 1, 1), surveys=(SurveyFact(3, 2026, 6, 833),),
        appraisals=(AppraisalFact(2, 2026, 812, "合格"),),
        rounds=(RoundFact(5, date(2026, 7, 3), True), RoundFact(6, date(2026, 9, 1), False)),
        ratings=(RatingFact(5, date(2026, 7, 4), "basic"),),
        ledger=LedgerFact(True, ((date(2026, 7, 30), "2026年第2季度"),)),
        findings=(FindingFact(1, date(2026, 9, 9), "未按规定公示收费标准"),))
    s = rules.score(Q3, inputs)
    # 25×(83.3−60)/30 = 19.4; 20×81.2% = 16.2; 15×1/2 = 7.5; 10×60% = 6; 10−5 = 5; 20−10 = 10.
    assert [p.points_tenths for p in s.points] == [194, 162, 75, 60, 50, 100]
    assert rules.points_text(s.total_tenths) == "64.1"


# --- places --------------------------------------------------------------------------------------------


def test_places_by_score() -> None:
    t = Thresholds("score", 90, 60)
    ranked = rules.rank({"A": 950, "B": 900, "C": 899, "D": 600, "E": 599}, t)
    assert [(r.key, r.rank, r.place) for r in ranked] == [
        ("A", 1, "red"), ("B", 2, "red"), ("C", 3, ""), ("D", 4, ""), ("E", 5, "black")]
    assert rules.thresholds_text(t) == "红榜：得分90分及以上；黑榜：得分低于60分"


def test_places_by_rank_with_ties() -> None:
    ranked = rules.rank({"A": 900, "B": 900, "C": 700, "D": 500, "E": 500, "F": 400}, Thresholds("rank", 1, 2))
    assert [(r.key, r.rank, r.place) for r in ranked] == [
        ("A", 1, "red"), ("B", 1, "red"), ("C", 3, ""), ("D", 4, "black"), ("E", 4, "black"), ("F", 6, "black")]
    ranked = rules.rank({"A": 900, "B": 800, "C": 500, "D": 500}, Thresholds("rank", 1, 1))
    assert [r.place for r in ranked] == ["red", "", "black", "black"]  # tied at the bottom: both


def test_a_company_tied_across_both_lists_is_on_neither() -> None:
    ranked = rules.rank({"A": 700, "B": 700}, Thresholds("rank", 1, 1))
    assert [r.place for r in ranked] == ["", ""]
    assert "两榜均不列入" in rules.thresholds_text(Thresholds("rank", 1, 1))


def test_every_score_mode_threshold_places_each_company_once() -> None:
    scores = {chr(65 + i): s for i, s in enumerate((1000, 905, 900, 750, 600, 599, 0))}
    for red in range(0, 101, 5):
        for black in range(0, red + 1, 5):
            for r in rules.rank(scores, Thresholds("score", red, black)):
                assert r.place == ("red" if r.score_tenths >= red * 10 else
                                   "black" if r.score_tenths < black * 10 else "")


@pytest.mark.parametrize("t, ok", [
    (Thresholds("score", 90, 60), True), (Thresholds("score", 60, 60), True), (Thresholds("score", 60, 90), False),
    (Thresholds("rank", 3, 3), True), (Thresholds("rank", 0, 1), True), (Thresholds("rank", 0, 0), False),
])
def test_thresholds_checked(t: Thresholds, ok: bool) -> None:
    assert (rules.thresholds_problem(t) is None) == ok


def test_company_score_is_the_mean_of_its_compounds_rounded_half_up() -> None:
    assert rules.company_score([800]) == 800
    assert rules.company_score([800, 805]) == 803  # 802.5 → 803
    assert rules.company_score([1, 2, 2]) == 2  # 1.67 → 2


def test_ended_quarters() -> None:
    assert rules.ended_quarters(date(2026, 12, 5), 3) == [Quarter(2026, 3), Quarter(2026, 2), Quarter(2026, 1)]
    assert rules.ended_quarters(date(2026, 1, 1), 2) == [Quarter(2025, 4), Quarter(2025, 3)]
    assert rules.quarter_label(Quarter(2026, 3)) == "2026年第3季度"
