"""Privacy (PIPL): crawl every response an owner, an observer and an anonymous caller can get
from the demo compound and look for personal data they have no need for.

The demo is seeded as `python -m app.demo` seeds it (app.demo.seed_demo: 300 units through the
real import, a published and an open ballot), then given what the demo lacks — a published
ledger quarter with vouchers and an audit report, and a major-matter procedure item past its
gate with a published notice — through the API, by the demo's own staff. Then, for each
principal, every GET route the access table (tests/security/access_helpers.py) allows them is
called with every id of the demo's rows (ballots, notices, files, ledger entries and periods,
imports, procedure items) and every export format; PDFs are read with pdftotext, XLSX cell by
cell. Asserted in everything they receive:

- no mainland mobile number (1[3-9] + 9 digits) other than the caller's own;
- no 18-digit ID number, no ID last-4 field, no owner's real name (taken from the roster);
- a unit's room number next to a choice only where the compound's rules publish the per-unit
  record (DOMAIN §3; app/voting/settings.py `publish_unit_record`), for owners. Both settings:
  the demo's ballots are seeded a second time after the committee adopts that rule, so one
  published ballot is decided under each; and the caller's own units in their vote check (查票).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app import calendar, demo
from app.voting import demo as voting_demo
from tests.factories import bearer, owner_bearer
from tests.security.access_helpers import (
    ANONYMOUS,
    OBSERVER,
    OWNER,
    PNG,
    allowed_in,
    app_routes,
    response_text,
)

PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
CHOICE_WORDS = ("agree", "oppose", "abstain", "同意", "反对", "弃权")
OWNER_PHONES = (demo.MULTI_UNIT_PHONE, demo.CO_OWNER_PHONE)
EXPORT_FORMATS = {"tally-inputs": ("json", "csv", "xlsx")}


def _table(name: str) -> Any:
    return SQLModel.metadata.tables[name]


def _seed(db: Session, client: TestClient) -> tuple[int, dict[int, bool]]:
    """The demo (its published ballot decided under the default rule: no per-unit record),
    then the demo's ballots seeded once more after the committee adopted the per-unit record,
    so that one compound holds a published ballot under each rule. Returns the compound and,
    for each published ballot, whether its rules publish the per-unit record."""
    info = demo.seed_demo(db)
    db.commit()
    assert info.created and info.compound_id
    cid = info.compound_id
    r = client.put(f"/api/v1/compounds/{cid}/voting/settings", json={"publish_unit_record": True},
                   headers=bearer(client, "committee", demo.DEMO_PASSWORD))
    assert r.status_code == 200, r.text
    users = _table("user_account")
    committee = db.execute(select(users.c.id).where(users.c.username == "committee")).scalar_one()
    voting_demo.seed_voting_demo(db, compound_id=cid, committee_user_id=committee)
    db.commit()
    ballots = _table("ballot")
    rules = {bid: bool(json.loads(settings).get("publish_unit_record"))
             for bid, settings in db.execute(select(ballots.c.id, ballots.c.settings_json).where(
                 ballots.c.compound_id == cid, ballots.c.published_at.is_not(None)))}
    db.rollback()
    assert sorted(rules.values()) == [False, True], rules
    return cid, rules


def _complete_demo(client: TestClient, cid: int) -> None:
    """What the demo lacks, done through the API by the demo's staff: a published ledger
    quarter (the last one that ended) and a procedure item linked to the published ballot."""
    url = f"/api/v1/compounds/{cid}"
    staff = {u: bearer(client, u, demo.DEMO_PASSWORD)
             for u in ("committee", "committee2", "clerk", "reviewer")}

    def ok(method: str, path: str, who: str, body: Any = None, status: int = 200) -> Any:
        r = client.request(method, url + path, headers=staff[who], json=body)
        assert r.status_code == status, (method, path, r.text[:300])
        return r.json()

    def upload(who: str, purpose: str, name: str, data: bytes) -> int:
        ctype = "image/png" if data.startswith(b"\x89PNG") else "application/pdf"
        r = client.post(url + "/files", headers=staff[who], data={"purpose": purpose},
                        files={"file": (name, io.BytesIO(data), ctype)})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    today = calendar.today()
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    last_quarter = (this_quarter - timedelta(days=1)).replace(day=1)
    last_quarter = last_quarter.replace(month=(last_quarter.month - 1) // 3 * 3 + 1)
    for category, amount in (("停车", "12,800.00"), ("广告", "3,600.00")):
        entry = ok("POST", "/ledger/entries", "clerk", {
            "direction": "income", "category": category,
            "entry_date": (last_quarter + timedelta(days=20)).isoformat(), "amount": amount,
            "cost": "1,280.00", "cost_note": "代收手续费", "counterparty": "阳光物业服务有限公司",
            "description": f"{category}收入",
            "voucher_file_ids": [upload("clerk", "voucher", "收据.png", PNG)],
            "cost_evidence_file_ids": [upload("clerk", "voucher", "成本凭证.png", PNG)]},
            status=201)
        ok("POST", f"/ledger/entries/{entry['id']}/approve", "committee")
    start = last_quarter.isoformat()
    ok("POST", f"/ledger/periods/{start}/close", "committee")
    report = upload("committee", "audit_report", "审计报告.pdf", b"%PDF-1.4\n% audit\n")
    ok("POST", f"/ledger/periods/{start}/audit-report", "committee", {"file_id": report})
    ok("POST", f"/ledger/periods/{start}/publish", "committee")

    ok("PUT", "/procedures/settings", "committee", {"template_key": "sanyi_yishen"})
    doc = upload("committee", "document", "续聘方案.pdf", b"%PDF-1.4\n% plan\n")
    item = ok("POST", "/procedures/items", "committee", {
        "title": "续聘阳光物业服务有限公司为本小区物业服务企业（三年）", "text": "续聘方案全文。",
        "matter_type": "property_manager", "category": "4", "proposer_body": "committee",
        "document_file_ids": [doc]}, status=201)
    minutes = upload("committee", "minutes", "联席会议纪要.pdf", b"%PDF-1.4\n% minutes\n")
    item = ok("POST", f"/procedures/items/{item['id']}/decisions", "committee", {
        "step_key": "consult", "action": "approve", "opinion": "同意提交审核",
        "meeting_date": today.isoformat(), "attendees": ["小区党支部", "业主委员会", "物业服务企业"],
        "file_ids": [minutes]}, status=201)
    item = ok("POST", f"/procedures/items/{item['id']}/decisions", "reviewer", {
        "step_key": "review", "action": "approve", "opinion": "同意提交业主大会表决"}, status=201)
    past = next(b for b in ok("GET", "/ballots", "committee") if b["status"] == "published")
    matter = ok("GET", f"/ballots/{past['id']}", "committee")["matters"][0]
    ok("POST", f"/procedures/items/{item['id']}/ballot-link", "committee",
       {"ballot_id": past["id"], "matter_id": matter["id"]})
    item = ok("POST", f"/procedures/items/{item['id']}/resolution", "committee")
    ok("POST", f"/procedures/items/{item['id']}/publications", "committee", {
        "step_key": item["current_step"]["key"], "title": "关于续聘物业服务企业的决议公开",
        "body": "业主大会已表决通过续聘，合同签订后公布。"}, status=201)

    # The annual satisfaction survey, answered by six flats (with comments), closed, published.
    survey = ok("POST", "/surveys", "committee", {
        "template_key": "property_satisfaction", "year": today.year,
        "opens_at": calendar.start_of_day(today).isoformat(),
        "closes_at": calendar.start_of_day(today + timedelta(days=7)).isoformat()}, status=201)
    ok("POST", f"/surveys/{survey['id']}/open", "committee")
    _answer_survey(cid, survey)
    ok("POST", f"/surveys/{survey['id']}/close", "committee")
    ok("POST", f"/surveys/{survey['id']}/publish", "committee")

    # The company serving the compound, a 负面清单 finding and the district's list for the last
    # ended quarter (published by the platform administrator, who supervises every compound), so
    # owners' credit page carries a place and a frozen basis.
    ok("POST", "/credit/company", "committee", {
        "name": "阳光物业服务有限公司", "credit_code": "91350100M000100Y43", "contract_starts_on": "2024-01-01"},
       status=201)
    admin = bearer(client, "admin", demo.DEMO_PASSWORD)
    r = client.post(url + "/credit/findings", headers=admin, json={
        "found_on": last_quarter.isoformat(), "text": "擅自占用消防通道停放车辆"})
    assert r.status_code == 201, r.text
    params = {"district": "朝阳区", "year": last_quarter.year, "quarter": (last_quarter.month - 1) // 3 + 1}
    r = client.get("/api/v1/credit/preview", headers=admin, params=params)
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/credit/lists", headers=admin, json={
        **params, "threshold_mode": "score", "red": 90, "black": 60, "digest": r.json()["digest"]})
    assert r.status_code == 201, r.text


def _answer_survey(cid: int, survey: dict[str, Any]) -> None:
    """Six demo flats answer through the service (sign-in codes are rate-limited)."""
    from app.db import new_session
    from app.surveys import service as surveys_service

    session = new_session(write=True)
    try:
        answered = 0
        for n in range(1, 40):
            phone = f"138{n:08d}"
            for subject in surveys_service.answering_subjects(session, compound_id=cid, phone=phone):
                surveys_service.submit_answer(
                    session, compound_id=cid, survey_id=survey["id"], phone=phone,
                    subject_id=subject.subject_id, comment="希望电梯维修更及时",
                    answers={q["id"]: 3 for q in survey["questions"]})
                answered += 1
            if answered >= 6:
                break
        session.commit()
    finally:
        session.close()


def _ids(db: Session, cid: int) -> dict[str, list[Any]]:
    """Every row id of the demo compound a GET route can name."""
    db.rollback()

    def ids(table: str, column: str = "id") -> list[Any]:
        t = _table(table)
        return list(db.execute(select(t.c[column]).where(t.c.compound_id == cid)
                               .order_by(t.c[column])).scalars())

    entries = ids("ledger_entry")
    voucher = _table("ledger_voucher")
    pairs = list(db.execute(select(voucher.c.entry_id, voucher.c.file_id)
                            .where(voucher.c.entry_id.in_(entries))))
    out = {
        "ballot_id": ids("ballot"), "notice_id": ids("notice"), "file_id": ids("stored_file"),
        "entry_id": entries, "entry_file": [tuple(p) for p in pairs],
        "start_date": [d.isoformat() for d in ids("ledger_period", "start_date")],
        "item_id": ids("agenda_item"), "import_id": ids("ledger_import"),
        "roster_import": ids("roster_import"), "survey_id": ids("survey"),
        "work_order_id": ids("work_order"), "unit_id": ids("unit"),
        # Appraisals are named by their year: the years on record, and this one (nothing published).
        "year": sorted(set(ids("appraisal", "year")) | {2026}),
        "finding_id": ids("credit_finding"),
        # District lists are platform-level rows: every one (the demo's compound is in each).
        "list_id": list(db.execute(select(_table("credit_list").c.id)).scalars()),
    }
    db.rollback()
    return out


def _urls(path: str, cid: int, ids: dict[str, list[Any]]) -> list[str]:
    """The route filled with every combination of the demo's ids (and every export format)."""
    path = path.replace("{compound_id}", str(cid))
    params = re.findall(r"\{([^}]+)\}", path)
    if params == ["entry_id", "file_id"]:
        combos = [dict(zip(params, pair, strict=True)) for pair in ids["entry_file"]]
    else:
        key = {"import_id": "roster_import" if "/roster/" in path else "import_id"}
        pools = [ids[key.get(p, p)] for p in params]
        combos = [dict(zip(params, values, strict=True)) for values in itertools.product(*pools)]
    urls = []
    for combo in combos:
        url = path
        for name, value in combo.items():
            url = url.replace("{" + name + "}", str(value))
        formats = next((f for suffix, f in EXPORT_FORMATS.items() if url.endswith(suffix)), None)
        urls += [f"{url}?format={f}" for f in formats] if formats else [url]
    return urls


