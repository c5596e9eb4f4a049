"""The tally against a deliberately naive recount, plus the tally's input checks."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.voting.rules import (
    Category,
    DuplicateVoteError,
    ElectionResult,
    InvalidElectionError,
    LaxerThanLawError,
    MatterResult,
    RuleSettings,
    SubjectId,
    SurveyResult,
    TallyInputError,
    Threshold,
    Thresholds,
    UnanimityResult,
    UnknownSubjectError,
    statutory_thresholds,
    validate_thresholds,
)
from app.voting.rules import Choice as C
from app.voting.tally import (
    ElectionVote,
    Matter,
    RosterEntry,
    UnknownMatterError,
    Vote,
    VoteOutOfScopeError,
    tally_ballot,
)

# ---------------------------------------------------------------------------
# The naive recount: written from DOMAIN.md §2 without looking at rules.py
# ---------------------------------------------------------------------------

Bound = tuple[Fraction, bool]  # (fraction, inclusive)

LAW_QUORUM: Bound = (Fraction(2, 3), True)
LAW_SPECIAL: Bound = (Fraction(3, 4), True)
LAW_SIMPLE: Bound = (Fraction(1, 2), False)
ITEMS = [str(i) for i in range(1, 10)]


@dataclass(frozen=True)
class NaiveRule:
    """The four bounds as plain tuples, in reason order."""

    quorum_area: Bound
    quorum_headcount: Bound
    approval_area: Bound
    approval_headcount: Bound


def law_for(item: str) -> NaiveRule:
    """Return the statutory rule for an item number '1'..'9'."""
    majority = LAW_SPECIAL if item in ("6", "7", "8") else LAW_SIMPLE
    return NaiveRule(LAW_QUORUM, LAW_QUORUM, majority, majority)


def meets(part: int, whole: int, bound: Bound) -> bool:
    """Return whether part/whole reaches the bound; nothing reaches a bound over zero."""
    if whole == 0:
        return False
    share = Fraction(part, whole)
    return share >= bound[0] if bound[1] else share > bound[0]


def share_or_none(part: int, whole: int) -> Fraction | None:
    """Return part/whole, or None for a zero whole."""
    if whole == 0:
        return None
    return Fraction(part, whole)


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

CHOICES: list[C | None] = [None, C.AGREE, C.OPPOSE, C.ABSTAIN, C.INVALID]

QUORUM_OPTIONS: list[Bound] = [
    (Fraction(2, 3), True),
    (Fraction(2, 3), False),
    (Fraction(3, 4), True),
    (Fraction(4, 5), True),
    (Fraction(1), True),
]
SIMPLE_OPTIONS: list[Bound] = [
    (Fraction(1, 2), False),
    (Fraction(3, 5), True),
    (Fraction(2, 3), True),
    (Fraction(2, 3), False),
    (Fraction(3, 4), True),
]
SPECIAL_OPTIONS: list[Bound] = [
    (Fraction(3, 4), True),
    (Fraction(3, 4), False),
    (Fraction(4, 5), True),
    (Fraction(1), True),
]


@st.composite
def areas_lists(draw: st.DrawFn, max_subjects: int = 40) -> list[int]:
    """Draw 1..max_subjects areas in hundredths of m², sometimes equal or tiny to hit boundaries."""
    n = draw(st.integers(min_value=1, max_value=max_subjects))
    mode = draw(st.sampled_from(["random", "equal", "tiny"]))
    if mode == "equal":
        return [draw(st.integers(min_value=1, max_value=50000))] * n
    top = 50000 if mode == "random" else 3
    return draw(st.lists(st.integers(min_value=1, max_value=top), min_size=n, max_size=n))


@st.composite
def compound_rules(draw: st.DrawFn) -> tuple[RuleSettings | None, dict[str, NaiveRule]]:
    """Draw statutory or stricter per-category settings, with their naive twin."""
    naive = {item: law_for(item) for item in ITEMS}
    if draw(st.booleans()):
        return None, naive
    overrides: dict[Category, Thresholds] = {}
    for item in ITEMS:
        if not draw(st.booleans()):
            continue
        majority = SPECIAL_OPTIONS if item in ("6", "7", "8") else SIMPLE_OPTIONS
        bounds = [
            draw(st.sampled_from(QUORUM_OPTIONS)),
            draw(st.sampled_from(QUORUM_OPTIONS)),
            draw(st.sampled_from(majority)),
            draw(st.sampled_from(majority)),
        ]
        naive[item] = NaiveRule(*bounds)
        overrides[Category(item)] = Thresholds(*(Threshold(f, inc) for f, inc in bounds))
    return RuleSettings(overrides), naive


@dataclass(frozen=True)
class DrawnBallot:
    """A random ballot: roster, one matter per category, choices per matter, and settings."""

    roster: list[RosterEntry]
    matters: list[Matter]
    choices: dict[str, list[C | None]]
    affected: frozenset[SubjectId]
    settings: RuleSettings | None
    naive: dict[str, NaiveRule]

    def votes(self) -> list[Vote]:
        """Return the effective votes, skipping subjects that did not vote."""
        votes = []
        for matter_id, picked in self.choices.items():
            for entry, choice in zip(self.roster, picked, strict=True):
                if choice is not None:
                    votes.append(Vote(entry.subject_id, matter_id, choice))
        return votes


PALETTES: list[list[C | None]] = [
    CHOICES,
    [C.AGREE, C.OPPOSE],
    [C.AGREE, None],
    [C.AGREE, C.AGREE, C.AGREE, C.OPPOSE, C.INVALID, None],
]


@st.composite
def ballots(draw: st.DrawFn) -> DrawnBallot:
    """Draw a roster, one matter per category, a choice per subject per matter, and settings."""
    areas = draw(areas_lists())
    roster = [RosterEntry(f"s{i}", area) for i, area in enumerate(areas)]
    subject_ids: list[SubjectId] = [e.subject_id for e in roster]
    affected = frozenset(draw(st.lists(st.sampled_from(subject_ids), unique=True)))
    matters = [Matter(f"m{item}", Category(item)) for item in ITEMS]
    matters.append(Matter("survey", Category.SURVEY))
    matters.append(Matter("art279", Category.ART279, affected_subject_ids=affected))
    # A palette per matter skews the mix, so thresholds are approached from both sides.
    choices: dict[str, list[C | None]] = {}
    for matter in matters:
        palette = draw(st.sampled_from(PALETTES))
        size = len(roster)
        picked = draw(st.lists(st.sampled_from(palette), min_size=size, max_size=size))
        if matter.category is Category.ART279:
            # Only affected subjects may vote on an Art. 279 matter.
            picked = [
                c if e.subject_id in affected else None for e, c in zip(roster, picked, strict=True)
            ]
        choices[str(matter.matter_id)] = picked
    rule_settings, naive = draw(compound_rules())
    return DrawnBallot(roster, matters, choices, affected, rule_settings, naive)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(ballots())
def test_tally_matches_naive_recount_for_every_category(drawn: DrawnBallot) -> None:
    roster, matters, choices = drawn.roster, drawn.matters, drawn.choices
    affected, naive = drawn.affected, drawn.naive
    tally = tally_ballot(
        roster=roster, matters=matters, votes=drawn.votes(), settings=drawn.settings
    )
    total_area = 0
    for entry in roster:
        total_area += entry.area
    assert tally.total_area == total_area
    assert tally.total_headcount == len(roster)
    assert list(tally.results) == [m.matter_id for m in matters]

    for item in ITEMS:
        result = tally.results[f"m{item}"]
        assert isinstance(result, MatterResult)
        picked = choices[f"m{item}"]
        a_p = n_p = a_y = n_y = 0
        for entry, choice in zip(roster, picked, strict=True):
            if choice is not None:
                a_p += entry.area
                n_p += 1
            if choice == C.AGREE:
                a_y += entry.area
                n_y += 1
        rule = naive[item]
        checks = [
            ("quorum_area", meets(a_p, total_area, rule.quorum_area)),
            ("quorum_headcount", meets(n_p, len(roster), rule.quorum_headcount)),
            ("approval_area", meets(a_y, a_p, rule.approval_area)),
            ("approval_headcount", meets(n_y, n_p, rule.approval_headcount)),
        ]
        expected_reasons = tuple(name for name, ok in checks if not ok)
        assert result.reasons == expected_reasons
        assert result.passed is (expected_reasons == ())
        assert (result.total_area, result.total_headcount) == (total_area, len(roster))
        assert (result.participating_area, result.participating_headcount) == (a_p, n_p)
        assert (result.agree_area, result.agree_headcount) == (a_y, n_y)
        assert result.participation_area_ratio == share_or_none(a_p, total_area)
        assert result.participation_headcount_ratio == share_or_none(n_p, len(roster))
        assert result.approval_area_ratio == share_or_none(a_y, a_p)
        assert result.approval_headcount_ratio == share_or_none(n_y, n_p)
        assert result.oppose_headcount == picked.count(C.OPPOSE)
        assert result.abstain_headcount == picked.count(C.ABSTAIN)
        assert result.invalid_headcount == picked.count(C.INVALID)
        applied = result.thresholds
        assert (applied.approval_area.fraction, applied.approval_area.inclusive) == (
            rule.approval_area
        )
        assert (applied.quorum_headcount.fraction, applied.quorum_headcount.inclusive) == (
            rule.quorum_headcount
        )
        assert result.explanation.endswith("结果：通过。" if result.passed else "。")

    survey = tally.results["survey"]
    assert isinstance(survey, SurveyResult)
    picked = choices["survey"]
    a_p = sum(e.area for e, c in zip(roster, picked, strict=True) if c is not None)
    n_p = sum(1 for c in picked if c is not None)
    for choice, area_share, head_share in (
        (C.AGREE, survey.agree_area_share, survey.agree_headcount_share),
        (C.OPPOSE, survey.oppose_area_share, survey.oppose_headcount_share),
        (C.ABSTAIN, survey.abstain_area_share, survey.abstain_headcount_share),
        (C.INVALID, survey.invalid_area_share, survey.invalid_headcount_share),
    ):
        area = sum(e.area for e, c in zip(roster, picked, strict=True) if c == choice)
        assert area_share == share_or_none(area, a_p)
        assert head_share == share_or_none(picked.count(choice), n_p)
    assert survey.participation_area_ratio == share_or_none(a_p, total_area)

    unanimity = tally.results["art279"]
    assert isinstance(unanimity, UnanimityResult)
    picked = choices["art279"]
    dissenters = [
        e.subject_id
        for e, c in zip(roster, picked, strict=True)
        if e.subject_id in affected and c != C.AGREE
    ]
    assert unanimity.passed is (len(affected) > 0 and dissenters == [])
    assert list(unanimity.not_agreeing) == dissenters
    assert unanimity.affected_headcount == len(affected)
    if not affected:
        assert unanimity.reasons == ("no_affected_subjects",)
    elif dissenters:
        assert unanimity.reasons == ("not_unanimous",)
    else:
        assert unanimity.reasons == ()


@st.composite
def elections(
    draw: st.DrawFn,
) -> tuple[list[RosterEntry], Matter, list[ElectionVote], RuleSettings | None, NaiveRule]:
    """Draw a roster, an election and each subject's ballot (none, ruled invalid, or approvals)."""
    areas = draw(areas_lists(max_subjects=15))
    roster = [RosterEntry(i, area) for i, area in enumerate(areas)]
    seats = draw(st.sampled_from([3, 3, 3, 5, 7]))
    # Around as many candidates as seats: fewer (seats stay open) or more (a race).
    count = max(1, seats + draw(st.sampled_from([1, 1, 2, 0, -1, -2, 3])))
    candidates = tuple(f"c{k}" for k in range(count))
    matter = Matter("election", Category.COMMITTEE_ELECTION, seats=seats, candidates=candidates)
    # A few "blocs" of identical ballots make equal approvals (and ties at the cut) common.
    bloc = st.lists(st.sampled_from(candidates), unique=True, max_size=seats).map(frozenset)
    blocs = draw(st.lists(bloc, min_size=1, max_size=4))
    rotate = False
    if len(candidates) > seats and draw(st.sampled_from([True, True, False])):
        # Each bloc leaves out one of seats + 1 front-runners: a race for the last seat.
        pool = frozenset(candidates[: seats + 1])
        blocs = sorted((pool - {left_out} for left_out in pool), key=sorted)
        # Handing blocs out in turn spreads voters evenly, so the race is often tied.
        rotate = draw(st.booleans())
        area_mode = draw(st.sampled_from(["drawn", "equal", "two_sizes"]))
        if area_mode == "equal":
            # Equal areas turn every equal headcount into a full tie.
            roster = [RosterEntry(entry.subject_id, areas[0]) for entry in roster]
        elif area_mode == "two_sizes":
            # Few large and many small units: more people need not mean more area.
            large = draw(st.lists(st.booleans(), min_size=len(roster), max_size=len(roster)))
            roster = [
                RosterEntry(entry.subject_id, 20000 if is_large else 1000)
                for entry, is_large in zip(roster, large, strict=True)
            ]
    offset = draw(st.integers(min_value=0, max_value=len(blocs) - 1))
    kinds = ["none", "invalid", "free"] + ["bloc"] * 12
    votes = []
    for index, entry in enumerate(roster):
        kind = draw(st.sampled_from(kinds))
        if kind == "none":
            continue
        if kind == "invalid":
            votes.append(ElectionVote(entry.subject_id, "election", frozenset(), invalid=True))
            continue
        if kind == "free":
            # A free ballot may approve more candidates than seats, which spoils it.
            approvals = draw(st.frozensets(st.sampled_from(candidates)))
        elif rotate:
            approvals = blocs[(index + offset) % len(blocs)]
        else:
            approvals = draw(st.sampled_from(blocs))
        votes.append(ElectionVote(entry.subject_id, "election", approvals))
    rule_settings, naive = draw(compound_rules())
    return roster, matter, votes, rule_settings, naive["3"]


