"""A compound walked through the five lifecycle states, with a file of every purpose attached to
the object that holds it, and the people of the file-policy matrix.

Used by tests/security/test_file_policy_matrix.py and the issue-11 regression tests. Files
attached by the staff are uploaded by a second committee member (wy2) who is not one of the
matrix's principals, so that no cell passes merely because its principal uploaded the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from app.clock import FrozenClock
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

# The matrix's principals.
OWNER = "owner"  # owner of the object: files the proxy, their flat's paper ballot and delivery
OTHER_OWNER = "other_owner"  # another owner of the compound
PROXY = "proxy"  # the holder of the owner's accepted proxy (not an owner)
COMMITTEE = "committee"
REVIEWER = "reviewer"
OBSERVER = "observer"
CLERK = "clerk"
ADMIN = "admin"  # platform admin (街道)
OTHER_COMPOUND = "other_compound"  # the committee of another compound
PRINCIPALS = (OWNER, OTHER_OWNER, PROXY, COMMITTEE, REVIEWER, OBSERVER, CLERK, ADMIN,
              OTHER_COMPOUND)
STATES = ("draft", "noticed", "open", "closed", "published")

PHONES = {"甲": "13911110001", "乙": "13911110002", "丙": "13911110003"}
PROXY_PHONE = "13722220009"
ROSTER = [UnitSpec("1栋", "101", 10000, ["甲"]), UnitSpec("1栋", "102", 10000, ["乙"]),
          UnitSpec("2栋", "101", 10000, ["丙"])]
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
BALLOT_START = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # 17 March 00:00 in Shanghai
Q1 = "2026-01-01"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name: str) -> bytes:
    return b"%PDF-1.4\n% " + name.encode() + b"\n"


@dataclass
class FileWorld:
    client: TestClient
    clock: FrozenClock
    outbox: Any
    cid: int = 0
    other_cid: int = 0
    subjects: dict[str, int] = field(default_factory=dict)
    # (purpose, host) -> file id, once the host holds it
    files: dict[tuple[str, str], int] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    state: str = ""
    _headers: dict[tuple[str, datetime], dict[str, str]] = field(default_factory=dict)

    def url(self, path: str = "") -> str:
        return f"/api/v1/compounds/{self.cid}{path}"

    def h(self, who: str) -> dict[str, str]:
        key = (who, self.clock.current)
        if key not in self._headers:
            phone = {OWNER: PHONES["甲"], OTHER_OWNER: PHONES["乙"], PROXY: PROXY_PHONE}.get(who)
            if who == PROXY and not self.ids.get("proxy_accepted"):
                return {}  # no account yet: nobody sends a code to a phone the app does not know
            if phone is not None:
                self._headers[key] = owner_bearer(self.client, self.outbox, phone)
            else:
                self._headers[key] = bearer(self.client, {
                    COMMITTEE: "fw_wy", "wy2": "fw_wy2", REVIEWER: "fw_sh", OBSERVER: "fw_gc",
                    CLERK: "fw_wg", ADMIN: "fw_admin", OTHER_COMPOUND: "fw_other_wy"}[who])
        return self._headers[key]

    def ok(self, method: str, path: str, who: str, json: Any = None, status: int = 200) -> Any:
        r = self.client.request(method, self.url(path), headers=self.h(who), json=json)
        assert r.status_code == status, (method, path, who, r.status_code, r.text[:300])
        return r.json()

    def upload(self, who: str, purpose: str, name: str) -> int:
        data, ctype = (PNG + name.encode(), "image/png") if name.endswith(".png") else (pdf(name), "application/pdf")
        r = self.client.post(self.url("/files"), headers=self.h(who), data={"purpose": purpose},
                             files={"file": (name, io.BytesIO(data), ctype)})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def get_file(self, file_id: int, who: str) -> int:
        return self.client.get(self.url(f"/files/{file_id}"), headers=self.h(who)).status_code

    # --- the walk ------------------------------------------------------------------------------

    def advance(self, to: str) -> None:
        """Walk on to the state `to` (each step in order; a state is reached once)."""
        for state in STATES[STATES.index(self.state) + 1 if self.state else 0:STATES.index(to) + 1]:
            getattr(self, f"_{state}")()
            self.state = state

    def _draft(self) -> None:
        """2 March: a draft ballot with its document, a draft notice with its attachment, an
        agenda item before review with its proposal and minutes, an approved voucher in an open
        quarter, an imported bank file, and one unattached file of every purpose (the owner's)."""
        from app.files.service import PURPOSES

        for purpose in sorted(PURPOSES):
            self.files[(purpose, "unattached")] = self.upload(OWNER, purpose, f"自己的{purpose}.pdf")
        self.ok("PUT", "/procedures/settings", COMMITTEE, {"template_key": "sanyi_yishen"})
        doc = self.upload("wy2", "document", "方案.pdf")
        item = self.ok("POST", "/procedures/items", COMMITTEE, {
            "title": "利用小区东门空地设置快递柜并收取场地费", "text": "方案全文。",
            "matter_type": "common_parts", "category": "8", "proposer_body": "committee",
            "document_file_ids": [doc]}, status=201)
        self.files[("document", "agenda_version")] = doc
        minutes = self.upload("wy2", "minutes", "会议纪要.pdf")
        step = item["current_step"]
        assert step["kind"] == "meeting", step
        item = self.ok("POST", f"/procedures/items/{item['id']}/decisions", COMMITTEE, {
            "step_key": step["key"], "action": "approve", "opinion": "同意",
            "meeting_date": "2026-03-02", "attendees": ["小区党支部", "业主委员会"],
            "file_ids": [minutes]}, status=201)
        self.files[("minutes", "agenda_step")] = minutes
        self.ids["item"] = item["id"]

        matter_doc = self.upload("wy2", "document", "表决事项说明.pdf")
        ballot = self.ok("POST", "/ballots", COMMITTEE, {
            "title": "2026年第一次业主大会", "description": "请各位业主按时参加表决。",
            "starts_at": BALLOT_START.isoformat(),
            "ends_at": (BALLOT_START + timedelta(days=7)).isoformat(),
            "matters": [{"title": "利用小区东门空地设置快递柜并收取场地费", "category": "8",
                         "document_file_ids": [matter_doc]}]}, status=201)
        self.files[("document", "ballot_matter")] = matter_doc
        self.ids["ballot"] = ballot["id"]
        self.ids["matter"] = ballot["matters"][0]["id"]

        attachment = self.upload("wy2", "attachment", "通知附件.pdf")
        notice = self.ok("POST", "/notices", COMMITTEE, {
            "kind": "general", "title": "关于东门改造的通知", "body": "详见附件。",
            "attachment_file_ids": [attachment]}, status=201)
        self.files[("attachment", "notice")] = attachment
        self.ids["notice"] = notice["id"]

        voucher = self.upload("wy2", "voucher", "停车费收据.pdf")
        entry = self.ok("POST", "/ledger/entries", "wy2", {
            "direction": "income", "category": "停车", "entry_date": "2026-03-01",
            "amount": "1,000.00", "counterparty": "阳光物业服务有限公司", "description": "临时停车费",
            "voucher_file_ids": [voucher]}, status=201)
        self.ok("POST", f"/ledger/entries/{entry['id']}/approve", COMMITTEE)
        self.files[("voucher", "ledger_entry")] = voucher
        csv_text = "日期,收支,类别,金额（元）,对方,摘要\n2026-03-01,收入,广告,300.00,某某传媒有限公司,电梯广告\n"
        r = self.client.post(self.url("/ledger/imports"), headers=self.h("wy2"),
                             files={"file": ("导入.csv", io.BytesIO(csv_text.encode()), "text/csv")})
        assert r.status_code == 201, r.text
        self.files[("voucher", "ledger_import")] = r.json()["file_id"]
        self.ok("POST", f"/ledger/imports/{r.json()['id']}/rows/{r.json()['rows'][0]['id']}/discard",
                COMMITTEE, {"reason": "重复导入"})

    def _noticed(self) -> None:
        """Same day, later: the item passes review and is linked; the ballot and the notice are
        published; the notice is posted and delivered on paper; the owner's proxy is accepted."""
        self.clock.current = T0 + timedelta(hours=2)
        item = self.ok("GET", f"/procedures/items/{self.ids['item']}", COMMITTEE)
        step = item["current_step"]
        self.ok("POST", f"/procedures/items/{self.ids['item']}/decisions", REVIEWER, {
            "step_key": step["key"], "action": "approve", "opinion": "同意提交业主大会表决"},
            status=201)
        self.ok("POST", f"/procedures/items/{self.ids['item']}/ballot-link", COMMITTEE,
                {"ballot_id": self.ids["ballot"], "matter_id": self.ids["matter"]})
        self.ok("POST", f"/ballots/{self.ids['ballot']}/notice", COMMITTEE, {})
        self.ok("POST", f"/notices/{self.ids['notice']}/publish", COMMITTEE)
        photo = self.upload("wy2", "board_photo", "公告栏照片.png")
        self.ok("POST", f"/notices/{self.ids['notice']}/postings", COMMITTEE, {
            "posted_on": "2026-03-02", "location": "1栋大堂公告栏", "photo_file_id": photo},
            status=201)
        self.files[("board_photo", "posting")] = photo
        receipt = self.upload("wy2", "delivery_evidence", "签收单.pdf")
        self.ok("POST", f"/notices/{self.ids['notice']}/deliveries", COMMITTEE, {
            "subject_id": self.subjects["甲"], "evidence_file_id": receipt}, status=201)
        self.files[("delivery_evidence", "delivery")] = receipt
        authorization = self.upload(OWNER, "proxy_authorization", "委托书.pdf")
        proxy = self.ok("POST", f"/ballots/{self.ids['ballot']}/proxies", OWNER, {
            "subject_id": self.subjects["甲"], "proxy_name": "钱多多", "proxy_phone": PROXY_PHONE,
            "document_file_id": authorization}, status=201)
        self.ok("POST", f"/ballots/{self.ids['ballot']}/proxies/{proxy['id']}/accept", COMMITTEE)
        self.files[("proxy_authorization", "proxy")] = authorization
        self.ids["proxy_accepted"] = True

    def _open(self) -> None:
        """17 March: the ballot opens; the owner's paper ballot is entered and confirmed."""
        self.clock.current = BALLOT_START + timedelta(hours=1)
        bid = self.ids["ballot"]
        self.ok("POST", f"/ballots/{bid}/open", COMMITTEE)
        scan = self.upload("wy2", "paper_ballot", "表决票扫描件.pdf")
        entry = self.ok("POST", f"/ballots/{bid}/paper", "wy2", {
            "subject_id": self.subjects["甲"], "choices": {str(self.ids["matter"]): "agree"},
            "scan_file_id": scan}, status=201)
        self.ok("POST", f"/ballots/{bid}/paper/{entry['id']}/confirm", COMMITTEE)
        self.files[("paper_ballot", "paper_entry")] = scan
        self.ok("POST", f"/ballots/{bid}/votes", OTHER_OWNER, {
            "subject_id": self.subjects["乙"], "choices": {str(self.ids["matter"]): "agree"}},
            status=201)

    def _closed(self) -> None:
        """2 April: the ballot is closed; the first quarter is closed with its audit report."""
        self.clock.current = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
        closed = self.ok("POST", f"/ballots/{self.ids['ballot']}/close", COMMITTEE)
        self.ids["objection_ends_at"] = closed["objection_ends_at"]
        self.ok("POST", f"/ledger/periods/{Q1}/close", COMMITTEE)
        report = self.upload("wy2", "audit_report", "审计报告.pdf")
        self.ok("POST", f"/ledger/periods/{Q1}/audit-report", COMMITTEE, {"file_id": report})
        self.files[("audit_report", "ledger_period")] = report

    def _published(self) -> None:
        """After the objection window: the result and the quarter's statement are published."""
        self.clock.current = datetime.fromisoformat(self.ids["objection_ends_at"]) + timedelta(hours=1)
        self.ok("POST", f"/ballots/{self.ids['ballot']}/publish", COMMITTEE)
        self.ok("POST", f"/ledger/periods/{Q1}/publish", COMMITTEE)


def build_file_world(db: Session, client: TestClient, clock: FrozenClock, outbox: Any) -> FileWorld:
    """The compound, its people and the other compound; the walk starts with advance()."""
    clock.current = T0
    db.rollback()
    compound = make_compound(db)
    other = make_compound(db, name="阳光花园", community="阳光社区")
    assert compound.id is not None and other.id is not None
    add_roster(db, compound, ROSTER, phones=PHONES)
    for username, roles in (("fw_wy", [Role.COMMITTEE]), ("fw_wy2", [Role.COMMITTEE]),
                            ("fw_sh", [Role.REVIEWER]), ("fw_gc", [Role.OBSERVER]),
                            ("fw_wg", [Role.CLERK])):
        make_staff(db, username=username, roles={compound.id: roles})
    make_staff(db, username="fw_other_wy", roles={other.id: [Role.COMMITTEE]})
    make_staff(db, username="fw_admin", platform_admin=True)
    db.commit()
    w = FileWorld(client=client, clock=clock, outbox=outbox, cid=compound.id, other_cid=other.id)
    for s in w.ok("GET", "/subjects?limit=50", COMMITTEE)["items"]:
        for name, phone in PHONES.items():
            if any(o.get("phone_masked") == phone[:3] + "****" + phone[-4:] for o in s.get("owners", [])):
                w.subjects[name] = s["id"]
    assert set(w.subjects) == set(PHONES), w.subjects
    return w