class Scan:
    """What one principal received, and what in it they should not have."""

    def __init__(self, principal: str, own_phone: str, units: list[Any]) -> None:
        self.principal, self.own_phone = principal, own_phone
        self.people = {o.name: o for u in units for o in u.owners if o.kind == "个人"}
        self.own_names = {o.name for u in units for o in u.owners if o.phone == own_phone}
        self.own_labels = {u.label for u in units if any(o.phone == own_phone for o in u.owners)}
        self.labels = sorted({u.label for u in units} - self.own_labels, key=len, reverse=True)
        self.responses = 0
        self.bytes = 0
        self.statuses: dict[int, int] = {}
        self.findings: list[tuple[str, str]] = []
        self.unit_choice_pairs: list[tuple[str, str]] = []

    def add(self, url: str, r: Any, public_names: set[str]) -> None:
        self.responses += 1
        self.bytes += len(r.content)
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        text = response_text(r)
        for phone in set(PHONE.findall(text)) - {self.own_phone}:
            self.findings.append((url, f"phone {phone}"))
        for number in set(ID_NUMBER.findall(text)):
            self.findings.append((url, f"ID number {number}"))
        if "id_last4" in text or "id_number" in text or "id_hash" in text:
            self.findings.append((url, "ID data field"))
        for name, person in self.people.items():
            if name not in self.own_names and name not in public_names and name in text:
                self.findings.append((url, f"owner name {name}"))
            if person.id_number[:17] in text:
                self.findings.append((url, f"ID number of {name}"))
        if self.principal != OBSERVER:  # observers recount from the tally inputs (DOMAIN §6)
            self._unit_choices(url, r, text)

    def _unit_choices(self, url: str, r: Any, text: str) -> None:
        """A room number of someone else's unit next to a choice: in one JSON object, or on one
        line of an export."""
        def walk(node: Any) -> None:
            if isinstance(node, dict):
                values = [v for v in node.values() if isinstance(v, str)]
                has_choice = "choices" in node or "choice" in node or any(
                    v in CHOICE_WORDS for v in values)
                if has_choice:
                    for label in self.labels:
                        if any(label in v for v in values):
                            self.unit_choice_pairs.append((url, label))
                            break
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        if "json" in r.headers.get("content-type", ""):
            try:
                walk(r.json())
                return
            except ValueError:
                pass
        for line in text.splitlines():
            if any(w in line for w in CHOICE_WORDS):
                label = next((lb for lb in self.labels if lb in line), None)
                if label:
                    self.unit_choice_pairs.append((url, label))