@settings(max_examples=300, deadline=None)
@given(elections())
def test_election_matches_naive_recount(
    drawn: tuple[list[RosterEntry], Matter, list[ElectionVote], RuleSettings | None, NaiveRule],
) -> None:
    roster, matter, votes, rule_settings, rule = drawn
    result = tally_ballot(roster=roster, matters=[matter], votes=votes, settings=rule_settings)
    election = result.results["election"]
    assert isinstance(election, ElectionResult)
    seats = matter.seats
    assert seats is not None

    area_of = {e.subject_id: e.area for e in roster}
    total_area = sum(area_of.values())
    a_p = sum(area_of[v.subject_id] for v in votes)
    n_p = len(votes)
    valid = [v for v in votes if not v.invalid and len(v.approvals) <= seats]
    quorum_area = meets(a_p, total_area, rule.quorum_area)
    quorum_headcount = meets(n_p, len(roster), rule.quorum_headcount)
    quorum = quorum_area and quorum_headcount

    counts: dict[object, tuple[int, int]] = {}
    for candidate in matter.candidates:
        heads = 0
        area = 0
        for vote in valid:
            if candidate in vote.approvals:
                heads += 1
                area += area_of[vote.subject_id]
        counts[candidate] = (heads, area)
    qualified = [
        c
        for c, (heads, area) in counts.items()
        if quorum
        and meets(heads, n_p, rule.approval_headcount)
        and meets(area, a_p, rule.approval_area)
    ]
    elected = set()
    tied = set()
    for c in qualified:
        heads, area = counts[c]
        better = 0
        same = 0
        for d in qualified:
            h2, a2 = counts[d]
            if h2 > heads or (h2 == heads and a2 > area):
                better += 1
            elif (h2, a2) == (heads, area):
                same += 1
        if better + same <= seats:
            elected.add(c)
        elif better < seats:
            tied.add(c)

    expected_reasons = []
    if not quorum_area:
        expected_reasons.append("quorum_area")
    if not quorum_headcount:
        expected_reasons.append("quorum_headcount")
    if quorum and tied:
        expected_reasons.append("tie_for_last_seat")
    if quorum and len(qualified) < seats:
        expected_reasons.append("too_few_qualified")

    assert election.quorum_met is quorum
    assert (election.participating_area, election.participating_headcount) == (a_p, n_p)
    assert election.invalid_headcount == n_p - len(valid)
    assert set(election.elected) == elected
    assert set(election.tied_candidates) == tied
    assert election.unfilled_seats == seats - len(elected)
    assert election.runoff_seats == (seats - len(elected) if tied else 0)
    assert list(election.reasons) == expected_reasons
    assert election.all_seats_filled is (expected_reasons == [])
    # Seats are listed in rank order: headcount first, then area.
    keys = [counts[c] for c in election.elected]
    assert keys == sorted(keys, reverse=True)
    for row in election.candidates:
        assert (row.approval_headcount, row.approval_area) == counts[row.candidate_id]
        assert row.qualified is (row.candidate_id in qualified)
        assert row.elected is (row.candidate_id in elected)
        assert row.tied_for_runoff is (row.candidate_id in tied)
        assert row.approval_headcount_ratio == share_or_none(row.approval_headcount, n_p)


