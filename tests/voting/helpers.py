"""Helpers for ballot tests: a hand-built compound, staff, owners with phones, and time travel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from app.clock import FrozenClock
from app.roster.models import Compound, UnitStatus
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@dataclass
class World:
    compound: Compound
    committee: dict[str, str]
    committee2: dict[str, str]
    observer: dict[str, str]
    phones: dict[str, str]  # owner name -> phone

    @property
    def cid(self) -> int:
        assert self.compound.id is not None
        return self.compound.id

    def refresh(self, client: TestClient) -> None:
        """Log the staff in again (after time travel their short-lived tokens expire)."""
        self.committee = bearer(client, "wy1")
        self.committee2 = bearer(client, "wy2")
        self.observer = bearer(client, "gcy")

    def travel(self, client: TestClient, clock: FrozenClock, **delta: float) -> None:
        clock.advance(**delta)
        self.refresh(client)

    def url(self, path: str = "") -> str:
        return f"/api/v1/compounds/{self.cid}{path}"


# Ten subjects with literal areas (hundredths of m²) so results can be computed by hand:
#   A 100.00  B 100.00  C 90.00  D 110.00  E 80.00  F 120.00  G 95.50  H 104.50
#   I+J (co-owned) 150.00   developer (2 unsold units) 50.00 + 50.00
ROSTER = [
    UnitSpec("1栋", "101", 10000, ["A"]),
    UnitSpec("1栋", "102", 10000, ["B"]),
    UnitSpec("1栋", "201", 9000, ["C"]),
    UnitSpec("1栋", "202", 11000, ["D"]),
    UnitSpec("2栋", "101", 8000, ["E"]),
    UnitSpec("2栋", "102", 12000, ["F"]),
    UnitSpec("2栋", "201", 9550, ["G"]),
    UnitSpec("2栋", "202", 10450, ["H"]),
    UnitSpec("2栋", "301", 15000, ["I", "J"]),
    UnitSpec("2栋", "302", 5000, [], status=UnitStatus.UNSOLD),
    UnitSpec("2栋", "303", 5000, [], status=UnitStatus.UNSOLD),
]
TOTAL_AREA = 105000
TOTAL_HEADCOUNT = 10


def build_world(db: Session, client: TestClient) -> World:
    compound = make_compound(db)
    phones = {name: f"1390000{i:04d}" for i, name in enumerate("ABCDEFGHIJ", start=1)}
    add_roster(db, compound, ROSTER, phones=phones)
    make_staff(db, username="wy1", roles={compound.id: [Role.COMMITTEE]})
    make_staff(db, username="wy2", roles={compound.id: [Role.COMMITTEE]})
    make_staff(db, username="gcy", roles={compound.id: [Role.OBSERVER]})
    db.commit()
    return World(compound=compound, committee=bearer(client, "wy1"), committee2=bearer(client, "wy2"),
                 observer=bearer(client, "gcy"), phones=phones)


def ballot_body(starts_at: datetime, days: int = 7, matters: list[dict] | None = None) -> dict:
    return {
        "title": "2026年第一次业主大会",
        "description": "请各位业主按时参加表决。",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(days=days)).isoformat(),
        "matters": matters or [
            {"title": "调整物业服务收费标准", "category": "9"},
            {"title": "利用共有部分设置广告位", "category": "8"},
            {"title": "选举第二届业主委员会委员", "category": "3", "seats": 3,
             "candidates": [{"name": n} for n in ("王一", "李二", "张三", "赵四")]},
        ],
    }


def owner(client: TestClient, outbox, world: World, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return owner_bearer(client, outbox, world.phones[name])


def open_ballot(client: TestClient, world: World, clock: FrozenClock, body: dict | None = None) -> dict:
    """Draft, notice today, travel 15 days, open."""
    start = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai
    r = client.post(world.url("/ballots"), json=body or ballot_body(start), headers=world.committee)
    assert r.status_code == 201, r.text
    ballot = r.json()
    r = client.post(world.url(f"/ballots/{ballot['id']}/notice"), json={}, headers=world.committee)
    assert r.status_code == 200, r.text
    clock.current = start + timedelta(hours=1)
    world.refresh(client)
    r = client.post(world.url(f"/ballots/{ballot['id']}/open"), headers=world.committee)
    assert r.status_code == 200, r.text
    return r.json()
