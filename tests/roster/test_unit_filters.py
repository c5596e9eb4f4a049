"""Issue 14 item 8: the roster table filters by entrance and status, sorts by area, and finds a
flat typed as people write it ("3-201", "3号楼201"); the old parameters keep working."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import Role
from app.roster import service as roster_service
from app.roster.models import Unit, UnitStatus
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff

# (building, entrance, room, area, status)
UNITS = [
    ("1栋", "1", "101", 9000, UnitStatus.DELIVERED),
    ("1栋", "1", "102", 12000, UnitStatus.DELIVERED),
    ("1栋", "2", "201", 8000, UnitStatus.UNSOLD),
    ("3号楼", "1", "201", 15000, UnitStatus.DELIVERED),
    ("3号楼", "2", "201", 7000, UnitStatus.DELIVERED),
    ("3号楼", "2", "1201", 10000, UnitStatus.UNDELIVERED),
]


@pytest.fixture
def roster(client: TestClient, db: Session) -> tuple[str, dict[str, str]]:
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec(b, f"{e}-{r}", a, [f"业主{b}{e}{r}"] if s == UnitStatus.DELIVERED else [],
                                       status=s) for b, e, r, a, s in UNITS])
    # The factory knows no entrances: give each unit its own, then derive the subjects again.
    for unit in db.execute(select(Unit)).scalars():
        unit.entrance, unit.room = unit.room.split("-")
        db.add(unit)
    db.flush()
    roster_service.rebuild_subjects(db, compound_id=compound.id or 0)
    make_staff(db, username="wy", roles={compound.id: [Role.COMMITTEE]})
    db.commit()
    return f"/api/v1/compounds/{compound.id}/units", bearer(client, "wy")


def _labels(client: TestClient, roster: tuple[str, dict[str, str]], **params: object) -> list[str]:
    url, headers = roster
    r = client.get(url, params=params, headers=headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    if "limit" not in params:
        assert r.json()["total"] == len(items)
    return [f"{u['building']}{u['entrance']}单元{u['room']}" for u in items]


def test_default_order_and_old_parameters(client: TestClient, roster: tuple[str, dict[str, str]]) -> None:
    assert _labels(client, roster) == ["1栋1单元101", "1栋1单元102", "1栋2单元201", "3号楼1单元201",
                                       "3号楼2单元201", "3号楼2单元1201"]
    assert _labels(client, roster, building="3号楼", q="120") == ["3号楼2单元1201"]
    assert _labels(client, roster, q="20") == ["1栋2单元201", "3号楼1单元201", "3号楼2单元201",
                                              "3号楼2单元1201"]


def test_filters_by_entrance_and_status(client: TestClient, roster: tuple[str, dict[str, str]]) -> None:
    assert _labels(client, roster, entrance="2") == ["1栋2单元201", "3号楼2单元201", "3号楼2单元1201"]
    assert _labels(client, roster, building="1栋", entrance="2") == ["1栋2单元201"]
    assert _labels(client, roster, status="unsold") == ["1栋2单元201"]
    assert _labels(client, roster, status="delivered", building="3号楼") == ["3号楼1单元201", "3号楼2单元201"]
    url, headers = roster
    page = client.get(url, params={"building": "3号楼"}, headers=headers).json()
    assert page["entrances"] == ["1", "2"]
    assert client.get(url, params={"status": "sold"}, headers=headers).status_code == 422


def test_sorts_by_area_both_ways(client: TestClient, roster: tuple[str, dict[str, str]]) -> None:
    by_area = ["3号楼2单元201", "1栋2单元201", "1栋1单元101", "3号楼2单元1201", "1栋1单元102", "3号楼1单元201"]
    assert _labels(client, roster, sort="area") == by_area
    assert _labels(client, roster, sort="-area") == by_area[::-1]
    assert _labels(client, roster, sort="-building")[0] == "3号楼2单元1201"
    assert _labels(client, roster, sort="status", limit=2) == ["1栋1单元101", "1栋1单元102"]
    url, headers = roster
    r = client.get(url, params={"sort": "owner_name"}, headers=headers)
    assert r.status_code == 422
    assert "排序" in r.text


@pytest.mark.parametrize(("q", "labels"), [
    ("3-201", ["3号楼1单元201", "3号楼2单元201"]),
    ("3号楼201", ["3号楼1单元201", "3号楼2单元201"]),
    ("3 2 201", ["3号楼2单元201"]),
    ("3号楼2单元12", ["3号楼2单元1201"]),
    ("1栋1", ["1栋1单元101", "1栋1单元102"]),
    ("2-201", []),
])
def test_finds_a_flat_as_people_type_it(client: TestClient, roster: tuple[str, dict[str, str]], q: str,
                                        labels: list[str]) -> None:
    assert _labels(client, roster, q=q) == labels