BOUNDS = st.tuples(
    st.fractions(min_value=0, max_value=1, max_denominator=12), st.booleans()
).filter(lambda b: not (b[0] == 1 and not b[1]))


@settings(max_examples=300, deadline=None)
@given(
    BOUNDS, BOUNDS, st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=60)
)
def test_strictness_order_is_sound_and_complete(
    first: Bound, second: Bound, part: int, whole: int
) -> None:
    stricter = Threshold(*first)
    other = Threshold(*second)
    part = min(part, whole)
    if stricter.is_at_least_as_strict_as(other):
        # Soundness: whatever meets the stricter bound meets the other.
        assert not (stricter.is_met(part, whole) and not other.is_met(part, whole))
    else:
        # Completeness: some ratio meets the first bound and not the second.
        # Between the two fractions, or the shared fraction itself (first inclusive, second not).
        witness = (first[0] + second[0]) / 2 if first[0] < second[0] else first[0]
        assert stricter.is_met(witness.numerator, witness.denominator)
        assert not other.is_met(witness.numerator, witness.denominator)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ITEMS), BOUNDS, st.sampled_from(range(4)))
def test_settings_refused_exactly_when_laxer_than_law(item: str, bound: Bound, field: int) -> None:
    category = Category(item)
    law = law_for(item)
    law_bounds = [law.quorum_area, law.quorum_headcount, law.approval_area, law.approval_headcount]
    required = law_bounds[field]
    laxer = bound[0] < required[0] or (bound[0] == required[0] and bound[1] and not required[1])
    chosen = [Threshold(f, inc) for f, inc in law_bounds]
    chosen[field] = Threshold(*bound)
    thresholds = Thresholds(*chosen)
    if laxer:
        with pytest.raises(LaxerThanLawError):
            validate_thresholds(category, thresholds)
    else:
        assert validate_thresholds(category, thresholds) is thresholds


