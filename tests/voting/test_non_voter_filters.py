"""Issue 14 item 8: the non-voter list filters by building, entrance and typed flat, sorts by
area, and names the buildings and entrances to filter by; paging keeps working."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.roster import service as roster_service
from app.roster.models import Unit
from tests.voting.helpers import build_world, open_ballot


def test_non_voters_filter_sort_and_facets(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    world = build_world(db, client)
    # Entrance 1 holds the x01 rooms, entrance 2 the x02 and x03 rooms.
    for unit in db.execute(select(Unit)).scalars():
        unit.entrance = "1" if unit.room.endswith("1") else "2"
        db.add(unit)
    db.flush()
    roster_service.rebuild_subjects(db, compound_id=world.cid)
    db.commit()
    ballot = open_ballot(client, world, frozen_clock)
    url = world.url(f"/ballots/{ballot['id']}/non-voters")

    def get(**params: object) -> dict:
        r = client.get(url, params=params, headers=world.committee)
        assert r.status_code == 200, r.text
        return r.json()

    everyone = get()
    assert everyone["total"] == 10  # nobody voted yet: 9 owner subjects and the developer
    assert everyone["buildings"] == ["1栋", "2栋"]
    assert everyone["entrances"] == []  # entrances are offered once a building is chosen

    b2 = get(building="2栋")
    assert [s["label"] for s in b2["items"]] == [
        "2栋1单元101", "2栋2单元102", "2栋1单元201", "2栋2单元202", "2栋1单元301",
        "开发建设单位（未售/未交付2套）",
    ]
    assert b2["entrances"] == ["1", "2"]
    assert [s["label"] for s in get(building="2栋", entrance="1")["items"]] == [
        "2栋1单元101", "2栋1单元201", "2栋1单元301"]
    assert get(building="1栋", entrance="2")["total"] == 2
    # The developer's label names no flat; its unsold 302 and 303 are in entrance 2 (the frozen
    # places decide, not the label).
    assert [s["label"] for s in get(building="2栋", entrance="2")["items"]] == [
        "2栋2单元102", "2栋2单元202", "开发建设单位（未售/未交付2套）"]

    assert [s["label"] for s in get(q="2-201")["items"]] == ["2栋1单元201"]
    assert [s["label"] for s in get(q="1号楼20")["items"]] == ["1栋1单元201", "1栋2单元202"]

    by_area = get(building="1栋", sort="-area")
    assert [s["area"] for s in by_area["items"]] == ["110.00", "100.00", "100.00", "90.00"]
    page = get(building="2栋", sort="area", offset=1, limit=2)
    assert page["total"] == 6
    assert [s["area"] for s in page["items"]] == ["95.50", "100.00"]
    assert client.get(url, params={"sort": "phone"}, headers=world.committee).status_code == 422
