"""Roster owns roster facts: one label wording, one area format, one scope snapshot (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import Session

from app.roster import labels, service
from app.roster.models import Building, UnitStatus
from app.voting import rules
from tests.factories import UnitSpec, add_roster, make_compound

APP = Path(__file__).resolve().parents[2] / "app"


def _world(db: Session):  # type: ignore[no-untyped-def]
    compound = make_compound(db)
    compound.developer_name = "阳光置业"
    owners = add_roster(db, compound, [
        UnitSpec("1栋", "101", 8912, ["张三"]),
        UnitSpec("2栋", "101", 10050, ["张三"]),
        UnitSpec("1栋", "201", 12000, ["李四", "王五"]),
        UnitSpec("2栋", "301", 13333, [], status=UnitStatus.UNSOLD),
        UnitSpec("1栋", "302", 6667, [], status=UnitStatus.UNSOLD),
    ], phones={"张三": "13800000001", "李四": "13800000002", "王五": "13800000003"})
    db.flush()
    assert compound.id is not None
    building = {b.name: b.id for b in service.buildings(db, compound_id=compound.id)}
    return compound, owners, building


def test_the_developer_subject_reads_the_same_on_every_screen(db: Session) -> None:
    compound, _, _ = _world(db)
    assert compound.id is not None
    listed = {s["kind"]: s["label"] for s in service.list_subjects(db, compound_id=compound.id)[1]}
    snapshot = service.scope_snapshot(db, compound_id=compound.id, building_ids=[])
    developer = next(s for s in snapshot.subjects if s.is_developer)
    live = service.subject_voters(db, compound_id=compound.id, subject_id=developer.subject_id)
    assert live is not None
    # Before: 阳光置业（未售/未交付 2 套） on the roster, 阳光置业（2套） on ballots and
    # 开发建设单位（未售/未交付2套） on delivery records, whatever the compound's developer.
    assert listed["developer"] == developer.label == live.label == "阳光置业（未售/未交付2套）"


def test_scope_snapshot_counts_only_the_units_in_scope(db: Session) -> None:
    compound, owners, building = _world(db)
    assert compound.id is not None
    snapshot = service.scope_snapshot(db, compound_id=compound.id, building_ids=[building["1栋"]])
    by_label = {s.label: s for s in snapshot.subjects}
    assert set(by_label) == {"1栋101", "1栋201", "阳光置业（未售/未交付1套）"}
    assert by_label["1栋101"].area_hundredths == 8912  # 张三's 2栋 flat is out of scope
    assert by_label["1栋101"].building_ids == frozenset({building["1栋"]})
    assert snapshot.total_area_hundredths == 8912 + 12000 + 6667
    voters = {(v.owner_id, v.is_representative) for v in snapshot.voters}
    co_owned = by_label["1栋201"]
    assert voters == {(owners["张三"].id, True), (owners["李四"].id, co_owned.representative_owner_id == owners["李四"].id),
                      (owners["王五"].id, co_owned.representative_owner_id == owners["王五"].id)}
    assert sum(v.is_representative for v in snapshot.voters if v.subject_id == co_owned.subject_id) == 1
    whole = service.scope_snapshot(db, compound_id=compound.id, building_ids=[])
    assert {s.label for s in whole.subjects} >= {"1栋101、2栋101"}


def test_owner_buildings_and_subjects_come_from_roster(db: Session) -> None:
    compound, owners, building = _world(db)
    assert compound.id is not None
    assert service.owner_building_ids(db, compound_id=compound.id, owner_ids=[owners["张三"].id]) == {
        building["1栋"], building["2栋"]}
    assert service.owner_building_ids(db, compound_id=compound.id, owner_ids=[]) == set()
    mine = service.owner_subject_ids(db, compound_id=compound.id, phone="13800000002")
    labels_ = service.subject_summaries(db, compound_id=compound.id, subject_ids=mine)
    assert [s.label for s in labels_.values()] == ["1栋201"]
    other = make_compound(db)
    assert other.id is not None
    db.add(Building(compound_id=other.id, name="9栋"))
    db.flush()
    assert service.buildings(db, compound_id=compound.id, building_ids=[*building.values(), 10**6]) == [
        service.BuildingRef(id=building["1栋"], name="1栋"), service.BuildingRef(id=building["2栋"], name="2栋")]


def test_areas_are_formatted_once_and_exactly() -> None:
    assert rules.format_area is labels.format_area is service.format_area
    assert labels.format_area(-5) == "-0.05"  # voting's copy printed -1.95
    assert labels.format_area(12345) == "123.45"
    assert labels.units_text(["a", "b", "c", "d"]) == "a、b、c 等4套"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_domain_reads_roster_tables_and_auth_stays_on_the_ground_floor() -> None:
    for domain in ("voting", "notices", "ledger", "procedures", "auth"):
        for path in (APP / domain).rglob("*.py"):
            assert "app.roster.models" not in _imports(path), path
    for path in (APP / "auth").rglob("*.py"):  # its router composes /auth/me from roster too
        if path.name == "router.py":
            continue
        assert not any(m.startswith("app.roster") for m in _imports(path)), path