# ---------------------------------------------------------------------------
# Tally input checks (examples)
# ---------------------------------------------------------------------------

ROSTER = [RosterEntry("a", 10000), RosterEntry("b", 8000), RosterEntry("c", 5000)]
FUND = Matter("fund", Category.RAISE_MAINTENANCE_FUND)
ELECTION = Matter(
    "committee", Category.COMMITTEE_ELECTION, seats=3, candidates=("x", "y", "z", "w")
)


def test_tally_example_with_each_kind_of_matter() -> None:
    # A = 230.00 m², N = 3. Fund: a, b agree (180.00 m², 2 people), c opposes.
    matters = [
        FUND,
        Matter("poll", Category.SURVEY),
        Matter("shop", Category.ART279, affected_subject_ids=frozenset({"b", "c"})),
        ELECTION,
    ]
    votes: list[Vote | ElectionVote] = [
        Vote("a", "fund", C.AGREE),
        Vote("b", "fund", C.AGREE),
        Vote("c", "fund", C.OPPOSE),
        Vote("a", "poll", C.OPPOSE),
        Vote("b", "shop", C.AGREE),
        Vote("c", "shop", C.AGREE),
        ElectionVote("a", "committee", frozenset({"x", "y", "z"})),
        ElectionVote("b", "committee", frozenset({"x", "y", "w"})),
        ElectionVote("c", "committee", frozenset({"x", "y", "z", "w"})),  # too many: invalid
    ]
    tally = tally_ballot(roster=ROSTER, matters=matters, votes=votes)
    assert (tally.total_area, tally.total_headcount) == (23000, 3)

    fund = tally.results["fund"]
    assert isinstance(fund, MatterResult)
    # 180.00 / 230.00 = 78.26% ≥ 3/4 by area; 2 of 3 people = 66.67% < 3/4.
    assert fund.approval_area_ratio == Fraction(18, 23)
    assert fund.reasons == ("approval_headcount",)

    poll = tally.results["poll"]
    assert isinstance(poll, SurveyResult)
    assert poll.oppose_headcount_share == 1
    assert poll.participation_headcount_ratio == Fraction(1, 3)

    shop = tally.results["shop"]
    assert isinstance(shop, UnanimityResult)
    assert shop.passed is True
    assert shop.affected_area == 13000

    committee = tally.results["committee"]
    assert isinstance(committee, ElectionResult)
    assert committee.invalid_headcount == 1
    # x, y: 2 of 3 people, 180.00 of 230.00 m² → elected; z, w: 1 person each.
    assert committee.elected == ("x", "y")
    assert committee.unfilled_seats == 1


