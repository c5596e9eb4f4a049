"""Hypothesis for the rules tests/voting/test_tally_property.py leaves out.

That file checks the Art. 278 tally and the threshold ordering against a naive recount; this one
checks who is counted (subject derivation, DOMAIN §1) against a naive grouping, and that the
rules' parsers of user text (thresholds, yuan amounts) answer any text with a value or a Chinese
refusal, never a crash.
"""

from __future__ import annotations

import re
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ledger import rules as ledger_rules
from app.roster.subjects import UnitFacts, derive_subjects, totals
from app.voting.rules import InvalidThresholdError, Threshold

CJK = re.compile(r"[\u4e00-\u9fff]")
FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")

# Text users type, and text meant to break parsers: huge digit runs, odd digits, signs, exponents.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789,./>=≥ -_eE¥￥元٣", max_size=30),
    st.integers(4000, 6000).map(lambda n: "1" * n),
    st.integers(4000, 6000).map(lambda n: ">=" + "1" * n + "/3"),
)


# --- who is counted ----------------------------------------------------------------------------


@st.composite
def compounds(draw: st.DrawFn) -> list[UnitFacts]:
    owners = st.frozensets(st.integers(1, 6), min_size=1, max_size=3)
    units = []
    for unit_id in range(1, draw(st.integers(0, 25)) + 1):
        developer = draw(st.booleans())
        units.append(UnitFacts(
            unit_id=unit_id, area_hundredths=draw(st.integers(1, 10**7)),
            owner_ids=frozenset() if developer and draw(st.booleans()) else draw(owners),
            held_by_developer=developer))
    return units


@settings(max_examples=300, deadline=None)
@given(compounds())
def test_subjects_match_a_naive_grouping(units: list[UnitFacts]) -> None:
    subjects = derive_subjects(units)
    # Naive: one subject per distinct owner set among delivered units, plus one developer subject.
    naive: dict[object, list[UnitFacts]] = {}
    for u in units:
        naive.setdefault("developer" if u.held_by_developer else u.owner_ids, []).append(u)
    assert len(subjects) == len(naive)
    by_units = {frozenset(s.unit_ids): s for s in subjects}
    for key, members in naive.items():
        subject = by_units[frozenset(u.unit_id for u in members)]
        assert subject.area_hundredths == sum(u.area_hundredths for u in members)
        assert subject.is_developer == (key == "developer")
        if key != "developer":
            assert frozenset(subject.owner_ids) == key
    # Every unit in exactly one subject; totals are the sums.
    assert sorted(i for s in subjects for i in s.unit_ids) == [u.unit_id for u in units]
    assert totals(subjects) == (sum(u.area_hundredths for u in units), len(naive))
    assert sum(s.is_developer for s in subjects) == (1 if any(u.held_by_developer for u in units)
                                                    else 0)


# --- thresholds typed by a compound ------------------------------------------------------------

fractions = st.builds(Fraction, st.integers(0, 1000), st.integers(1, 1000)).filter(lambda f: f <= 1)
thresholds = st.tuples(fractions, st.booleans()).filter(
    lambda pair: pair[1] or pair[0] < 1).map(lambda pair: Threshold(*pair))


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_any_threshold_text_parses_or_is_refused_in_chinese(text: str) -> None:
    try:
        threshold = Threshold.from_text(text)
    except InvalidThresholdError as exc:
        assert CJK.search(str(exc))
        return
    assert 0 <= threshold.fraction <= 1
    assert Threshold.from_text(threshold.to_text()) == threshold


@settings(max_examples=300, deadline=None)
@given(thresholds, st.integers(0, 10**6), st.integers(0, 10**6), st.booleans())
def test_threshold_text_round_trips_and_is_met_by_exact_fractions(
    threshold: Threshold, part: int, whole: int, symbol: bool
) -> None:
    text = threshold.to_text()
    assert Threshold.from_text(text.replace(">=", "≥") if symbol else text) == threshold
    assert CJK.search(threshold.describe_zh()) and CJK.search(threshold.verdict_zh(True))
    share = Fraction(part, whole) if whole else None
    expected = share is not None and (share >= threshold.fraction if threshold.inclusive
                                      else share > threshold.fraction)
    assert threshold.is_met(part, whole) == expected


# --- money typed by the clerk ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_any_amount_text_parses_to_fen_or_is_refused_in_chinese(text: str) -> None:
    try:
        fen = ledger_rules.parse_yuan(text)
    except ValueError as exc:
        assert CJK.search(str(exc)), str(exc)
        return
    assert 0 < fen <= ledger_rules.MAX_AMOUNT_FEN
    assert ledger_rules.parse_yuan(ledger_rules.format_yuan(fen)) == fen


@settings(max_examples=300, deadline=None)
@given(st.integers(1, ledger_rules.MAX_AMOUNT_FEN), st.booleans(), st.booleans())
def test_every_amount_round_trips_through_its_text(fen: int, grouped: bool, wide: bool) -> None:
    text = ledger_rules.format_yuan(fen)
    if not grouped:
        text = text.replace(",", "")
    if wide:
        text = text.translate(FULL_WIDTH)
    assert ledger_rules.parse_yuan(text) == fen
    assert ledger_rules.parse_yuan(f"¥{text}元") == fen
