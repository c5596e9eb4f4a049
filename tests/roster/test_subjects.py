"""Headcount and area rules of DOMAIN §1 on hand-built rosters."""

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from app.roster import service
from app.roster.models import UnitStatus
from app.roster.subjects import UnitFacts, derive_subjects, subject_totals, totals
from tests.factories import UnitSpec, add_roster, make_compound


def facts(uid: int, area: int, owners: set[int], dev: bool = False) -> UnitFacts:
    return UnitFacts(unit_id=uid, area_hundredths=area, owner_ids=frozenset(owners),
                     held_by_developer=dev)


def test_multi_unit_owner_counts_once_with_summed_area() -> None:
    subjects = derive_subjects([facts(1, 8912, {1}), facts(2, 10001, {1}), facts(3, 5000, {2})])
    assert totals(subjects) == (8912 + 10001 + 5000, 2)
    by_owner = {s.owner_ids: s for s in subjects}
    assert by_owner[(1,)].area_hundredths == 18913
    assert by_owner[(1,)].unit_ids == (1, 2)


def test_co_owners_of_one_unit_are_one_subject() -> None:
    subjects = derive_subjects([facts(1, 9000, {1, 2}), facts(2, 9000, {3})])
    assert totals(subjects) == (18000, 2)


def test_different_owner_sets_are_different_subjects() -> None:
    # Owner 1 alone in unit 1, with owner 2 in unit 2: two owner sets, two subjects.
    subjects = derive_subjects([facts(1, 9000, {1}), facts(2, 9000, {1, 2})])
    assert len(subjects) == 2


def test_developer_units_count_once_however_many() -> None:
    units = [facts(i, 10000 + i, set(), dev=True) for i in range(1, 31)] + [facts(99, 7000, {5})]
    subjects = derive_subjects(units)
    assert totals(subjects) == (sum(10000 + i for i in range(1, 31)) + 7000, 2)
    dev = [s for s in subjects if s.is_developer]
    assert len(dev) == 1 and len(dev[0].unit_ids) == 30


def test_sold_but_undelivered_unit_counts_with_developer_even_with_buyer() -> None:
    subjects = derive_subjects([facts(1, 9000, {7}, dev=True), facts(2, 9100, set(), dev=True)])
    assert totals(subjects) == (18100, 1)


def test_areas_are_exact_hundredths() -> None:
    subjects = derive_subjects([facts(i, 1, {i}) for i in range(1, 101)])
    assert totals(subjects) == (100, 100)  # 100 × 0.01 m² = 1.00 m² exactly


def test_roster_totals_from_database(db: Session) -> None:
    compound = make_compound(db)
    add_roster(db, compound, [
        UnitSpec("1栋", "101", 8912, ["张三"]),
        UnitSpec("1栋", "102", 10050, ["张三"]),
        UnitSpec("1栋", "201", 12000, ["李四", "王五"]),
        UnitSpec("2栋", "101", 13333, [], status=UnitStatus.UNSOLD),
        UnitSpec("2栋", "102", 6667, [], status=UnitStatus.UNSOLD),
        UnitSpec("2栋", "103", 9999, ["赵六"], status=UnitStatus.UNDELIVERED),
        UnitSpec("2栋", "C1", 1250, ["赵六"], usage="车位"),
    ])
    t = service.roster_totals(db, compound_id=compound.id)
    assert t.subject_count == 3  # 张三; 李四+王五; the developer (赵六's parking not counted)
    assert t.total_area_hundredths == 8912 + 10050 + 12000 + 13333 + 6667 + 9999
    assert t.unit_count == 7 and t.voting_unit_count == 6
    assert service.format_area(t.total_area_hundredths) == "609.61"


def test_parking_counts_when_compound_says_so(db: Session) -> None:
    compound = make_compound(db)
    compound.parking_counts_as_area = True
    db.add(compound)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["甲"]),
                              UnitSpec("1栋", "C1", 1250, ["乙"], usage="车位")])
    t = service.roster_totals(db, compound_id=compound.id)
    assert (t.subject_count, t.total_area_hundredths) == (2, 10250)


def test_rebuild_keeps_subject_ids_for_unchanged_owner_sets(db: Session) -> None:
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["甲"]),
                              UnitSpec("1栋", "102", 9000, ["乙"])])
    before = {s["label"]: s["id"] for s in service.list_subjects(db, compound_id=compound.id)[1]}
    service.rebuild_subjects(db, compound_id=compound.id)
    after = {s["label"]: s["id"] for s in service.list_subjects(db, compound_id=compound.id)[1]}
    assert before == after


@given(st.lists(st.tuples(st.integers(1, 10**6), st.frozensets(st.integers(1, 6), max_size=3),
                          st.booleans()), max_size=40))
def test_subject_totals_are_the_totals_of_the_derived_subjects(
    units: list[tuple[int, frozenset[int], bool]]
) -> None:
    """The preview's shortcut (area and headcount without building subjects) agrees with the
    derivation, including its refusal of a delivered unit without owners."""
    facts_ = [UnitFacts(unit_id=i, area_hundredths=a, owner_ids=o, held_by_developer=d)
              for i, (a, o, d) in enumerate(units)]
    try:
        expected = totals(derive_subjects(facts_))
    except ValueError:
        try:
            subject_totals(units)
        except ValueError:
            return
        raise AssertionError("subject_totals accepted a unit without owners") from None
    assert subject_totals(units) == expected