def test_vote_from_subject_not_in_roster_is_refused() -> None:
    with pytest.raises(UnknownSubjectError) as excinfo:
        tally_ballot(roster=ROSTER, matters=[FUND], votes=[Vote("zz", "fund", C.AGREE)])
    assert excinfo.value.code == "vote_subject_not_in_roster"


def test_two_effective_votes_for_one_subject_and_matter_are_refused() -> None:
    votes = [Vote("a", "fund", C.AGREE), Vote("a", "fund", C.OPPOSE)]
    with pytest.raises(DuplicateVoteError):
        tally_ballot(roster=ROSTER, matters=[FUND], votes=votes)
    election_votes = [
        ElectionVote("a", "committee", frozenset({"x"})),
        ElectionVote("a", "committee", frozenset({"y"})),
    ]
    with pytest.raises(DuplicateVoteError):
        tally_ballot(roster=ROSTER, matters=[ELECTION], votes=election_votes)


def test_same_subject_may_vote_once_on_each_matter() -> None:
    other = Matter("rules", Category.RULES_OF_PROCEDURE)
    votes = [Vote("a", "fund", C.AGREE), Vote("a", "rules", C.AGREE)]
    tally = tally_ballot(roster=ROSTER, matters=[FUND, other], votes=votes)
    for result in tally.results.values():
        assert isinstance(result, MatterResult)
        assert result.agree_headcount == 1


