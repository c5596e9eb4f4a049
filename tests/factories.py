"""Small factory functions that build rows directly through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.audit.service import SYSTEM
from app.auth import service as auth_service
from app.auth.models import Role, RoleGrant
from app.privacy import hash_id_number
from app.roster import service as roster_service
from app.roster.models import Building, Compound, Owner, OwnerKind, Unit, UnitOwner, UnitStatus

PASSWORD = "correct-horse-battery-staple"
_seq = count(1)


def make_compound(db: Session, *, name: str = "幸福家园", community: str = "幸福社区") -> Compound:
    compound = roster_service.create_compound(
        db, name=f"{name}{next(_seq)}", district="朝阳区", street="和平街道", community=community,
        actor=SYSTEM,
    )
    db.flush()
    return compound


def make_staff(
    db: Session, *, roles: dict[int, list[Role]] | None = None, platform_admin: bool = False,
    username: str | None = None, password: str = PASSWORD, phone: str | None = None,
):  # type: ignore[no-untyped-def]
    account = auth_service.create_staff_account(
        db, username=username or f"staff{next(_seq)}", password=password,
        display_name="工作人员", phone=phone, is_platform_admin=platform_admin,
    )
    for compound_id, role_list in (roles or {}).items():
        for role in role_list:
            db.add(RoleGrant(compound_id=compound_id, user_id=account.id, role=role))
    db.flush()
    return account


@dataclass
class UnitSpec:
    building: str
    room: str
    area: int  # hundredths of m²
    owners: list[str] = field(default_factory=list)  # owner keys; same key = same owner
    status: UnitStatus = UnitStatus.DELIVERED
    usage: str = "住宅"
    entrance: str = ""  # 单元


def add_roster(db: Session, compound: Compound, units: list[UnitSpec],
               phones: dict[str, str] | None = None) -> dict[str, Owner]:
    """Create buildings, units and owners (keyed by name) and derive the subjects."""
    assert compound.id is not None
    buildings: dict[str, Building] = {}
    owners: dict[str, Owner] = {}
    phones = phones or {}
    for spec in units:
        b = buildings.get(spec.building)
        if b is None:
            b = Building(compound_id=compound.id, name=spec.building)
            db.add(b)
            db.flush()
            buildings[spec.building] = b
        unit = Unit(
            compound_id=compound.id, building_id=b.id or 0, entrance=spec.entrance, room=spec.room,
            area_hundredths=spec.area, status=spec.status, usage=spec.usage,
        )
        db.add(unit)
        db.flush()
        for key in spec.owners:
            owner = owners.get(key)
            if owner is None:
                idn = f"1101011990{next(_seq):08d}"
                owner = Owner(
                    compound_id=compound.id, kind=OwnerKind.PERSON, name=key,
                    id_hash=hash_id_number(idn), id_last4=idn[-4:], phone=phones.get(key),
                )
                db.add(owner)
                db.flush()
                owners[key] = owner
            db.add(UnitOwner(compound_id=compound.id, unit_id=unit.id or 0, owner_id=owner.id or 0))
        db.flush()
    roster_service.rebuild_subjects(db, compound_id=compound.id)
    db.flush()
    return owners


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/login",
                    json={"username": username, "password": password, "mode": "bearer"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def owner_bearer(client: TestClient, outbox, phone: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/otp/request", json={"phone": phone})
    assert r.status_code == 202, r.text
    r = client.post("/api/v1/auth/otp/verify",
                    json={"phone": phone, "code": outbox.last_code(phone), "mode": "bearer"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
