"""The database itself keeps every roster link inside one compound (no side doors)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.roster.models import Building, Owner, Unit, UnitSubject, VotingSubject
from tests.factories import UnitSpec, add_roster, make_compound


def _two_rosters(db: Session) -> dict[str, dict[str, int]]:
    """Two compounds, each with a building, a unit, an owner and a subject, and a parking space
    of that owner in no subject (parking carries no vote by default): their ids."""
    ids: dict[str, dict[str, int]] = {}
    for name in ("a", "b"):
        compound = make_compound(db)
        owners = add_roster(db, compound, [UnitSpec("1栋", "101", 9000, [f"业主{name}"]),
                                           UnitSpec("1栋", "P1", 1200, [f"业主{name}"], usage="车位")])
        unit, parking = db.execute(
            select(Unit).where(Unit.compound_id == compound.id).order_by(Unit.room)).scalars()
        subject = db.execute(
            select(VotingSubject).where(VotingSubject.compound_id == compound.id)).scalar_one()
        building = db.execute(
            select(Building).where(Building.compound_id == compound.id)).scalar_one()
        ids[name] = {"compound": compound.id or 0, "building": building.id or 0,
                     "unit": unit.id or 0, "parking": parking.id or 0, "owner": owners[f"业主{name}"].id or 0,
                     "subject": subject.id or 0}
    db.commit()
    return ids


# Each statement writes a row of compound a that points at a row of compound b.
CROSSINGS = {
    "unit in another compound's building":
        "INSERT INTO unit (compound_id, building_id, entrance, room, area_hundredths, area_source,"
        " usage, status) VALUES (:a_compound, :b_building, '', '102', 100, 'register', '住宅',"
        " 'delivered')",
    "unit moved to another compound, keeping its building":
        "UPDATE unit SET compound_id = :b_compound WHERE id = :a_unit",
    "link to another compound's owner":
        "INSERT INTO unit_owner (compound_id, unit_id, owner_id) VALUES (:a_compound, :a_unit,"
        " :b_owner)",
    "link to another compound's unit":
        "INSERT INTO unit_owner (compound_id, unit_id, owner_id) VALUES (:a_compound, :b_unit,"
        " :a_owner)",
    "representative from another compound":
        "UPDATE voting_subject SET representative_owner_id = :b_owner WHERE id = :a_subject",
    "unit placed in another compound's subject":
        "UPDATE unit_subject SET subject_id = :b_subject WHERE unit_id = :a_unit",
    "subject link to another compound's unit":
        "UPDATE unit_subject SET unit_id = :b_parking WHERE unit_id = :a_unit",
}


@pytest.mark.parametrize("crossing", sorted(CROSSINGS))
def test_a_row_pointing_into_another_compound_is_refused(db: Session, crossing: str) -> None:
    ids = _two_rosters(db)
    params = {f"{name}_{what}": value for name, row in ids.items() for what, value in row.items()}
    with pytest.raises(IntegrityError):
        db.execute(text(CROSSINGS[crossing]), params)
        db.flush()
    db.rollback()


def test_the_same_rows_inside_one_compound_are_accepted(db: Session) -> None:
    """The statements above, pointed at compound a's own rows, succeed (the refusal is the
    compound, not the statement)."""
    ids = _two_rosters(db)
    a = ids["a"]
    db.execute(text(
        "INSERT INTO unit (compound_id, building_id, entrance, room, area_hundredths, area_source,"
        " usage, status) VALUES (:c, :b, '', '102', 100, 'register', '住宅', 'delivered')"),
        {"c": a["compound"], "b": a["building"]})
    second = db.execute(select(Unit.id).where(Unit.compound_id == a["compound"], Unit.room == "102")
                        ).scalar_one()
    db.execute(text("INSERT INTO unit_owner (compound_id, unit_id, owner_id) VALUES (:c, :u, :o)"),
               {"c": a["compound"], "u": second, "o": a["owner"]})
    db.execute(text("UPDATE voting_subject SET representative_owner_id = :o WHERE id = :s"),
               {"o": a["owner"], "s": a["subject"]})
    db.execute(text("INSERT INTO unit_subject (compound_id, unit_id, subject_id) VALUES (:c, :u, :s)"),
               {"c": a["compound"], "u": second, "s": a["subject"]})
    db.flush()
    assert db.execute(select(UnitSubject.subject_id).where(UnitSubject.unit_id == second)
                      ).scalar_one() == a["subject"]
    assert db.get(Owner, a["owner"]) is not None