def test_vote_for_a_matter_not_on_the_ballot_is_refused() -> None:
    with pytest.raises(UnknownMatterError):
        tally_ballot(roster=ROSTER, matters=[FUND], votes=[Vote("a", "other", C.AGREE)])


def test_vote_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(VoteOutOfScopeError):
        tally_ballot(roster=ROSTER, matters=[ELECTION], votes=[Vote("a", "committee", C.AGREE)])
    with pytest.raises(VoteOutOfScopeError):
        tally_ballot(roster=ROSTER, matters=[FUND], votes=[ElectionVote("a", "fund", frozenset())])


def test_art279_vote_from_a_subject_not_affected_is_refused() -> None:
    shop = Matter("shop", Category.ART279, affected_subject_ids=frozenset({"b"}))
    with pytest.raises(VoteOutOfScopeError):
        tally_ballot(roster=ROSTER, matters=[shop], votes=[Vote("a", "shop", C.AGREE)])


def test_art279_affected_subjects_must_be_in_roster_and_only_on_art279() -> None:
    with pytest.raises(UnknownSubjectError):
        tally_ballot(
            roster=ROSTER,
            matters=[Matter("shop", Category.ART279, affected_subject_ids=frozenset({"zz"}))],
            votes=[],
        )
    with pytest.raises(TallyInputError):
        tally_ballot(roster=ROSTER, matters=[Matter("shop", Category.ART279)], votes=[])
    with pytest.raises(TallyInputError):
        tally_ballot(
            roster=ROSTER,
            matters=[
                Matter("fund", Category.RAISE_MAINTENANCE_FUND, affected_subject_ids=frozenset())
            ],
            votes=[],
        )


