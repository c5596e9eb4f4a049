"""A lift (加装电梯, Art. 278 (七), three quarters) put to one entrance: tallied against the
entrance's own totals (DOMAIN.md §2 Scope, §9), computed here by hand.

The compound (areas in m², every unit owned alone by the named owner):

    3号楼2单元  101 P 100.00   102 Q 100.00   201 R 120.00   202 S 80.00   301 T 60.00
    3号楼1单元  101 U 100.00   102 V 100.00   201 W 100.00   301 T 90.00
    5号楼       101 X 100.00

T owns a flat in each entrance of 3号楼: one subject (150.00 m²) compound-wide, but in a
ballot over 3号楼2单元 only its flat there counts (60.00 m²).

    3号楼2单元: A = 100 + 100 + 120 + 80 + 60 = 460.00 m²  N = 5 (P Q R S T)
    3号楼:      A = 460 + 100 + 100 + 100 + 90 = 850.00 m²  N = 8 (P Q R S T U V W)

Four ballots, each with one lift matter (category 7: quorum 2/3 of A and N, then 3/4 of the
participants' area and headcount):

    E1 (3号楼2单元)  P Q R S agree
        a_p = 400, n_p = 4: 3·400 = 1200 ≥ 2·460 = 920 and 3·4 = 12 ≥ 2·5 = 10: quorum met;
        all agree: passes.
    B1 (3号楼), the same four votes
        3·400 = 1200 < 2·850 = 1700 and 3·4 = 12 < 2·8 = 16: quorum fails by area and headcount.
    E2 (3号楼2单元)  P Q S T agree, R opposes
        a_p = 460, n_p = 5: quorum met. a_y = 100 + 100 + 80 + 60 = 340: 4·340 = 1360 < 3·460 =
        1380: fails by area (4·4 = 16 ≥ 3·5 = 15 by headcount). Had T's flat in 1单元 been counted
        (T at 150.00): 4·430 = 1720 ≥ 3·550 = 1650 would pass — the in-scope rule decides it.
    B2 (3号楼)  P Q S T U V W agree, R opposes
        a_p = 850, n_p = 8: quorum met. a_y = 850 - 120 = 730: 4·730 = 2920 ≥ 3·850 = 2550;
        4·7 = 28 ≥ 3·8 = 24: passes, while the entrance alone (E2) fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.auth.models import Role
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.roster import service as roster_service
from app.roster.models import Building
from app.voting.__main__ import main as voting_cli
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

ROSTER = [
    UnitSpec("3号楼", "101", 10000, ["P"], entrance="2"),
    UnitSpec("3号楼", "102", 10000, ["Q"], entrance="2"),
    UnitSpec("3号楼", "201", 12000, ["R"], entrance="2"),
    UnitSpec("3号楼", "202", 8000, ["S"], entrance="2"),
    UnitSpec("3号楼", "301", 6000, ["T"], entrance="2"),
    UnitSpec("3号楼", "101", 10000, ["U"], entrance="1"),
    UnitSpec("3号楼", "102", 10000, ["V"], entrance="1"),
    UnitSpec("3号楼", "201", 10000, ["W"], entrance="1"),
    UnitSpec("3号楼", "301", 9000, ["T"], entrance="1"),
    UnitSpec("5号楼", "101", 10000, ["X"]),
]
START = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)  # 17 Mar 00:00 Shanghai
AG, OP = "agree", "oppose"


def _lift(title: str, *, buildings: list[int], entrances: list[dict]) -> dict:
    return {
        "title": title, "description": "加装电梯，费用由本范围业主分摊。",
        "starts_at": START.isoformat(), "ends_at": (START + timedelta(days=7)).isoformat(),
        "scope_building_ids": buildings, "scope_entrances": entrances,
        "matters": [{"title": "加装电梯", "category": "7"}],
    }


def test_entrance_scoped_lift_is_tallied_against_the_entrance(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    compound = make_compound(db)
    assert compound.id is not None
    cid = compound.id
    phones = {name: f"1370000{i:04d}" for i, name in enumerate("PQRSTUVWX", start=1)}
    add_roster(db, compound, ROSTER, phones=phones)
    make_staff(db, username="wyE", roles={cid: [Role.COMMITTEE]})
    db.commit()
    b3 = db.execute(select(Building.id).where(Building.compound_id == cid, Building.name == "3号楼")).scalar_one()
    url = f"/api/v1/compounds/{cid}"
    committee = bearer(client, "wyE")
    entrance = [{"building_id": b3, "entrance": "2"}]

    # The roster summary lists each building's entrances, for the scope picker.
    summary = client.get(url + "/roster/summary", headers=committee).json()
    assert {b["building"]: b["entrances"] for b in summary["by_building"]} == {"3号楼": ["1", "2"], "5号楼": []}

    # An entrance the building does not have is refused.
    bad = client.post(url + "/ballots", headers=committee,
                      json=_lift("加装电梯", buildings=[], entrances=[{"building_id": b3, "entrance": "9"}]))
    assert bad.status_code == 422 and bad.json()["error"] == "building_not_in_compound"

    specs = {
        "E1": _lift("3号楼2单元加装电梯", buildings=[], entrances=entrance),
        "B1": _lift("3号楼加装电梯", buildings=[b3], entrances=[]),
        "E2": _lift("3号楼2单元加装电梯（第二次）", buildings=[], entrances=entrance),
        "B2": _lift("3号楼加装电梯（第二次）", buildings=[b3], entrances=entrance),  # 2单元 adds nothing
    }
    ids = {}
    for key, body in specs.items():
        r = client.post(url + "/ballots", headers=committee, json=body)
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
        r = client.post(url + f"/ballots/{ids[key]}/notice", headers=committee, json={})
        assert r.status_code == 200, r.text
    e1 = client.get(url + f"/ballots/{ids['E1']}", headers=committee).json()
    assert e1["scope_label"] == "3号楼2单元" and e1["scope_entrances"] == entrance
    b2 = client.get(url + f"/ballots/{ids['B2']}", headers=committee).json()
    assert b2["scope_label"] == "3号楼" and b2["scope_entrances"] == []

    # The meeting notice goes to the entrance: P reads it, U (1单元) and X (5号楼) never see it.
    notice_id = e1["notice_id"]
    owners = {name: owner_bearer(client, outbox, phones[name]) for name in "PUX"}
    read = client.get(url + f"/notices/{notice_id}", headers=owners["P"])
    assert read.status_code == 200 and read.json()["audience_label"] == "3号楼2单元业主"
    assert read.json()["audience"] == [] and read.json()["audience_entrances"] == entrance
    for name in "UX":
        assert client.get(url + f"/notices/{notice_id}", headers=owners[name]).status_code == 404
    listed_u = {b["id"] for b in client.get(url + "/ballots", headers=owners["U"]).json()}
    assert listed_u == {ids["B1"], ids["B2"]}
    assert client.get(url + "/ballots", headers=owners["X"]).json() == []
    assert client.get(url + f"/ballots/{ids['E1']}", headers=owners["U"]).status_code == 404

    frozen_clock.current = START + timedelta(hours=1)
    committee = bearer(client, "wyE")
    totals = {}
    for key, bid in ids.items():
        r = client.post(url + f"/ballots/{bid}/open", headers=committee)
        assert r.status_code == 200, r.text
        totals[key] = (r.json()["total_area_hundredths"], r.json()["total_headcount"])
    assert totals == {"E1": (46000, 5), "B1": (85000, 8), "E2": (46000, 5), "B2": (85000, 8)}

    plan = {
        "E1": {"P": AG, "Q": AG, "R": AG, "S": AG},
        "B1": {"P": AG, "Q": AG, "R": AG, "S": AG},
        "E2": {"P": AG, "Q": AG, "S": AG, "T": AG, "R": OP},
        "B2": {"P": AG, "Q": AG, "S": AG, "T": AG, "U": AG, "V": AG, "W": AG, "R": OP},
    }
    heads = {name: owner_bearer(client, outbox, phones[name]) for name in "PQRSTUVWX"}
    for key, votes in plan.items():
        bid = ids[key]
        matter = client.get(url + f"/ballots/{bid}", headers=committee).json()["matters"][0]["id"]
        for name, choice in votes.items():
            detail = client.get(url + f"/ballots/{bid}", headers=heads[name]).json()
            assert detail["can_vote"] is True, (key, name)
            subject = detail["my_subjects"][0]
            if key.startswith("E") and name == "T":
                assert subject["label"] == "3号楼2单元301"  # its in-scope flat only
            r = client.post(url + f"/ballots/{bid}/votes", headers=heads[name],
                            json={"subject_id": subject["subject_id"], "choices": {str(matter): choice}})
            assert r.status_code == 201, (key, name, r.text)

    # An owner of 1单元 can neither see nor vote in the entrance's ballot.
    assert client.get(url + f"/ballots/{ids['E1']}", headers=heads["U"]).status_code == 404
    u_subject = client.get(url + f"/ballots/{ids['B1']}", headers=heads["U"]).json()["my_subjects"][0]["subject_id"]
    refused = client.post(url + f"/ballots/{ids['E1']}/votes", headers=heads["U"],
                          json={"subject_id": u_subject, "choices": {}})
    assert refused.status_code == 404

    # Progress over the entrance: 400.00 of 460.00 m², 4 of 5 subjects.
    progress = client.get(url + f"/ballots/{ids['E1']}/progress", headers=committee).json()
    assert (progress["voted_area_hundredths"], progress["voted_headcount"]) == (40000, 4)
    assert progress["quorum_area_met"] and progress["quorum_headcount_met"]

    frozen_clock.current = START + timedelta(days=7, hours=1)
    committee = bearer(client, "wyE")
    results = {}
    for key, bid in ids.items():
        r = client.post(url + f"/ballots/{bid}/close", headers=committee)
        assert r.status_code == 200, r.text
        results[key] = client.get(url + f"/ballots/{bid}/results", headers=committee).json()["matters"][0]

    e1r, b1r, e2r, b2r = (results[k] for k in ("E1", "B1", "E2", "B2"))
    assert e1r["passed"] is True
    assert (e1r["result"]["participating_area"], e1r["result"]["participating_headcount"]) == (40000, 4)
    assert b1r["passed"] is False
    assert set(b1r["result"]["reasons"]) == {"quorum_area", "quorum_headcount"}
    assert e2r["passed"] is False and e2r["result"]["reasons"] == ["approval_area"]
    assert (e2r["result"]["agree_area"], e2r["result"]["participating_area"]) == (34000, 46000)
    assert (e2r["result"]["agree_headcount"], e2r["result"]["participating_headcount"]) == (4, 5)
    assert b2r["passed"] is True
    assert (b2r["result"]["agree_area"], b2r["result"]["participating_area"]) == (73000, 85000)

    # The recount export carries the entrance's subjects only, T with its 60.00 m² there.
    export = client.get(url + f"/ballots/{ids['E2']}/tally-inputs", headers=committee).json()
    assert sorted(s["area_hundredths"] for s in export["subjects"]) == [6000, 8000, 10000, 10000, 12000]


def test_art279_affected_owners_by_entrance(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock, tmp_path: Path
) -> None:
    """Art. 279 (a flat turned into business premises) needs every affected owner's consent.

    Same compound, a whole-compound ballot with three Art. 279 matters: (1) affected = 3号楼2单元
    (P Q R S T), (2) affected = all of 3号楼 (P Q R S T U V W), (3) affected = 3号楼1单元 (U V W T).
    P Q R S T V W agree to all, U (1单元) opposes all: (1) passes — U is not affected; (2) and (3)
    fail — U is affected and did not consent.
    """
    compound = make_compound(db)
    assert compound.id is not None
    cid = compound.id
    phones = {name: f"1360000{i:04d}" for i, name in enumerate("PQRSTUVWX", start=1)}
    add_roster(db, compound, ROSTER, phones=phones)
    make_staff(db, username="wyF", roles={cid: [Role.COMMITTEE]})
    db.commit()
    b3 = db.execute(select(Building.id).where(Building.compound_id == cid, Building.name == "3号楼")).scalar_one()
    url = f"/api/v1/compounds/{cid}"
    committee = bearer(client, "wyF")
    body = _lift("3号楼2单元202改为商铺", buildings=[], entrances=[])
    body["matters"] = [
        {"title": "同意3号楼2单元202改为经营性用房（本单元）", "category": "art279",
         "affected_entrances": [{"building_id": b3, "entrance": "2"}]},
        {"title": "同意3号楼2单元202改为经营性用房（全楼）", "category": "art279", "affected_building_ids": [b3]},
        {"title": "同意3号楼1单元101改为经营性用房（本单元）", "category": "art279",
         "affected_entrances": [{"building_id": b3, "entrance": "1"}]},
    ]
    r = client.post(url + "/ballots", headers=committee, json=body)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert r.json()["matters"][0]["affected_entrances"] == [{"building_id": b3, "entrance": "2"}]
    assert client.post(url + f"/ballots/{bid}/notice", headers=committee, json={}).status_code == 200
    frozen_clock.current = START + timedelta(hours=1)
    committee = bearer(client, "wyF")
    opened = client.post(url + f"/ballots/{bid}/open", headers=committee)
    assert opened.status_code == 200, opened.text
    assert (opened.json()["total_area_hundredths"], opened.json()["total_headcount"]) == (95000, 9)
    m1, m2, m3 = (m["id"] for m in opened.json()["matters"])
    for name in "PQRSTUVW":
        headers = owner_bearer(client, outbox, phones[name])
        subject = client.get(url + f"/ballots/{bid}", headers=headers).json()["my_subjects"][0]["subject_id"]
        choice = OP if name == "U" else AG
        r = client.post(url + f"/ballots/{bid}/votes", headers=headers,
                        json={"subject_id": subject, "choices": {str(m): choice for m in (m1, m2, m3)}})
        assert r.status_code == 201, (name, r.text)
    frozen_clock.current = START + timedelta(days=7, hours=1)
    committee = bearer(client, "wyF")
    assert client.post(url + f"/ballots/{bid}/close", headers=committee).status_code == 200
    r1, r2, r3 = client.get(url + f"/ballots/{bid}/results", headers=committee).json()["matters"]
    assert r1["passed"] is True
    assert r2["passed"] is False
    assert r3["passed"] is False

    # The independent recount reads the entrances from the export and agrees.
    export = client.get(url + f"/ballots/{bid}/tally-inputs", headers=committee)
    path = tmp_path / "tally.json"
    path.write_bytes(export.content)
    assert voting_cli(["recount", str(path)]) == 0


def test_notice_to_one_entrance_reaches_its_subjects_only(
    client: TestClient, db: Session, outbox: MemorySender
) -> None:
    """A notice to 3号楼2单元: its audience is P Q R S T (T through its 2单元 flat); a paper
    delivery to U (1单元) is refused; 1单元 and 5号楼 owners do not see it; P's reading reaches it."""
    compound = make_compound(db)
    assert compound.id is not None
    cid = compound.id
    phones = {name: f"1350000{i:04d}" for i, name in enumerate("PQRSTUVWX", start=1)}
    add_roster(db, compound, ROSTER, phones=phones)
    make_staff(db, username="wyG", roles={cid: [Role.COMMITTEE]})
    db.commit()
    b3 = db.execute(select(Building.id).where(Building.compound_id == cid, Building.name == "3号楼")).scalar_one()
    url = f"/api/v1/compounds/{cid}"
    committee = bearer(client, "wyG")
    conflict = client.post(url + "/notices", headers=committee, json={
        "kind": "general", "title": "电梯施工", "body": "施工期间请注意安全。", "audience": "compound",
        "audience_entrances": [{"building_id": b3, "entrance": "2"}]})
    assert conflict.status_code == 422 and conflict.json()["error"] == "notice_audience_conflict"
    r = client.post(url + "/notices", headers=committee, json={
        "kind": "general", "title": "电梯施工", "body": "施工期间请注意安全。", "audience": [],
        "audience_entrances": [{"building_id": b3, "entrance": "2"}]})
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    assert r.json()["audience_label"] == "3号楼2单元业主"
    assert client.post(url + f"/notices/{nid}/publish", headers=committee).status_code == 200
    status = client.get(url + f"/notices/{nid}/delivery", headers=committee).json()
    assert status["subject_count"] == 5 and status["audience_entrances"] == [{"building_id": b3, "entrance": "2"}]
    labels = sorted(s["label"] for s in status["not_reached"])
    assert labels == sorted(["3号楼2单元101", "3号楼2单元102", "3号楼2单元201", "3号楼2单元202",
                             "3号楼1单元301、3号楼2单元301"])
    u_subject = next(s.subject_id for s in roster_service.subject_summaries(db, compound_id=cid).values()
                     if s.label == "3号楼1单元101")
    refused = client.post(url + f"/notices/{nid}/deliveries", headers=committee, json={"subject_id": u_subject})
    assert refused.status_code == 422 and refused.json()["error"] == "notice_subject_not_in_audience"
    for name in "UX":
        assert client.get(url + f"/notices/{nid}", headers=owner_bearer(client, outbox, phones[name])).status_code == 404
    p = owner_bearer(client, outbox, phones["P"])
    assert client.get(url + f"/notices/{nid}", headers=p).status_code == 200
    # Reading it online reaches P's subject.
    after = client.get(url + f"/notices/{nid}/delivery", headers=committee).json()
    assert after["online_read_count"] == 1
