"""Issue 11 finding 10: LIKE wildcards typed into a search match only themselves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff


@pytest.mark.parametrize(("q", "rooms"), [
    ("%", ["10%"]), ("_", ["2_1"]), ("1_1", []), ("%1", []), ("/", []),
    ("10", ["10%", "101", "102"]),
    ("0%", ["10%"]), ("2_", ["2_1"]),
])
def test_search_wildcards_are_literal(client: TestClient, db: Session, q: str, rooms: list[str]) -> None:
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", room, 9000, [f"业主{room}"])
                              for room in ("101", "102", "201", "2_1", "10%")])
    make_staff(db, username="wy", roles={compound.id: [Role.COMMITTEE]})
    db.commit()
    r = client.get(f"/api/v1/compounds/{compound.id}/units", params={"q": q},
                   headers=bearer(client, "wy"))
    assert r.status_code == 200, r.text
    assert sorted(u["room"] for u in r.json()["items"]) == rooms
    assert r.json()["total"] == len(rooms)
