"""Paper ballots (issue 14, item 7): the printed ballots with serials and QR codes, finding a
flat by its serial, the warning before a paper entry for a flat that already voted, and the
door-to-door worklist of non-voters by building and entrance."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from app.clock import FrozenClock
from app.files import service as files_service
from app.roster.models import Building, Unit
from app.voting import paper
from app.voting.models import BallotSubject
from tests.voting.helpers import World, ballot_body, build_world, owner

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai
# 1栋 has two entrances (101/102 in 1单元, 201/202 in 2单元); 2栋 one (1单元).
ENTRANCES = {("1栋", "101"): "1", ("1栋", "102"): "1", ("1栋", "201"): "2", ("1栋", "202"): "2"}


def _world(db: Session, client: TestClient) -> World:
    world = build_world(db, client)
    names = {b.id: b.name for b in db.execute(select(Building)).scalars()}
    for unit in db.execute(select(Unit).where(Unit.compound_id == world.cid)).scalars():
        unit.entrance = ENTRANCES.get((names[unit.building_id], unit.room), "1")
        db.add(unit)
    db.commit()
    return world


def _open_two(client: TestClient, world: World, clock: FrozenClock) -> tuple[dict, dict]:
    """Two ballots over the same flats, noticed today and opened 15 days later."""
    ids = []
    for title in ("2026年第一次业主大会", "加装电梯表决"):
        body = ballot_body(START)
        body["title"] = title
        r = client.post(world.url("/ballots"), json=body, headers=world.committee)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        r = client.post(world.url(f"/ballots/{ids[-1]}/notice"), json={}, headers=world.committee)
        assert r.status_code == 200, r.text
    clock.current = START + timedelta(hours=1)
    world.refresh(client)
    out = []
    for bid in ids:
        r = client.post(world.url(f"/ballots/{bid}/open"), headers=world.committee)
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out[0], out[1]


def _pdf_text(content: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _subjects(db: Session, bid: int) -> list[BallotSubject]:
    db.expire_all()
    return list(db.execute(select(BallotSubject).where(BallotSubject.ballot_id == bid)
                           .order_by(BallotSubject.subject_id)).scalars())


def _lookup(client: TestClient, world: World, bid: int, **query: object):  # type: ignore[no-untyped-def]
    return client.get(world.url(f"/ballots/{bid}/paper-lookup"), params=query, headers=world.committee)


def test_pdf_has_one_ballot_per_subject_with_its_flat_and_serial(
    client: TestClient, db: Session, frozen_clock: FrozenClock, tmp_path: Path, outbox,  # type: ignore[no-untyped-def]
) -> None:
    world = _world(db, client)
    a, _ = _open_two(client, world, frozen_clock)
    r = client.get(world.url(f"/ballots/{a['id']}/paper-ballots"), headers=world.committee)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    text = _pdf_text(r.content, tmp_path, "ballots.pdf")
    subjects = _subjects(db, a["id"])
    assert len(subjects) == 10  # nine owners' subjects and the developer's
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) == len(subjects)
    for s in subjects:
        serial = paper.serial_of(compound_id=world.cid, ballot_id=a["id"], subject_id=s.subject_id)
        page = next(p for p in pages if serial in p)  # each serial on its own page ...
        assert s.label in page  # ... with its flat, its area, the matters and the period
        assert f"{s.area_hundredths // 100}.{s.area_hundredths % 100:02d}" in page
        assert "调整物业服务收费标准" in page and "王一" in page and "签名" in page
        assert "2026年3月17日 00:00 至 2026年3月23日 24:00" in page
    assert "1栋1单元101" in text and "2栋1单元101" in text
    # Kept per version: the second download is the kept file, byte for byte.
    data = paper.paper_ballots(db, ballot=_ballot(db, a["id"]))
    kept = files_service.kept_path(compound_id=world.cid, kind="paper-ballots", version=data.version())
    assert kept.read_bytes() == r.content
    again = client.get(world.url(f"/ballots/{a['id']}/paper-ballots"), headers=world.committee)
    assert again.content == r.content
    # Owners and observers cannot print them.
    voter = owner(client, outbox, world, "A")
    assert client.get(world.url(f"/ballots/{a['id']}/paper-ballots"), headers=voter).status_code == 403
    assert client.get(world.url(f"/ballots/{a['id']}/paper-ballots"), headers=world.observer).status_code == 403


def _ballot(db: Session, bid: int):  # type: ignore[no-untyped-def]
    from app.voting.models import Ballot

    db.expire_all()
    return db.get(Ballot, bid)


def test_serial_resolves_to_its_subject_and_only_in_its_ballot(
    client: TestClient, db: Session, frozen_clock: FrozenClock,
) -> None:
    world = _world(db, client)
    a, b = _open_two(client, world, frozen_clock)
    subject = _subjects(db, a["id"])[3]
    serial = paper.serial_of(compound_id=world.cid, ballot_id=a["id"], subject_id=subject.subject_id)
    assert re.fullmatch(rf"B{a['id']}-S{subject.subject_id}-[0-9A-HJKMNP-TV-Z]{{6}}", serial)
    r = _lookup(client, world, a["id"], serial=serial)
    assert r.status_code == 200, r.text
    assert r.json()["subject_id"] == subject.subject_id and r.json()["label"] == subject.label
    # Typed loosely (lower case, spaces) or pasted with text around it: the same subject.
    loose = " " + serial.lower().replace("-", " ") + " "
    assert _lookup(client, world, a["id"], serial=loose).json()["subject_id"] == subject.subject_id
    assert _lookup(client, world, a["id"], serial=f"编号：{serial}。").json()["subject_id"] == subject.subject_id
    # Another subject's id with this check code, or a changed check code, is refused.
    other = _subjects(db, a["id"])[4].subject_id
    forged = serial.replace(f"-S{subject.subject_id}-", f"-S{other}-")
    r = _lookup(client, world, a["id"], serial=forged)
    assert r.status_code == 422 and r.json()["error"] == "paper_serial_invalid"
    # The serial of ballot A is refused in ballot B (same flat, other ballot).
    r = _lookup(client, world, b["id"], serial=serial)
    assert r.status_code == 409 and r.json()["error"] == "paper_serial_other_ballot"
    # ... and B's own serial for that flat works there.
    serial_b = paper.serial_of(compound_id=world.cid, ballot_id=b["id"], subject_id=subject.subject_id)
    assert serial_b != serial
    assert _lookup(client, world, b["id"], serial=serial_b).json()["subject_id"] == subject.subject_id
    assert _lookup(client, world, a["id"], serial="12345").json()["error"] == "paper_serial_invalid"
    # Only committee members look subjects up (as only they type paper ballots in).
    r = client.get(world.url(f"/ballots/{a['id']}/paper-lookup"), params={"serial": serial},
                   headers=world.observer)
    assert r.status_code == 403


def test_lookup_warns_of_an_online_vote_and_of_a_pending_paper_ballot(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox,  # type: ignore[no-untyped-def]
) -> None:
    world = _world(db, client)
    a, _ = _open_two(client, world, frozen_clock)
    voter = owner(client, outbox, world, "A")
    mine = client.get(world.url(f"/ballots/{a['id']}"), headers=voter).json()["my_subjects"][0]["subject_id"]
    choices = {str(m["id"]): ({"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree")
               for m in a["matters"]}
    r = client.post(world.url(f"/ballots/{a['id']}/votes"), headers=voter,
                    json={"subject_id": mine, "choices": choices})
    assert r.status_code == 201, r.text
    voted = _lookup(client, world, a["id"], subject_id=mine).json()
    assert voted["voted"] is True and voted["channel"] == "online" and voted["warning"] is True
    assert "通过线上投票表决" in voted["outcome"] and "冲突" in voted["outcome"]
    # The same answer by serial.
    serial = paper.serial_of(compound_id=world.cid, ballot_id=a["id"], subject_id=mine)
    assert _lookup(client, world, a["id"], serial=serial).json()["outcome"] == voted["outcome"]
    # A flat without a vote: no warning; after one member types its paper ballot in, the next
    # member is told one is waiting.
    other = next(s.subject_id for s in _subjects(db, a["id"]) if s.subject_id != mine)
    fresh = _lookup(client, world, a["id"], subject_id=other).json()
    assert fresh["voted"] is False and fresh["warning"] is False and "尚未投票" in fresh["outcome"]
    up = client.post(world.url("/files"), headers=world.committee, data={"purpose": "paper_ballot"},
                     files={"file": ("scan.png", io.BytesIO(PNG), "image/png")})
    r = client.post(world.url(f"/ballots/{a['id']}/paper"), headers=world.committee,
                    json={"subject_id": other, "choices": choices, "scan_file_id": up.json()["id"]})
    assert r.status_code == 201, r.text
    pending = _lookup(client, world, a["id"], subject_id=other).json()
    assert pending["pending_paper"] == 1 and pending["warning"] is True and pending["voted"] is False
    assert "待另一名委员复核" in pending["outcome"]
    # A subject outside the ballot is not found.
    assert _lookup(client, world, a["id"], subject_id=999999).status_code == 404


def test_worklist_groups_non_voters_by_building_then_entrance(
    client: TestClient, db: Session, frozen_clock: FrozenClock, outbox, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    world = _world(db, client)
    a, _ = _open_two(client, world, frozen_clock)
    voter = owner(client, outbox, world, "C")  # 1栋2单元201 votes
    mine = client.get(world.url(f"/ballots/{a['id']}"), headers=voter).json()["my_subjects"][0]["subject_id"]
    choices = {str(m["id"]): ({"approve": [m["candidates"][0]["id"]]} if m["seats"] else "agree")
               for m in a["matters"]}
    r = client.post(world.url(f"/ballots/{a['id']}/votes"), headers=voter,
                    json={"subject_id": mine, "choices": choices})
    assert r.status_code == 201, r.text

    r = client.get(world.url(f"/ballots/{a['id']}/non-voters/worklist"), params={"format": "xlsx"},
                   headers=world.committee)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    places = [(row[0], row[1], row[2]) for row in rows]
    assert places == [
        ("1栋", "1", "101"), ("1栋", "1", "102"), ("1栋", "2", "202"),
        ("2栋", "1", "101"), ("2栋", "1", "102"), ("2栋", "1", "201"), ("2栋", "1", "202"),
        ("2栋", "1", "301"), ("2栋", "1", "302"), ("2栋", "1", "303"),
    ]
    by_room = {(row[0], row[2]): row for row in rows}
    assert by_room[("1栋", "101")][5] == "A*" and by_room[("1栋", "101")][6] == "139****0001"
    assert by_room[("2栋", "301")][5] == "I*、J*"  # co-owners, both masked
    assert "开发建设单位" in by_room[("2栋", "302")][10]
    assert by_room[("1栋", "101")][7] == paper.serial_of(
        compound_id=world.cid, ballot_id=a["id"], subject_id=next(
            s.subject_id for s in _subjects(db, a["id"]) if s.label == "1栋1单元101"))
    assert not any(world.phones[n] in str(row) for row in rows for n in world.phones)

    r = client.get(world.url(f"/ballots/{a['id']}/non-voters/worklist"), headers=world.committee)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _pdf_text(r.content, tmp_path, "worklist.pdf")
    headings = re.findall(r"(\d栋\d单元)（(\d+) 套未投票）", text)
    assert headings == [("1栋1单元", "2"), ("1栋2单元", "1"), ("2栋1单元", "7")]
    assert "1栋2单元201" not in text and "0001" in text and "13900000001" not in text
    assert "制表时尚有 9 户未投票" in text
    # The worklist is the committee's (as the non-voter list): not an observer's.
    r = client.get(world.url(f"/ballots/{a['id']}/non-voters/worklist"), headers=world.observer)
    assert r.status_code == 403


def test_nothing_to_print_before_opening(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    world = _world(db, client)
    r = client.post(world.url("/ballots"), json=ballot_body(START), headers=world.committee)
    bid = r.json()["id"]
    r = client.get(world.url(f"/ballots/{bid}/paper-ballots"), headers=world.committee)
    assert r.status_code == 409 and r.json()["error"] == "paper_print_not_open"
    assert client.get(world.url(f"/ballots/{bid}/non-voters/worklist"),
                      headers=world.committee).status_code == 409
