"""Demo data: one compound built through the real import, sensible totals, working logins."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app import demo
from app.audit.models import AuditEvent
from app.auth.sender import MemorySender
from app.privacy import hash_id_number
from app.roster import service
from app.roster.models import Compound, Owner, RosterImport, Unit


def test_demo_units_are_deterministic_and_realistic() -> None:
    units = demo.demo_units()
    assert [(u.label, u.area_hundredths, [o.phone for o in u.owners]) for u in units] == [
        (u.label, u.area_hundredths, [o.phone for o in u.owners]) for u in demo.demo_units()]
    assert len(units) == 300
    flats = [u for u in units if u.usage == "住宅"]
    assert len(flats) == 288 and all(5000 <= u.area_hundredths <= 18000 for u in flats)
    assert sum(u.usage == "商业" for u in units) == 4 and sum(u.usage == "车位" for u in units) == 8
    assert all(u.entrance == "" and u.room.startswith("S") for u in units if u.usage == "商业")
    sources = [u.source for u in flats]
    assert sources.count("不动产登记") > 0.75 * len(flats)
    assert sources.count("测绘") > 0 and sources.count("合同") > 0
    assert sum(u.status != "已交付" for u in units) == 12
    co_owned = [u for u in units if len(u.owners) == 2]
    assert 25 <= len(co_owned) <= 32
    phones = {o.phone for u in units for o in u.owners if o.kind == "个人"}
    assert all("13800000000" <= p <= "13899999999" for p in phones)
    assert demo.MULTI_UNIT_PHONE in phones and demo.CO_OWNER_PHONE in phones


def _expected_totals(units: list[demo._DemoUnit]) -> tuple[int, int]:
    """Naive recount of DOMAIN §1: owner sets of delivered non-parking units, plus the developer."""
    counted = [u for u in units if u.usage not in ("车位", "车库")]
    owner_sets = {frozenset(o.id_number for o in u.owners) for u in counted if u.status == "已交付"}
    developer = any(u.status != "已交付" for u in counted)
    return sum(u.area_hundredths for u in counted), len(owner_sets) + int(developer)


def test_seed_demo_creates_one_compound_through_the_import(db: Session) -> None:
    info = demo.seed_demo(db)
    db.commit()
    assert info.created and info.compound_id is not None
    compound = db.get(Compound, info.compound_id)
    assert compound is not None
    assert (compound.name, compound.district, compound.street, compound.community,
            compound.developer_name) == ("阳光花园", "朝阳区", "和平街道", "幸福社区", "阳光置业有限公司")
    totals = service.roster_totals(db, compound_id=info.compound_id)
    area, headcount = _expected_totals(demo.demo_units())
    assert totals.unit_count == 300 and totals.voting_unit_count == 292
    assert (totals.total_area_hundredths, totals.subject_count) == (area, headcount)
    assert headcount < totals.unit_count
    assert totals.developer_unit_count == 12 and totals.co_owned_unit_count == 28
    assert len(totals.by_building) == 4
    assert (info.unit_count, info.subject_count) == (300, headcount)
    assert info.total_area == service.format_area(area)

    events = list(db.execute(select(AuditEvent).where(AuditEvent.action == "roster.imported"))
                  .scalars())
    assert len(events) == 1 and json.loads(events[0].payload)["units_added"] == 300
    record = db.execute(select(RosterImport)).scalar_one()
    assert record.status == "applied"

    wang = db.execute(select(Owner).where(Owner.phone == demo.MULTI_UNIT_PHONE)).scalar_one()
    person = next(o for u in demo.demo_units() for o in u.owners
                  if o.phone == demo.MULTI_UNIT_PHONE)
    assert wang.id_hash == hash_id_number(person.id_number)
    assert wang.id_last4 == person.id_number[-4:]
    assert not db.execute(select(Owner).where(Owner.id_hash == person.id_number)).first()
    assert service.owner_ids_for_phone(db, compound_id=info.compound_id,
                                       phone=demo.CO_OWNER_PHONE)


def test_seed_demo_is_idempotent(db: Session) -> None:
    first = demo.seed_demo(db)
    db.commit()
    units = db.execute(select(func.count()).select_from(Unit)).scalar_one()
    events = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    again = demo.seed_demo(db)
    db.commit()
    assert not again.created and again.compound_id == first.compound_id
    assert db.execute(select(func.count()).select_from(Compound)).scalar_one() == 1
    assert db.execute(select(func.count()).select_from(Unit)).scalar_one() == units == 300
    assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events
    assert "未重复写入" in again.render()


def test_seed_demo_does_nothing_when_another_compound_exists(db: Session) -> None:
    service.create_compound(db, name="别的小区", district="区", street="街道", community="社区",
                            actor=demo.SYSTEM)
    info = demo.seed_demo(db)
    assert not info.created and info.compound_id is None
    assert db.execute(select(func.count()).select_from(Unit)).scalar_one() == 0
    assert info.render() == "数据库中已有小区数据，未写入演示数据。"


def test_demo_logins_work(client: TestClient, db: Session, outbox: MemorySender) -> None:
    info = demo.seed_demo(db)
    db.commit()
    cid = info.compound_id
    expected_roles = {"admin": [], "committee": ["committee"], "committee2": ["committee"],
                      "reviewer": ["reviewer"], "observer": ["observer"], "clerk": ["clerk"]}
    assert [s.username for s in info.staff] == list(expected_roles)
    for username, roles in expected_roles.items():
        r = client.post("/api/v1/auth/login", json={
            "username": username, "password": demo.DEMO_PASSWORD, "mode": "bearer"})
        assert r.status_code == 200, (username, r.text)
        user = r.json()["user"]
        assert user["is_platform_admin"] == (username == "admin")
        granted = {c["compound_id"]: c["roles"] for c in user["compounds"]}
        assert granted.get(cid, []) == roles
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        summary = client.get(f"/api/v1/compounds/{cid}/roster/summary", headers=headers)
        assert summary.status_code == 200 and summary.json()["unit_count"] == 300
    for phone in (demo.MULTI_UNIT_PHONE, demo.CO_OWNER_PHONE):
        assert client.post("/api/v1/auth/otp/request", json={"phone": phone}).status_code == 202
        r = client.post("/api/v1/auth/otp/verify", json={
            "phone": phone, "code": outbox.last_code(phone), "mode": "bearer"})
        assert r.status_code == 200, r.text
        compounds = r.json()["user"]["compounds"]
        assert [(c["compound_id"], c["roles"]) for c in compounds] == [(cid, ["owner"])]


def test_cli_prints_logins(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    demo.main()
    out = capsys.readouterr().out
    assert "已创建演示数据：阳光花园" in out and demo.DEMO_PASSWORD in out
    for text in ("admin", "committee2", "reviewer", "observer", "clerk", "13800000001",
                 "13800000002"):
        assert text in out
    demo.main()
    assert "演示数据已存在" in capsys.readouterr().out