def test_the_scanner_finds_what_it_looks_for() -> None:
    """The detectors themselves: a scan that could not find anything would prove nothing."""
    units = demo.demo_units()
    wang = next(o for u in units for o in u.owners if o.phone == demo.MULTI_UNIT_PHONE)
    other = next(o for u in units for o in u.owners if o.kind == "个人" and o.phone not in
                 OWNER_PHONES and o.name not in ("王建国", "李秀英", "张伟"))
    other_label = next(u.label for u in units if other in u.owners)
    own_label = next(u.label for u in units if wang in u.owners)
    scan = Scan(OWNER, wang.phone, units)
    clean = httpx.Response(200, json={"me": wang.phone, "name": wang.name,
                                      "rows": [{"label": own_label, "choices": {"1": "agree"}}]})
    scan.add("/clean", clean, set())
    assert scan.findings == [] and scan.unit_choice_pairs == []
    leaky = httpx.Response(200, json={"rows": [
        {"label": other_label, "choices": {"1": "agree"}},
        {"note": f"联系 {other.name}，电话{other.phone}，身份证 {other.id_number}", "id_last4": "1234"}]})
    scan.add("/leaky", leaky, set())
    found = {f for _, f in scan.findings}
    assert {f"phone {other.phone}", f"ID number {other.id_number}", "ID data field",
            f"owner name {other.name}"} <= found, found
    assert scan.unit_choice_pairs == [("/leaky", other_label)]
    csv_export = httpx.Response(200, content=f"{other_label},同意\n".encode(),
                                headers={"content-type": "text/csv"})
    scan.add("/export.csv", csv_export, set())
    assert scan.unit_choice_pairs[-1] == ("/export.csv", other_label)
    assert scan.responses == 3 and scan.bytes > 0


