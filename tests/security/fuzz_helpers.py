"""A seeded compound for fuzzing, fresh credentials, and the real ids that lead handlers deep.

The world has a closed ballot (one objection answered, one open), an open ballot with a pending proxy,
a pending paper ballot and an open conflict, a draft ballot, notices, a procedure item, ledger
entries with an import, a roster import preview and stored files; the clock stands in April 2026.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.models import Role, RoleGrant, UserAccount
from app.clock import FrozenClock
from app.db import new_session
from app.files.models import StoredFile
from app.ledger.models import LedgerEntry, LedgerImport, LedgerImportRow, LedgerPeriod
from app.models import load_all_models
from app.notices.models import Notice
from app.procedures.models import AgendaItem, AgendaObserver
from app.roster.models import RosterImport, VotingSubject
from app.roster.template import template_csv
from tests.factories import make_compound, make_staff
from tests.procedures.helpers import BALLOT_START, World, build_world

load_all_models()

FUZZER = "fuzzer"
FUZZER_ROLES = (Role.COMMITTEE,)
PDF = b"%PDF-1.4\n% fuzz\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LEDGER_CSV = (
    "日期,收支,类别,金额（元）,对方,摘要\n"
    "2026-02-10,收入,停车,\"1,200.00\",阳光物业服务有限公司,3月临时停车费\n"
    "2026-02-11,支出,审计费,300.00,某某会计师事务所,专项审计预付款\n"
).encode()


@dataclass
class FuzzWorld:
    """The seeded compound, the accounts the fuzzer acts as, and the clock it stands on."""

    world: World
    fuzzer_id: int
    owner_phone: str
    other_cid: int
    ballots: dict[str, int] = field(default_factory=dict)

    @property
    def cid(self) -> int:
        return self.world.cid


def _upload(w: World, who: str, purpose: str, data: bytes, name: str, ctype: str) -> int:
    r = w.client.post(w.url("/files"), headers=w.h(who), data={"purpose": purpose},
                      files={"file": (name, io.BytesIO(data), ctype)})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _subject(w: World, ballot_id: int, who: str) -> int:
    detail = w.ok("GET", w.url(f"/ballots/{ballot_id}"), who)
    return int(detail["my_subjects"][0]["subject_id"])


def _ballot(w: World, start: datetime, days: int, title: str) -> dict[str, Any]:
    return w.ok("POST", w.url("/ballots"), "wy", {
        "title": title, "description": "请各位业主按时参加表决。",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(days=days)).isoformat(),
        "matters": [
            {"title": "利用小区东门空地设置快递柜并收取场地费", "category": "8"},
            {"title": "选举第二届业主委员会委员", "category": "3", "seats": 3,
             "candidates": [{"name": n} for n in ("王一", "李二", "张三", "赵四")]},
        ],
    })


def _choices(ballot: dict[str, Any], choice: str = "agree") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in ballot["matters"]:
        if m["category"] == "3":
            out[str(m["id"])] = {"approve": [c["id"] for c in m["candidates"][:3]]}
        else:
            out[str(m["id"])] = choice
    return out


def seed_world(db: Session, client: TestClient, clock: FrozenClock, outbox: Any) -> FuzzWorld:
    """Build the compound and walk its records into every state the routes act on."""
    w = build_world(db, client, clock, outbox)
    other = make_compound(db, name="邻近小区")
    fuzzer = make_staff(db, username=FUZZER, platform_admin=True,
                        roles={w.cid: list(FUZZER_ROLES)})
    db.commit()

    # Files of every purpose the routes refer to.
    doc = _upload(w, "wy", "document", PDF, "方案.pdf", "application/pdf")
    authorization = _upload(w, "wy", "proxy_authorization", PDF, "委托书.pdf", "application/pdf")
    scan = _upload(w, "wy", "paper_ballot", PNG, "纸质票.png", "image/png")
    _upload(w, "wuye", "voucher", PNG, "凭证.png", "image/png")

    # Notices: a draft and a published one.
    w.ok("POST", w.url("/notices"), "wy", {"kind": "general", "title": "草稿", "body": "草稿正文"})
    published = w.ok("POST", w.url("/notices"), "wy", {
        "kind": "general", "title": "关于清理楼道杂物的通知", "body": "请于本周内清理。",
        "attachment_file_ids": [doc]})
    w.ok("POST", w.url(f"/notices/{published['id']}/publish"), "wy")

    # Ledger: a booked entry, a pending one, and an import of two draft rows.
    entry = w.ok("POST", w.url("/ledger/entries"), "wuye", {
        "direction": "income", "category": "停车", "entry_date": "2026-03-01",
        "amount": "1,000.00", "counterparty": "阳光物业服务有限公司", "description": "临时停车费",
        "voucher_file_ids": [_upload(w, "wuye", "voucher", PNG + b"1", "v1.png", "image/png")]})
    w.ok("POST", w.url(f"/ledger/entries/{entry['id']}/approve"), "wy")
    w.ok("POST", w.url("/ledger/entries"), "wuye", {
        "direction": "expense", "category": "审计费", "entry_date": "2026-03-02",
        "amount": "200.00", "counterparty": "某某会计师事务所", "description": "审计费",
        "voucher_file_ids": [_upload(w, "wuye", "voucher", PNG + b"2", "v2.png", "image/png")]})
    r = client.post(w.url("/ledger/imports"), headers=w.h("wuye"),
                    files={"file": ("流水.csv", io.BytesIO(LEDGER_CSV), "text/csv")})
    assert r.status_code == 201, r.text

    # A roster import previewed but not applied.
    r = client.post(w.url("/roster/imports"), headers=w.h("wy"),
                    files={"file": ("名册.csv", io.BytesIO(template_csv()), "text/csv")})
    assert r.status_code == 201, r.text

    # Ballots: P runs to its published result; O stays open with pending records.
    p = _ballot(w, BALLOT_START, 7, "2026年第一次业主大会")
    o = _ballot(w, BALLOT_START, 40, "2026年第二次业主大会")
    for b in (p, o):
        w.ok("POST", w.url(f"/ballots/{b['id']}/notice"), "wy", {})
    clock.current = BALLOT_START + timedelta(hours=1)
    p = w.ok("POST", w.url(f"/ballots/{p['id']}/open"), "wy")
    o = w.ok("POST", w.url(f"/ballots/{o['id']}/open"), "wy")
    for name in "ABCDEFG":
        w.ok("POST", w.url(f"/ballots/{p['id']}/votes"), name,
             {"subject_id": _subject(w, p["id"], name), "choices": _choices(p)}, status=201)
    # O: A votes online, then a paper ballot for A is confirmed: a conflict for the committee.
    a_subject = _subject(w, o["id"], "A")
    w.ok("POST", w.url(f"/ballots/{o['id']}/votes"), "A",
         {"subject_id": a_subject, "choices": _choices(o)}, status=201)
    paper = w.ok("POST", w.url(f"/ballots/{o['id']}/paper"), "wy",
                 {"subject_id": a_subject, "choices": _choices(o, "oppose"), "scan_file_id": scan})
    r = client.post(w.url(f"/ballots/{o['id']}/paper/{paper['id']}/confirm"), headers=w.h("wy2"))
    assert r.status_code == 409, r.text
    w.ok("POST", w.url(f"/ballots/{o['id']}/paper"), "wy",
         {"subject_id": _subject(w, o["id"], "C"), "choices": _choices(o), "scan_file_id": scan})
    w.ok("POST", w.url(f"/ballots/{o['id']}/proxies"), "wy", {
        "subject_id": _subject(w, o["id"], "B"), "proxy_name": "钱七", "proxy_phone": "13600000001",
        "document_file_id": authorization})
    clock.current = BALLOT_START + timedelta(days=7, hours=1)
    closed = w.ok("POST", w.url(f"/ballots/{p['id']}/close"), "wy")
    objection = w.ok("POST", w.url(f"/ballots/{p['id']}/objections"), "A", {
        "subject_id": _subject(w, p["id"], "A"), "text": "我的投票记录有误，请核实。"})
    w.ok("POST", w.url(f"/ballots/{p['id']}/objections/{objection['id']}/answer"), "wy",
         {"answer": "已核实，记录无误。"})
    w.ok("POST", w.url(f"/ballots/{p['id']}/objections"), "B", {
        "subject_id": _subject(w, p["id"], "B"), "text": "请公布计票明细。"})
    clock.current = datetime.fromisoformat(closed["objection_ends_at"]) + timedelta(days=5)
    # Adopted last (adoption gates major matters at notice and opening): an item in progress, with an observer appointed to it.
    w.adopt()
    item = w.propose()
    w.ok("POST", w.p(f"/items/{item['id']}/observers"), "shenhe",
         {"username": "gcy", "organization": "区人大代表"}, status=201)

    draft = _ballot(w, clock.current + timedelta(days=30), 7, "2026年第三次业主大会")
    db.expire_all()
    return FuzzWorld(world=w, fuzzer_id=fuzzer.id or 0, owner_phone=w.phones["A"],
                     other_cid=other.id or 0,
                     ballots={"closed": p["id"], "open": o["id"], "draft": draft["id"]})


def ensure_fuzzer_grants(fw: FuzzWorld) -> None:
    """Give the fuzzing account back any grant a fuzzed request revoked."""
    with new_session(write=True) as session:
        active = set(session.execute(
            select(RoleGrant.role).where(RoleGrant.user_id == fw.fuzzer_id,
                                         RoleGrant.compound_id == fw.cid,
                                         RoleGrant.revoked_at.is_(None))
        ).scalars())
        missing = [r for r in FUZZER_ROLES if r not in active]
        account = session.get(UserAccount, fw.fuzzer_id)
        assert account is not None
        if not missing and account.is_active and account.is_platform_admin:
            return
        for role in missing:
            session.add(RoleGrant(compound_id=fw.cid, user_id=fw.fuzzer_id, role=role))
        account.is_active = True
        account.is_platform_admin = True
        session.add(account)
        session.commit()


def bearer_for(*, username: str | None = None, phone: str | None = None) -> dict[str, str]:
    """A fresh access token minted for the account as it is now (logouts revoke older ones)."""
    with new_session(write=False) as session:
        stmt = select(UserAccount)
        stmt = stmt.where(UserAccount.username == username) if username else stmt.where(
            UserAccount.phone == phone)
        account = session.execute(stmt).scalars().first()
        assert account is not None, (username, phone)
        issued = auth_service.issue_session(account, method="pwd")
    return {"Authorization": f"Bearer {issued.access_token}"}


def real_ids(cid: int) -> dict[str, list[str]]:
    """Ids of this compound's records, keyed by the path segment that names them."""
    with new_session(write=False) as session:
        def ids(model: Any, column: Any = None, *where: Any) -> list[str]:
            col = column if column is not None else model.id
            rows = session.execute(select(col).where(model.compound_id == cid, *where)).scalars()
            return [v.isoformat() if isinstance(v, date) else str(v) for v in rows]

        from app.voting import models as vm

        found = {
            "compounds": [str(cid)],
            "ballots": ids(vm.Ballot),
            "notices": ids(Notice),
            "files": ids(StoredFile),
            "roster/imports": ids(RosterImport),
            "ledger/imports": ids(LedgerImport),
            "rows": ids(LedgerImportRow),
            "ledger/entries": ids(LedgerEntry),
            "paper": ids(vm.PaperEntry),
            "proxies": ids(vm.ProxyAuthorization),
            "conflicts": ids(vm.VoteConflict),
            "objections": ids(vm.BallotObjection),
            "items": ids(AgendaItem),
            "grants": ids(RoleGrant),
            "observers": ids(RoleGrant) + ids(AgendaObserver),
            "subjects": ids(VotingSubject),
            "periods": ids(LedgerPeriod, LedgerPeriod.start_date),
        }
    found["periods"] = found["periods"] or [date(2026, 1, 1).isoformat()]
    return {k: v for k, v in found.items() if v}


def ids_for_path(path: str, found: dict[str, list[str]]) -> dict[str, list[str]]:
    """For each path parameter of an operation, the real ids that fit it."""
    parts = path.strip("/").split("/")
    out: dict[str, list[str]] = {}
    for i, part in enumerate(parts):
        if not (part.startswith("{") and part.endswith("}")) or i == 0:
            continue
        name = part[1:-1]
        before = parts[i - 1]
        two = "/".join(parts[i - 2:i]) if i >= 2 else before
        candidates = found.get(two) or found.get(before)
        if candidates:
            out[name] = candidates
    return out
