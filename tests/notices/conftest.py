"""A small compound for notice tests: two buildings, co-owners, a multi-unit owner, the developer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.auth.models import Role, UserAccount
from app.config import get_settings
from app.files import service as files_service
from app.files.models import StoredFile
from app.roster.models import Building, Compound, Owner, UnitStatus, VotingSubject
from tests.factories import UnitSpec, add_roster, make_compound, make_staff

PHONES = {
    "张三": "13800000001",  # 1栋101 and 2栋201: one subject with two units
    "李四": "13800000002",  # co-owner of 1栋102 with 王五
    "王五": "13800000003",
    "赵六": "13800000004",  # 2栋101
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n% receipt\n"


@dataclass
class Site:
    """The arranged compound with handles the tests need."""

    compound: Compound
    other: Compound
    buildings: dict[str, int]
    subjects: dict[str, int]  # by owner name; "developer" for the developer's units
    committee: UserAccount

    @property
    def id(self) -> int:
        assert self.compound.id is not None
        return self.compound.id

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.committee.id, role=Role.COMMITTEE.value)


@pytest.fixture(autouse=True)
def _files_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Stored files go to the test's temporary directory, not the repository's data folder."""
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path / "files")
    yield


@pytest.fixture
def site(db: Session) -> Site:
    compound = make_compound(db, name="幸福家园")
    other = make_compound(db, name="和谐小区")
    add_roster(db, compound, [
        UnitSpec("1栋", "101", 9000, ["张三"]),
        UnitSpec("1栋", "102", 9500, ["李四", "王五"]),
        UnitSpec("2栋", "101", 12000, ["赵六"]),
        UnitSpec("2栋", "201", 8000, ["张三"]),
        UnitSpec("2栋", "102", 11000, [], status=UnitStatus.UNSOLD),
    ], phones=PHONES)
    add_roster(db, other, [UnitSpec("1栋", "101", 9000, ["外人"])])
    buildings = {
        b.name: b.id or 0
        for b in db.execute(select(Building).where(Building.compound_id == compound.id)).scalars()
    }
    # Subjects named by their owners ("李四+王五"), or "developer", for readable tests.
    names = {
        o.id: o.name
        for o in db.execute(select(Owner).where(Owner.compound_id == compound.id)).scalars()
    }
    subjects: dict[str, int] = {}
    for subject in db.execute(
        select(VotingSubject).where(VotingSubject.compound_id == compound.id)
    ).scalars():
        key = "developer" if subject.kind == "developer" else "+".join(
            sorted(names[int(x)] for x in subject.key[2:].split(","))
        )
        subjects[key] = subject.id or 0
    committee = make_staff(db, roles={compound.id: [Role.COMMITTEE]})  # type: ignore[dict-item]
    db.commit()
    return Site(compound=compound, other=other, buildings=buildings, subjects=subjects,
                committee=committee)


def store(db: Session, site: Site, *, data: bytes = PNG, content_type: str = "image/png",
          name: str = "photo.png", purpose: str = "board_photo",
          compound_id: int | None = None) -> StoredFile:
    """Store a file through the files service."""
    return files_service.store_file(
        db, compound_id=compound_id or site.id, data=data, file_name=name,
        content_type=content_type, purpose=purpose, actor=site.actor,
    )


def count_events(db: Session, compound_id: int, action: str) -> int:
    return db.execute(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.compound_id == compound_id, AuditEvent.action == action
        )
    ).scalar_one()

