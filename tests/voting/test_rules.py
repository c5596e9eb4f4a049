"""Hand-computed checks of the Art. 278/279 rules at every boundary."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import pytest

from app.voting.rules import (
    ART278_CATEGORIES,
    SPECIAL_MAJORITY_CATEGORIES,
    STATUTORY_QUORUM,
    STATUTORY_SIMPLE_MAJORITY,
    STATUTORY_SPECIAL_MAJORITY,
    Category,
    ChoiceTotals,
    DuplicateVoteError,
    ElectionBallot,
    ElectionResult,
    InvalidElectionError,
    InvalidThresholdError,
    LaxerThanLawError,
    MatterResult,
    RuleSettings,
    SubjectVote,
    TallyInputError,
    Threshold,
    Thresholds,
    evaluate_election,
    evaluate_matter,
    evaluate_survey,
    evaluate_totals,
    evaluate_unanimity,
    format_percent,
    legal_basis,
    statutory_thresholds,
    validate_settings,
    validate_thresholds,
)
from app.voting.rules import Choice as C

SIMPLE = Category.OTHER_MAJOR_MATTER  # (九), simple majority
SPECIAL = Category.RAISE_MAINTENANCE_FUND  # (六), three quarters


def ge(numerator: int, denominator: int) -> Threshold:
    """Build an inclusive bound (≥ n/d)."""
    return Threshold(Fraction(numerator, denominator), inclusive=True)


def gt(numerator: int, denominator: int) -> Threshold:
    """Build a strict bound (> n/d)."""
    return Threshold(Fraction(numerator, denominator), inclusive=False)


def decide(
    category: Category,
    subjects: Sequence[tuple[int, C | None]],
    settings: RuleSettings | None = None,
) -> MatterResult:
    """Evaluate a matter over a roster given as (area in hundredths, choice) per subject."""
    votes = [SubjectVote(f"s{i}", area, choice) for i, (area, choice) in enumerate(subjects)]
    return evaluate_matter(
        category,
        total_area=sum(area for area, _ in subjects),
        total_headcount=len(subjects),
        votes=votes,
        settings=settings,
    )


# ---------------------------------------------------------------------------
# Quorum: a_p ≥ 2/3·A and n_p ≥ 2/3·N
# ---------------------------------------------------------------------------


def test_quorum_exactly_two_thirds_of_area_and_headcount_passes() -> None:
    # A = 300.00 m², a_p = 200.00 m² = 2/3; N = 3, n_p = 2 = 2/3.
    result = decide(SIMPLE, [(10000, C.AGREE), (10000, C.AGREE), (10000, None)])
    assert (result.total_area, result.participating_area) == (30000, 20000)
    assert (result.total_headcount, result.participating_headcount) == (3, 2)
    assert result.participation_area_ratio == Fraction(2, 3)
    assert result.participation_headcount_ratio == Fraction(2, 3)
    assert result.passed is True
    assert result.reasons == ()
    assert "2/3（66.67%），达到三分之二" in result.explanation
    assert result.explanation.endswith("结果：通过。")


def test_quorum_one_hundredth_of_a_square_metre_below_two_thirds_fails() -> None:
    # A = 300.00 m², a_p = 199.99 m² < 200.00; headcount still exactly 2/3.
    result = decide(SIMPLE, [(10000, C.AGREE), (9999, C.AGREE), (10001, None)])
    assert result.participating_area == 19999
    assert result.participation_area_ratio == Fraction(19999, 30000)
    assert result.passed is False
    assert result.reasons == ("quorum_area",)
    assert "参与表决的专有部分面积未达到总面积的三分之二" in result.explanation


def test_quorum_exactly_two_thirds_of_headcount_passes() -> None:
    # N = 6, n_p = 4 = 2/3; area 600.00 + 3 × 1.00 of 605.00 is well above 2/3.
    subjects: list[tuple[int, C | None]] = [(60000, C.AGREE), (100, C.AGREE), (100, C.AGREE)]
    subjects += [(100, C.ABSTAIN)]
    subjects += [(100, None), (100, None)]
    result = decide(SIMPLE, subjects)
    assert result.participation_headcount_ratio == Fraction(4, 6)
    assert result.passed is True


def test_quorum_one_person_below_two_thirds_of_headcount_fails() -> None:
    # N = 6, n_p = 3 < 4; the area quorum (600.00 + 2.00 of 605.00) is met.
    subjects: list[tuple[int, C | None]] = [(60000, C.AGREE), (100, C.AGREE), (100, C.OPPOSE)]
    subjects += [(100, None), (100, None), (100, None)]
    result = decide(SIMPLE, subjects)
    assert result.participation_headcount_ratio == Fraction(1, 2)
    assert result.reasons == ("quorum_headcount",)
    assert "参与表决人数未达到总人数的三分之二" in result.explanation


@pytest.mark.parametrize(("participants", "met"), [(5, True), (4, False)])
def test_quorum_headcount_with_seven_subjects_needs_five(participants: int, met: bool) -> None:
    # 2/3 × 7 = 4.67: five take part → met, four → not met (equal areas, all agree).
    subjects: list[tuple[int, C | None]] = list([(100, C.AGREE)] * participants)
    subjects += [(100, None)] * (7 - participants)
    result = decide(SIMPLE, subjects)
    assert result.passed is met
    assert result.reasons == (() if met else ("quorum_area", "quorum_headcount"))


def test_quorum_failure_overrides_unanimous_approval() -> None:
    # Everyone who voted agreed (100%), but only 1 of 3 subjects and 1/3 of the area took part.
    result = decide(SPECIAL, [(10000, C.AGREE), (10000, None), (10000, None)])
    assert result.approval_area_ratio == 1
    assert result.approval_headcount_ratio == 1
    assert result.passed is False
    assert result.reasons == ("quorum_area", "quorum_headcount")


def test_invalid_ballots_count_for_participation_but_not_approval() -> None:
    # 2 of 3 take part (one invalid): quorum met; approval 1/2 by area and headcount: fails.
    result = decide(SIMPLE, [(10000, C.AGREE), (10000, C.INVALID), (10000, None)])
    assert (result.participating_area, result.participating_headcount) == (20000, 2)
    assert (result.invalid_area, result.invalid_headcount) == (10000, 1)
    assert (result.agree_area, result.agree_headcount) == (10000, 1)
    assert result.reasons == ("approval_area", "approval_headcount")


def test_abstain_and_oppose_count_for_participation_and_are_reported() -> None:
    # 2 agree, 1 opposes, 1 abstains: abstaining is taking part, so 2 of 4 is not a majority.
    result = decide(
        SIMPLE, [(10000, C.AGREE), (10000, C.AGREE), (5000, C.OPPOSE), (2500, C.ABSTAIN)]
    )
    assert (result.oppose_area, result.oppose_headcount) == (5000, 1)
    assert (result.abstain_area, result.abstain_headcount) == (2500, 1)
    assert (result.participating_area, result.participating_headcount) == (27500, 4)
    assert result.approval_area_ratio == Fraction(20000, 27500)
    assert result.approval_headcount_ratio == Fraction(1, 2)
    assert result.reasons == ("approval_headcount",)


def test_non_participants_never_count_as_agreeing() -> None:
    # 3 agree, 1 opposes, 2 silent of 6: silence is neither approval nor participation.
    subjects = [(100, C.AGREE)] * 3 + [(100, C.OPPOSE)] + [(100, None)] * 2
    result = decide(SIMPLE, subjects)
    assert (result.agree_headcount, result.participating_headcount) == (3, 4)
    assert result.approval_headcount_ratio == Fraction(3, 4)


# ---------------------------------------------------------------------------
# Simple majority: a_y > 1/2·a_p and n_y > 1/2·n_p (strict)
# ---------------------------------------------------------------------------


def test_simple_majority_exactly_half_of_area_fails() -> None:
    # a_p = 200.00, a_y = 50.00 + 50.00 = 100.00 = exactly 1/2; headcount 2/3 agrees.
    result = decide(SIMPLE, [(5000, C.AGREE), (5000, C.AGREE), (10000, C.OPPOSE)])
    assert result.approval_area_ratio == Fraction(1, 2)
    assert result.approval_headcount_ratio == Fraction(2, 3)
    assert result.reasons == ("approval_area",)
    assert "同意的专有部分面积未过参与表决专有部分面积的半数" in result.explanation


def test_simple_majority_one_hundredth_above_half_of_area_passes() -> None:
    # a_p = 200.01, a_y = 100.01 → 2 × 10001 = 20002 > 20001.
    result = decide(SIMPLE, [(5000, C.AGREE), (5001, C.AGREE), (10000, C.OPPOSE)])
    assert result.approval_area_ratio == Fraction(10001, 20001)
    assert result.passed is True


def test_simple_majority_exactly_half_of_headcount_fails() -> None:
    # 2 of 4 participants agree (exactly 1/2), holding 200.00 of 202.00 m².
    subjects = [(10000, C.AGREE), (10000, C.AGREE), (100, C.OPPOSE), (100, C.ABSTAIN)]
    result = decide(SIMPLE, subjects)
    assert result.approval_headcount_ratio == Fraction(1, 2)
    assert result.reasons == ("approval_headcount",)
    assert "未通过：同意的人数未过参与表决人数的半数" in result.explanation
    assert "1/2（50.00%），未过半数" in result.explanation


def test_simple_majority_one_person_above_half_of_headcount_passes() -> None:
    # 3 of 5 participants agree.
    subjects = [(10000, C.AGREE), (10000, C.AGREE), (100, C.AGREE)]
    subjects += [(100, C.OPPOSE), (100, C.ABSTAIN)]
    result = decide(SIMPLE, subjects)
    assert result.approval_headcount_ratio == Fraction(3, 5)
    assert result.passed is True


# ---------------------------------------------------------------------------
# Special majority (六)(七)(八): a_y ≥ 3/4·a_p and n_y ≥ 3/4·n_p
# ---------------------------------------------------------------------------


def test_special_majority_exactly_three_quarters_passes() -> None:
    # a_p = 100.00, a_y = 75.00; n_p = 4, n_y = 3.
    subjects = [(2500, C.AGREE), (2500, C.AGREE), (2500, C.AGREE), (2500, C.OPPOSE)]
    result = decide(SPECIAL, subjects)
    assert result.approval_area_ratio == Fraction(3, 4)
    assert result.approval_headcount_ratio == Fraction(3, 4)
    assert result.passed is True
    assert result.thresholds.approval_area == STATUTORY_SPECIAL_MAJORITY


def test_special_majority_one_hundredth_below_three_quarters_of_area_fails() -> None:
    # a_p = 100.00, a_y = 74.99.
    subjects = [(2500, C.AGREE), (2500, C.AGREE), (2499, C.AGREE), (2501, C.OPPOSE)]
    result = decide(SPECIAL, subjects)
    assert result.approval_area_ratio == Fraction(7499, 10000)
    assert result.reasons == ("approval_area",)
    assert "同意的专有部分面积未达到参与表决专有部分面积的四分之三" in result.explanation


def test_special_majority_below_three_quarters_of_headcount_fails() -> None:
    # n_p = 7, n_y = 5 (5/7 < 3/4); agreeing area 500.00 of 502.00.
    subjects = [(10000, C.AGREE)] * 5 + [(100, C.OPPOSE)] * 2
    result = decide(SPECIAL, subjects)
    assert result.approval_headcount_ratio == Fraction(5, 7)
    assert result.reasons == ("approval_headcount",)


@pytest.mark.parametrize("category", sorted(ART278_CATEGORIES))
def test_categories_six_to_eight_need_three_quarters_others_a_simple_majority(
    category: Category,
) -> None:
    # 2 of 3 agree, equal areas: 2/3 is a simple majority but short of three quarters.
    result = decide(category, [(10000, C.AGREE), (10000, C.AGREE), (10000, C.OPPOSE)])
    special = category in {Category("6"), Category("7"), Category("8")}
    assert category.needs_special_majority is special
    assert result.passed is not special
    expected = STATUTORY_SPECIAL_MAJORITY if special else STATUTORY_SIMPLE_MAJORITY
    assert result.thresholds == Thresholds(STATUTORY_QUORUM, STATUTORY_QUORUM, expected, expected)
    assert result.reasons == (("approval_area", "approval_headcount") if special else ())
    assert result.category is category
    assert result.legal_basis.startswith("《中华人民共和国民法典》第二百七十八条第一款")


def test_special_majority_categories_are_exactly_six_seven_eight() -> None:
    assert {c.value for c in SPECIAL_MAJORITY_CATEGORIES} == {"6", "7", "8"}
    assert {c.value for c in ART278_CATEGORIES} == {str(i) for i in range(1, 10)}


def test_category_labels_and_legal_basis_are_chinese() -> None:
    assert Category.RULES_OF_PROCEDURE.label == "（一）制定和修改业主大会议事规则"
    assert Category.OTHER_MAJOR_MATTER.label.startswith("（九）")
    assert legal_basis(Category.RECONSTRUCTION) == (
        "《中华人民共和国民法典》第二百七十八条第一款第（七）项、第二款"
    )
    assert legal_basis(Category.ART279) == "《中华人民共和国民法典》第二百七十九条"


# ---------------------------------------------------------------------------
# Zero totals: never divide by zero, never pass
# ---------------------------------------------------------------------------


def test_empty_scope_fails_cleanly() -> None:
    result = evaluate_matter(SIMPLE, total_area=0, total_headcount=0, votes=[])
    assert result.passed is False
    assert result.reasons == (
        "quorum_area",
        "quorum_headcount",
        "approval_area",
        "approval_headcount",
    )
    assert result.participation_area_ratio is None
    assert result.participation_headcount_ratio is None
    assert result.approval_area_ratio is None
    assert result.approval_headcount_ratio is None
    assert "无法计算（分母为零）" in result.explanation


def test_nobody_voting_fails_with_every_reason() -> None:
    result = decide(SIMPLE, [(10000, None), (10000, None)])
    assert result.participation_area_ratio == 0
    assert result.approval_area_ratio is None
    assert result.reasons == (
        "quorum_area",
        "quorum_headcount",
        "approval_area",
        "approval_headcount",
    )


def test_zero_area_roster_cannot_pass_on_headcount_alone() -> None:
    # One subject with no counted area (e.g. parking excluded) agrees: A = 0 → area checks fail.
    result = decide(SIMPLE, [(0, C.AGREE)])
    assert result.participation_headcount_ratio == 1
    assert result.participation_area_ratio is None
    assert result.reasons == ("quorum_area", "approval_area")


def test_totals_inconsistent_with_votes_are_refused() -> None:
    with pytest.raises(TallyInputError):
        evaluate_matter(
            SIMPLE, total_area=100, total_headcount=1, votes=[SubjectVote("a", 101, C.AGREE)]
        )
    with pytest.raises(TallyInputError):
        evaluate_matter(
            SIMPLE,
            total_area=200,
            total_headcount=1,
            votes=[SubjectVote("a", 100, C.AGREE), SubjectVote("b", 100, None)],
        )
    with pytest.raises(TallyInputError):
        evaluate_matter(SIMPLE, total_area=-1, total_headcount=0, votes=[])
    with pytest.raises(TallyInputError):
        ChoiceTotals(total_area=10, total_headcount=1, agree_area=11, agree_headcount=1)
    with pytest.raises(TallyInputError):
        ChoiceTotals(total_area=10, total_headcount=1, oppose_area=5, oppose_headcount=0)


def test_areas_must_be_integer_hundredths() -> None:
    with pytest.raises(TallyInputError):
        evaluate_matter(
            SIMPLE,
            total_area=100,
            total_headcount=1,
            votes=[SubjectVote("a", 99.5, C.AGREE)],  # type: ignore[arg-type]
        )


def test_one_subject_twice_in_a_matter_is_refused() -> None:
    with pytest.raises(DuplicateVoteError) as excinfo:
        evaluate_matter(
            SIMPLE,
            total_area=200,
            total_headcount=2,
            votes=[SubjectVote("a", 100, C.AGREE), SubjectVote("a", 100, C.OPPOSE)],
        )
    assert excinfo.value.code == "vote_duplicate"


def test_unknown_choice_is_refused() -> None:
    with pytest.raises(TallyInputError):
        decide(SIMPLE, [(100, "maybe")])  # type: ignore[list-item]


def test_evaluate_totals_matches_evaluate_matter() -> None:
    totals = ChoiceTotals(
        total_area=30000,
        total_headcount=3,
        agree_area=20000,
        agree_headcount=2,
        oppose_area=10000,
        oppose_headcount=1,
    )
    direct = evaluate_totals(SIMPLE, totals)
    counted = decide(SIMPLE, [(10000, C.AGREE), (10000, C.AGREE), (10000, C.OPPOSE)])
    assert direct == counted


def test_percentages_are_display_only_and_round_half_up() -> None:
    assert format_percent(Fraction(2, 3)) == "66.67%"
    assert format_percent(Fraction(1, 3)) == "33.33%"
    assert format_percent(Fraction(1, 8)) == "12.50%"
    assert format_percent(Fraction(1, 20000)) == "0.01%"  # 0.005% rounds half up
    assert format_percent(Fraction(1)) == "100.00%"
    assert format_percent(None) == "—"


# ---------------------------------------------------------------------------
# Surveys: shares, never a decision
# ---------------------------------------------------------------------------


def test_survey_reports_shares_of_participants_and_no_decision() -> None:
    # Participants: 60.00 agree, 30.00 oppose, 10.00 abstain (100.00 m², 3 people); 1 silent.
    votes = [
        SubjectVote("a", 6000, C.AGREE),
        SubjectVote("b", 3000, C.OPPOSE),
        SubjectVote("c", 1000, C.ABSTAIN),
        SubjectVote("d", 10000, None),
    ]
    result = evaluate_survey(total_area=20000, total_headcount=4, votes=votes)
    assert result.category is Category.SURVEY
    assert result.participation_area_ratio == Fraction(1, 2)
    assert result.participation_headcount_ratio == Fraction(3, 4)
    assert result.agree_area_share == Fraction(3, 5)
    assert result.oppose_area_share == Fraction(3, 10)
    assert result.abstain_area_share == Fraction(1, 10)
    assert result.invalid_area_share == 0
    assert result.agree_headcount_share == Fraction(1, 3)
    assert result.oppose_headcount_share == Fraction(1, 3)
    assert result.abstain_headcount_share == Fraction(1, 3)
    assert not hasattr(result, "passed")
    assert not hasattr(result, "reasons")
    assert "不构成业主共同决定" in result.explanation
    assert "通过" not in result.explanation


def test_survey_with_no_participants_has_no_shares() -> None:
    result = evaluate_survey(total_area=100, total_headcount=1, votes=[SubjectVote("a", 100, None)])
    assert result.agree_area_share is None
    assert result.agree_headcount_share is None
    assert result.participation_area_ratio == 0


def test_survey_has_no_thresholds_to_configure() -> None:
    with pytest.raises(InvalidThresholdError):
        statutory_thresholds(Category.SURVEY)
    with pytest.raises(InvalidThresholdError):
        RuleSettings({Category.SURVEY: statutory_thresholds(SIMPLE)})
    with pytest.raises(InvalidThresholdError):
        evaluate_totals(Category.SURVEY, ChoiceTotals(total_area=1, total_headcount=1))


# ---------------------------------------------------------------------------
# Art. 279: unanimity of the affected subjects
# ---------------------------------------------------------------------------


def test_art279_passes_only_when_every_affected_subject_agrees() -> None:
    affected = [SubjectVote("101", 9000, C.AGREE), SubjectVote("102", 9000, C.AGREE)]
    result = evaluate_unanimity(affected=affected)
    assert result.passed is True
    assert result.reasons == ()
    assert result.not_agreeing == ()
    assert (result.agree_headcount, result.affected_headcount) == (2, 2)
    assert result.legal_basis == "《中华人民共和国民法典》第二百七十九条"


@pytest.mark.parametrize("dissent", [C.OPPOSE, C.ABSTAIN, C.INVALID, None])
def test_art279_one_dissent_abstention_invalid_or_silence_fails(dissent: C | None) -> None:
    # 99 of 100 affected agree; the hundredth did not: no majority can make up for it.
    affected = [SubjectVote(i, 9000, C.AGREE) for i in range(99)]
    affected.append(SubjectVote(99, 100, dissent))
    result = evaluate_unanimity(affected=affected)
    assert result.passed is False
    assert result.reasons == ("not_unanimous",)
    assert result.not_agreeing == (99,)
    assert result.not_agreeing_count == 1
    assert result.agree_headcount == 99
    assert "1 名未表示同意" in result.explanation


def test_art279_without_affected_subjects_fails() -> None:
    result = evaluate_unanimity(affected=[])
    assert result.passed is False
    assert result.reasons == ("no_affected_subjects",)


def test_art279_lists_every_subject_that_did_not_agree() -> None:
    affected = [
        SubjectVote("a", 100, C.AGREE),
        SubjectVote("b", 100, C.OPPOSE),
        SubjectVote("c", 100, None),
    ]
    result = evaluate_unanimity(affected=affected)
    assert result.not_agreeing == ("b", "c")
    assert result.category is Category.ART279


def test_art279_is_not_configurable_as_a_majority_matter() -> None:
    with pytest.raises(InvalidThresholdError):
        RuleSettings({Category.ART279: statutory_thresholds(SIMPLE)})
    with pytest.raises(InvalidThresholdError):
        evaluate_matter(Category.ART279, total_area=0, total_headcount=0, votes=[])


# ---------------------------------------------------------------------------
# Elections (category 三)
# ---------------------------------------------------------------------------


def elect(
    ballots: list[tuple[int, set[str] | None]],
    candidates: tuple[str, ...] = ("A", "B", "C", "D", "E"),
    seats: int = 3,
    settings: RuleSettings | None = None,
    invalid: frozenset[int] = frozenset(),
) -> ElectionResult:
    """Run an election over (area, approved candidates or None) per subject."""
    return evaluate_election(
        total_area=sum(area for area, _ in ballots),
        total_headcount=len(ballots),
        seats=seats,
        candidates=candidates,
        ballots=[
            ElectionBallot(
                i, area, None if approvals is None else frozenset(approvals), i in invalid
            )
            for i, (area, approvals) in enumerate(ballots)
        ],
        settings=settings,
    )


def by_id(result: ElectionResult) -> dict[object, tuple[int, int, bool, bool, bool]]:
    """Map candidate → (headcount, area, qualified, elected, tied)."""
    return {
        c.candidate_id: (
            c.approval_headcount,
            c.approval_area,
            c.qualified,
            c.elected,
            c.tied_for_runoff,
        )
        for c in result.candidates
    }


@pytest.mark.parametrize("seats", [0, 1, 2, 4, 6, -3])
def test_election_seats_must_be_odd_and_at_least_three(seats: int) -> None:
    with pytest.raises(InvalidElectionError) as excinfo:
        elect([(100, {"A"})], seats=seats)
    assert excinfo.value.code == "election_seats_invalid"
    assert "单数" in excinfo.value.message


def test_election_candidates_must_be_distinct_and_present() -> None:
    with pytest.raises(InvalidElectionError):
        elect([(100, {"A"})], candidates=("A", "A", "B"))
    with pytest.raises(InvalidElectionError):
        elect([(100, set())], candidates=())


def test_election_ballot_naming_an_unknown_candidate_is_refused() -> None:
    with pytest.raises(TallyInputError):
        elect([(100, {"Z"})])


def test_election_seats_go_by_headcount_then_area() -> None:
    # 5 subjects, all vote: a_p = 410.00 m², n_p = 5.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "D"}),
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
        (1000, {"A", "D", "E"}),
    ]
    result = elect(ballots)
    table = by_id(result)
    assert table["A"] == (5, 41000, True, True, False)
    assert table["B"] == (4, 40000, True, True, False)
    assert table["C"] == (3, 30000, True, True, False)
    # D: 2 of 5 people (not > 1/2) → not qualified; E: 1 person.
    assert table["D"] == (2, 11000, False, False, False)
    assert table["E"] == (1, 1000, False, False, False)
    assert result.elected == ("A", "B", "C")
    assert result.unfilled_seats == 0
    assert result.all_seats_filled is True
    assert result.reasons == ()


def test_election_area_breaks_an_equal_headcount_at_the_last_seat() -> None:
    # a_p = 470.00 m², n_p = 5. A: 5 people; B: 4; C and D: 3 people each, C 290.00 m², D 270.00.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
        (9000, {"A", "B", "D"}),
        (9000, {"A", "B", "D"}),
        (9000, {"A", "C", "D"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C", "D"))
    table = by_id(result)
    assert table["C"] == (3, 29000, True, True, False)
    assert table["D"] == (3, 27000, True, False, False)
    assert result.elected == ("A", "B", "C")
    assert result.tied_candidates == ()


def test_election_too_few_qualified_leaves_seats_unfilled() -> None:
    # C has a majority of people but not of area; D a majority of area but not of people.
    ballots: list[tuple[int, set[str] | None]] = [
        (5000, {"A", "B", "C"}),
        (5000, {"A", "B", "C"}),
        (5000, {"A", "B", "C"}),
        (20000, {"A", "B", "D"}),
        (20000, {"A", "B", "D"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C", "D"))
    table = by_id(result)
    # Participating: 550.00 m², 5 people. C: 3 people but 150.00 m² (not > half area).
    assert table["C"] == (3, 15000, False, False, False)
    # D: 2 people (not > half), 400.00 m².
    assert table["D"] == (2, 40000, False, False, False)
    assert result.elected == ("A", "B")
    assert result.unfilled_seats == 1
    assert result.reasons == ("too_few_qualified",)
    assert "1 个席位空缺" in result.explanation


def test_election_ranking_uses_headcount_before_area_among_qualified() -> None:
    # 7 subjects: five of 10.00 m², two of 100.00 m² (a_p = 250.00 m², n_p = 7).
    ballots: list[tuple[int, set[str] | None]] = [
        (1000, {"A", "C", "D"}),
        (1000, {"A", "C", "D"}),
        (1000, {"A", "B", "C"}),
        (1000, {"A", "B", "C"}),
        (1000, {"A", "B"}),
        (10000, {"A", "C", "D"}),
        (10000, {"A", "B", "D"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C", "D"))
    table = by_id(result)
    assert table["A"] == (7, 25000, True, True, False)
    # C (5 people, 140.00 m²) outranks D (4 people, 220.00 m²): headcount first.
    assert table["C"] == (5, 14000, True, True, False)
    # D and B both have 4 people; D's 220.00 m² beats B's 130.00 m² for the last seat.
    assert table["D"] == (4, 22000, True, True, False)
    assert table["B"] == (4, 13000, True, False, False)
    assert result.elected == ("A", "C", "D")


def test_election_qualification_needs_more_than_half_of_both() -> None:
    # 4 subjects of 100.00 m². B: exactly half the people and area → not qualified.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B"}),
        (10000, {"A", "B"}),
        (10000, {"A", "C"}),
        (10000, {"A", "C"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C"))
    table = by_id(result)
    assert table["A"] == (4, 40000, True, True, False)
    assert table["B"][2] is False
    assert table["C"][2] is False
    assert result.elected == ("A",)
    assert result.unfilled_seats == 2


def test_election_tie_for_the_last_seat_leaves_it_for_a_runoff() -> None:
    # 5 subjects of 100.00 m². A: 5; B, C, D: 3 each with equal area; three seats.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "D"}),
        (10000, {"A", "C", "D"}),
        (10000, {"A", "B", "C"}),
        (10000, {"A", "D"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C", "D"))
    table = by_id(result)
    assert table["B"] == (3, 30000, True, False, True)
    assert table["C"] == (3, 30000, True, False, True)
    assert table["D"] == (3, 30000, True, False, True)
    assert result.elected == ("A",)
    assert result.tied_candidates == ("B", "C", "D")
    assert result.runoff_seats == 2
    assert result.unfilled_seats == 2
    assert result.reasons == ("tie_for_last_seat",)
    assert result.all_seats_filled is False
    assert "2 个席位须另行选举" in result.explanation
    assert "B、C、D" in result.explanation


def test_election_equal_headcount_different_area_is_not_a_tie() -> None:
    # Same as the run-off case but D's last approval comes from a larger subject.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "D"}),
        (10000, {"A", "C", "D"}),
        (10000, {"A", "B", "C"}),
        (10001, {"A", "D"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C", "D"))
    assert result.elected[:2] == ("A", "D")
    # B and C still tie (3 people, 300.00 m²) for the one remaining seat.
    assert result.tied_candidates == ("B", "C")
    assert result.runoff_seats == 1


def test_election_tie_below_the_cut_does_not_block_seats() -> None:
    # a_p = 660.00 m², n_p = 7. A, B, C: 4 people, 390.00 m²; D, E: 4 people, 360.00 m².
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
        (9000, {"A", "D", "E"}),
        (9000, {"B", "D", "E"}),
        (9000, {"C", "D", "E"}),
        (9000, {"D", "E"}),
    ]
    result = elect(ballots)
    table = by_id(result)
    assert table["A"] == (4, 39000, True, True, False)
    assert table["D"] == (4, 36000, True, False, False)
    assert table["E"] == (4, 36000, True, False, False)
    assert result.elected == ("A", "B", "C")
    assert result.tied_candidates == ()
    assert result.all_seats_filled is True


def test_election_ballot_approving_too_many_candidates_is_invalid() -> None:
    # Subject 0 approves 4 candidates for 3 seats: it takes part but approves nobody.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C", "D"}),
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
    ]
    result = elect(ballots, candidates=("A", "B", "C", "D"))
    table = by_id(result)
    assert result.participating_headcount == 3
    assert result.invalid_headcount == 1
    assert table["A"][:2] == (2, 20000)
    assert table["D"][:2] == (0, 0)
    assert result.elected == ("A", "B", "C")


def test_election_ruled_invalid_or_empty_ballots_count_for_quorum_only() -> None:
    # 3 subjects: one valid ballot for A, B, C; one ruled invalid; one approving nobody.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C"}),
        (10000, {"A", "B", "C"}),
        (10000, set()),
    ]
    result = elect(ballots, candidates=("A", "B", "C"), invalid=frozenset({1}))
    assert result.participating_headcount == 3
    assert result.invalid_headcount == 1
    # A: 1 of 3 participants → not qualified, although the invalid ballot named A.
    assert by_id(result)["A"] == (1, 10000, False, False, False)
    assert result.elected == ()
    assert result.unfilled_seats == 3


def test_election_without_quorum_elects_nobody() -> None:
    # 1 of 3 subjects took part; its approvals do not count.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B", "C"}),
        (10000, None),
        (10000, None),
    ]
    result = elect(ballots, candidates=("A", "B", "C"))
    assert result.quorum_met is False
    assert result.reasons == ("quorum_area", "quorum_headcount")
    assert result.elected == ()
    assert result.unfilled_seats == 3
    assert all(not c.qualified for c in result.candidates)
    assert "无人当选" in result.explanation


def test_election_with_stricter_approval_setting() -> None:
    # B has 3 of 5 people and area (3/5): qualifies at > 1/2 but not at ≥ 2/3.
    ballots: list[tuple[int, set[str] | None]] = [
        (10000, {"A", "B"}),
        (10000, {"A", "B"}),
        (10000, {"A", "B"}),
        (10000, {"A"}),
        (10000, {"A"}),
    ]
    assert by_id(elect(ballots, candidates=("A", "B")))["B"][3] is True
    strict = RuleSettings.from_levels(simple_majority=ge(2, 3))
    result = elect(ballots, candidates=("A", "B"), settings=strict)
    assert by_id(result)["B"][2:] == (False, False, False)
    assert result.elected == ("A",)


# ---------------------------------------------------------------------------
# Per-compound thresholds: stricter accepted and applied, laxer refused
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stricter", "than", "expected"),
    [
        (gt(1, 2), gt(1, 2), True),  # the statutory majority itself
        (ge(3, 5), gt(1, 2), True),
        (ge(1, 2), gt(1, 2), False),  # "at least half" admits exactly half: laxer
        (gt(1, 2), ge(1, 2), True),
        (ge(2, 3), ge(2, 3), True),
        (gt(2, 3), ge(2, 3), True),
        (ge(2, 3), gt(2, 3), False),
        (ge(3, 5), ge(2, 3), False),
        (gt(3, 5), ge(2, 3), False),
        (ge(1, 1), ge(3, 4), True),
        (gt(3, 4), ge(3, 4), True),
        (gt(2, 3), ge(3, 4), False),
        (ge(4, 5), ge(3, 4), True),
    ],
)
def test_threshold_strictness_comparison(
    stricter: Threshold, than: Threshold, expected: bool
) -> None:
    assert stricter.is_at_least_as_strict_as(than) is expected


def test_threshold_is_met_distinguishes_inclusive_and_strict() -> None:
    assert ge(1, 2).is_met(1, 2) is True
    assert gt(1, 2).is_met(1, 2) is False
    assert gt(1, 2).is_met(501, 1000) is True
    assert ge(2, 3).is_met(2, 3) is True
    assert ge(2, 3).is_met(1999, 3000) is False
    assert ge(0, 1).is_met(0, 0) is False  # a zero denominator never meets a bound


@pytest.mark.parametrize(
    "bad",
    [0.5, Fraction(-1, 3), Fraction(4, 3), True, "1/2"],
)
def test_malformed_thresholds_are_refused(bad: object) -> None:
    with pytest.raises(InvalidThresholdError):
        Threshold(bad, inclusive=True)  # type: ignore[arg-type]


def test_more_than_all_is_refused() -> None:
    with pytest.raises(InvalidThresholdError):
        gt(1, 1)


def test_threshold_text_round_trip() -> None:
    for threshold in (ge(2, 3), gt(1, 2), ge(3, 4), ge(1, 1), gt(3, 5)):
        assert Threshold.from_text(threshold.to_text()) == threshold
    assert Threshold.from_text("≥ 2/3") == ge(2, 3)
    assert str(gt(1, 2)) == "> 1/2"
    for bad in ("0.5", ">=0.75", "=1/2", "<1/2", ">=x", ">=1/0"):
        with pytest.raises(InvalidThresholdError):
            Threshold.from_text(bad)


def test_statutory_settings_are_valid() -> None:
    for category in ART278_CATEGORIES:
        thresholds = statutory_thresholds(category)
        assert validate_thresholds(category, thresholds) is thresholds
    assert validate_settings(RuleSettings()) == RuleSettings()


@pytest.mark.parametrize(
    ("category", "field", "laxer"),
    [
        (SIMPLE, "quorum_area", ge(3, 5)),
        (SIMPLE, "quorum_headcount", gt(1, 2)),
        (SIMPLE, "approval_area", ge(1, 2)),
        (SIMPLE, "approval_headcount", ge(1, 2)),
        (SPECIAL, "quorum_area", ge(1, 2)),
        (SPECIAL, "quorum_headcount", gt(3, 5)),
        (SPECIAL, "approval_area", ge(2, 3)),
        (SPECIAL, "approval_headcount", gt(2, 3)),
        (Category.RECONSTRUCTION, "approval_area", gt(1, 2)),
        (Category.COMMON_PARTS_USE, "approval_headcount", ge(7, 10)),
        (Category.COMMITTEE_ELECTION, "approval_headcount", ge(1, 2)),
    ],
)
def test_laxer_settings_are_refused_with_art278(
    category: Category, field: str, laxer: Threshold
) -> None:
    statute = statutory_thresholds(category)
    values = {name: bound for name, bound in statute.items()}
    values[field] = laxer
    thresholds = Thresholds(**values)
    with pytest.raises(LaxerThanLawError) as excinfo:
        validate_thresholds(category, thresholds)
    assert excinfo.value.code == "threshold_below_statute"
    assert excinfo.value.status == 422
    assert "《中华人民共和国民法典》第二百七十八条" in excinfo.value.message
    assert category.label in excinfo.value.message
    with pytest.raises(LaxerThanLawError):
        RuleSettings({category: thresholds})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quorum": ge(1, 2)},
        {"quorum": ge(3, 5)},
        {"simple_majority": ge(1, 2)},
        {"special_majority": ge(2, 3)},
        {"special_majority": gt(1, 2)},
    ],
)
def test_laxer_levels_are_refused(kwargs: dict[str, Threshold]) -> None:
    with pytest.raises(LaxerThanLawError):
        RuleSettings.from_levels(**kwargs)


def test_stricter_quorum_is_accepted_and_applied() -> None:
    # 2 of 3 (exactly 2/3) take part: enough by statute, not under a ≥ 3/4 quorum.
    subjects: list[tuple[int, C | None]] = [(10000, C.AGREE), (10000, C.AGREE), (10000, None)]
    assert decide(SIMPLE, subjects).passed is True
    settings = RuleSettings.from_levels(quorum=ge(3, 4))
    result = decide(SIMPLE, subjects, settings)
    assert result.thresholds.quorum_area == ge(3, 4)
    assert result.reasons == ("quorum_area", "quorum_headcount")
    assert "本物业管理区域业主大会议事规则" in result.legal_basis
    assert "参与表决的专有部分面积未达到总面积的四分之三" in result.explanation


def test_stricter_simple_majority_is_accepted_and_applied() -> None:
    # 11 of 20 equal subjects agree (11/20 = 55%): passes > 1/2, fails ≥ 3/5.
    subjects = [(100, C.AGREE)] * 11 + [(100, C.OPPOSE)] * 9
    assert decide(SIMPLE, subjects).passed is True
    settings = RuleSettings.from_levels(simple_majority=ge(3, 5))
    result = decide(SIMPLE, subjects, settings)
    assert result.reasons == ("approval_area", "approval_headcount")
    assert "同意的人数未达到参与表决人数的五分之三" in result.explanation
    # Categories (六)–(八) keep three quarters under this setting.
    assert settings.thresholds_for(SPECIAL).approval_area == STATUTORY_SPECIAL_MAJORITY


def test_stricter_special_majority_is_accepted_and_applied() -> None:
    # 3 of 4 agree (exactly 3/4): passes the statute, fails > 3/4.
    subjects = [(2500, C.AGREE), (2500, C.AGREE), (2500, C.AGREE), (2500, C.OPPOSE)]
    assert decide(SPECIAL, subjects).passed is True
    settings = RuleSettings.from_levels(special_majority=gt(3, 4))
    assert decide(SPECIAL, subjects, settings).reasons == ("approval_area", "approval_headcount")
    # Simple-majority categories are untouched.
    assert decide(SIMPLE, subjects, settings).passed is True


def test_per_category_override_applies_to_that_category_only() -> None:
    strict = Thresholds(ge(3, 4), ge(2, 3), ge(4, 5), gt(1, 2))
    settings = RuleSettings({Category.PROPERTY_MANAGER: strict})
    assert settings.thresholds_for(Category.PROPERTY_MANAGER) == strict
    assert settings.thresholds_for(SIMPLE) == statutory_thresholds(SIMPLE)
    # 3 of 4 equal subjects agree: 3/4 < 4/5 by area fails; headcount passes.
    subjects = [(2500, C.AGREE), (2500, C.AGREE), (2500, C.AGREE), (2500, C.OPPOSE)]
    result = decide(Category.PROPERTY_MANAGER, subjects, settings)
    assert result.reasons == ("approval_area",)
    assert result.thresholds == strict


def test_settings_are_immutable_copies() -> None:
    source = {SIMPLE: Thresholds.of(quorum=ge(3, 4), approval=gt(1, 2))}
    settings = RuleSettings(source)
    source[SPECIAL] = Thresholds.of(quorum=ge(1, 2), approval=ge(1, 2))
    assert SPECIAL not in settings.overrides
    with pytest.raises(TypeError):
        settings.overrides[SPECIAL] = source[SIMPLE]  # type: ignore[index]