def _crawl(client: TestClient, db: Session, cid: int, principal: str, headers: dict[str, str],
           own_phone: str, public_names: set[str]) -> Scan:
    scan = Scan(principal, own_phone, demo.demo_units())
    ids = _ids(db, cid)
    for method, path in app_routes(client):
        if method != "GET":
            continue
        if principal != ANONYMOUS and not allowed_in((method, path), principal, own=True):
            continue  # refused: the access matrix proves it
        for url in _urls(path, cid, ids):
            r = client.get(url, headers=headers)
            assert r.status_code < 500, (url, r.text[:200])
            scan.add(url, r, public_names)
    return scan


def test_public_and_owner_responses_carry_no_personal_data(
    db: Session, client: TestClient, outbox,  # type: ignore[no-untyped-def]
) -> None:
    cid, rules = _seed(db, client)
    _complete_demo(client, cid)
    # Names that are public in another capacity (election candidates, staff display names).
    candidates = set(db.execute(select(_table("ballot_candidate").c.name)).scalars())
    db.rollback()
    public_names = candidates | {n for _, _, display, _ in demo.STAFF for n in display.split()}

    principals = [(f"{OWNER} {p}", owner_bearer(client, outbox, p), p) for p in OWNER_PHONES]
    principals += [(OBSERVER, bearer(client, "observer", demo.DEMO_PASSWORD), ""),
                   (ANONYMOUS, {}, "")]
    scans = []
    for label, headers, own_phone in principals:
        principal = label.split()[0]
        scan = _crawl(client, db, cid, principal, headers, own_phone, public_names)
        scans.append((label, scan))
        assert scan.findings == [], (label, scan.findings[:20])
        assert scan.statuses.get(200, 0) > (0 if principal == ANONYMOUS else 40), scan.statuses

    # Room numbers with choices reach owners only where the ballot's rules publish them.
    (on,) = [bid for bid, published in rules.items() if published]
    (off,) = [bid for bid, published in rules.items() if not published]
    for label, scan in scans:
        if label.startswith(OWNER):
            record = {u for u, _ in scan.unit_choice_pairs}
            assert record == {f"/api/v1/compounds/{cid}/ballots/{on}/unit-record"}, record
        else:
            assert scan.unit_choice_pairs == [] or label == OBSERVER
        if label == ANONYMOUS:
            assert set(scan.statuses) <= {200, 401}, scan.statuses
    for _, headers, _ in principals[:2]:
        r = client.get(f"/api/v1/compounds/{cid}/ballots/{on}/unit-record", headers=headers)
        rows = r.json()
        assert r.status_code == 200 and len(rows) > 200
        assert all(set(row) == {"label", "choices", "channel"} for row in rows)
        r = client.get(f"/api/v1/compounds/{cid}/ballots/{off}/unit-record", headers=headers)
        assert (r.status_code, r.json()["error"]) == (403, "unit_record_not_published")
    # An owner's own vote check (查票) names their own units.
    own = {u.label for u in demo.demo_units() if any(o.phone == OWNER_PHONES[0] for o in u.owners)}
    for bid in (on, off):
        mine = client.get(f"/api/v1/compounds/{cid}/ballots/{bid}/my-votes",
                          headers=principals[0][1])
        assert mine.status_code == 200 and own and all(lb in mine.text for lb in own), mine.text

    total = sum(s.responses for _, s in scans)
    size = sum(s.bytes for _, s in scans)
    print(f"\nprivacy scan: {total} responses, {size:,} bytes — " + "; ".join(
        f"{label}: {s.responses} responses, {s.bytes:,} bytes" for label, s in scans))