def test_art279_silence_of_an_affected_subject_fails() -> None:
    shop = Matter("shop", Category.ART279, affected_subject_ids=frozenset({"b", "c"}))
    tally = tally_ballot(roster=ROSTER, matters=[shop], votes=[Vote("b", "shop", C.AGREE)])
    result = tally.results["shop"]
    assert isinstance(result, UnanimityResult)
    assert result.passed is False
    assert result.not_agreeing == ("c",)


def test_elections_only_for_category_three_with_valid_seats() -> None:
    with pytest.raises(TallyInputError):
        tally_ballot(
            roster=ROSTER,
            matters=[Matter("m", Category.PROPERTY_MANAGER, seats=3, candidates=("x",))],
            votes=[],
        )
    with pytest.raises(InvalidElectionError):
        tally_ballot(
            roster=ROSTER,
            matters=[Matter("m", Category.COMMITTEE_ELECTION, seats=4, candidates=("x",))],
            votes=[],
        )
    with pytest.raises(InvalidElectionError):
        tally_ballot(
            roster=ROSTER,
            matters=[Matter("m", Category.COMMITTEE_ELECTION, candidates=("x",))],
            votes=[],
        )


def test_category_three_without_candidates_is_a_yes_no_matter() -> None:
    # E.g. recalling a committee member (更换业主委员会成员) is decided by simple majority.
    recall = Matter("recall", Category.COMMITTEE_ELECTION)
    votes = [Vote("a", "recall", C.AGREE), Vote("b", "recall", C.AGREE)]
    result = tally_ballot(roster=ROSTER, matters=[recall], votes=votes).results["recall"]
    assert isinstance(result, MatterResult)
    assert result.passed is True


def test_election_vote_naming_unknown_candidate_is_refused() -> None:
    with pytest.raises(TallyInputError):
        tally_ballot(
            roster=ROSTER,
            matters=[ELECTION],
            votes=[ElectionVote("a", "committee", frozenset({"nobody"}))],
        )


def test_roster_and_matters_must_be_consistent() -> None:
    with pytest.raises(TallyInputError):
        tally_ballot(roster=[RosterEntry("a", 1), RosterEntry("a", 2)], matters=[FUND], votes=[])
    with pytest.raises(TallyInputError):
        tally_ballot(roster=[RosterEntry("a", -1)], matters=[FUND], votes=[])
    with pytest.raises(TallyInputError):
        tally_ballot(roster=ROSTER, matters=[FUND, FUND], votes=[])


def test_empty_roster_fails_every_matter_cleanly() -> None:
    tally = tally_ballot(roster=[], matters=[FUND, ELECTION], votes=[])
    fund = tally.results["fund"]
    assert isinstance(fund, MatterResult)
    assert fund.passed is False
    assert fund.participation_area_ratio is None
    committee = tally.results["committee"]
    assert isinstance(committee, ElectionResult)
    assert committee.elected == ()
    assert committee.reasons == ("quorum_area", "quorum_headcount")


def test_tally_applies_compound_settings() -> None:
    # a, b agree; c silent: 180.00 of 230.00 m² (78%), 2 of 3 people take part.
    votes = [Vote("a", "rules", C.AGREE), Vote("b", "rules", C.AGREE)]
    rules_matter = Matter("rules", Category.RULES_OF_PROCEDURE)
    plain = tally_ballot(roster=ROSTER, matters=[rules_matter], votes=votes)
    assert isinstance(plain.results["rules"], MatterResult)
    assert plain.results["rules"].passed is True
    strict = RuleSettings.from_levels(quorum=Threshold(Fraction(3, 4), inclusive=True))
    tallied = tally_ballot(roster=ROSTER, matters=[rules_matter], votes=votes, settings=strict)
    result = tallied.results["rules"]
    assert isinstance(result, MatterResult)
    assert result.reasons == ("quorum_headcount",)
    assert statutory_thresholds(Category.RULES_OF_PROCEDURE) != result.thresholds
