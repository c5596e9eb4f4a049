"""A compound with every role, a frozen clock, and helpers that walk an item through its steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role, RoleGrant
from app.clock import FrozenClock, now
from app.roster.models import Compound
from tests.factories import add_roster, bearer, make_compound, make_staff, owner_bearer
from tests.voting.helpers import ROSTER

# The ballot of a test starts on 17 March 00:00 in Shanghai, 15 days after the frozen "today".
BALLOT_START = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)
STAFF = {
    "wy": (Role.COMMITTEE, "幸福家园业主委员会", "陈立新"),
    "wy2": (Role.COMMITTEE, "幸福家园业主委员会", "刘芳"),
    "wuye": (Role.CLERK, "安居物业服务有限公司", "黄丽"),
    "shenhe": (Role.REVIEWER, "幸福社区党委", "郑红"),
    "gcy": (Role.OBSERVER, "区人大代表", "马建军"),
}


@dataclass
class World:
    client: TestClient
    clock: FrozenClock
    outbox: Any
    compound: Compound
    phones: dict[str, str]
    _tokens: dict[tuple[str, datetime], dict[str, str]] = field(default_factory=dict)

    @property
    def cid(self) -> int:
        assert self.compound.id is not None
        return self.compound.id

    def url(self, path: str = "") -> str:
        return f"/api/v1/compounds/{self.cid}{path}"

    def p(self, path: str = "") -> str:
        return self.url("/procedures" + path)

    def h(self, who: str) -> dict[str, str]:
        """Bearer headers for a staff username or an owner letter (A–J), fresh after time travel."""
        key = (who, now())
        if key not in self._tokens:
            if who in self.phones:
                self._tokens[key] = owner_bearer(self.client, self.outbox, self.phones[who])
            else:
                self._tokens[key] = bearer(self.client, who)
        return self._tokens[key]

    # -- calls that must succeed --

    def ok(self, method: str, path: str, who: str, json: Any = None, status: int | None = None) -> Any:
        r = self.client.request(method, path, headers=self.h(who), json=json)
        expected = status or (201 if method == "POST" and r.status_code == 201 else 200)
        assert r.status_code == expected, (method, path, who, r.status_code, r.text)
        return r.json()

    def adopt(self, template_key: str = "sanyi_yishen", who: str = "wy") -> dict:
        return self.ok("PUT", self.p("/settings"), who, {"template_key": template_key})

    def upload(self, who: str, name: str = "方案.pdf", purpose: str = "document") -> int:
        r = self.client.post(self.url("/files"), headers=self.h(who),
                             files={"file": (name, b"%PDF-1.4 test " + name.encode(), "application/pdf")},
                             data={"purpose": purpose})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def propose(self, who: str = "wy", *, title: str = "利用小区东门空地设置快递柜并收取场地费",
                matter_type: str = "common_parts", category: str | None = "8",
                body: str = "committee") -> dict:
        doc = self.upload(who)
        return self.ok("POST", self.p("/items"), who, {
            "title": title, "text": "方案全文：在东门空地设置快递柜两组，场地费计入公共收益。",
            "matter_type": matter_type, "category": category, "proposer_body": body,
            "document_file_ids": [doc],
        })

    def decide(self, item: dict, who: str, action: str = "approve", opinion: str = "同意",
               status: int = 201) -> dict:
        step = item["current_step"]
        payload: dict[str, Any] = {"step_key": step["key"], "action": action, "opinion": opinion}
        if step["kind"] == "meeting":
            payload |= {"meeting_date": "2026-03-05", "file_ids": [self.upload(who, "会议纪要.pdf", "minutes")],
                        "attendees": ["小区党支部", "业主委员会", "物业服务企业", "业主代表"]}
        r = self.client.post(self.p(f"/items/{item['id']}/decisions"), headers=self.h(who), json=payload)
        assert r.status_code == status, r.text
        return r.json()

    def publish(self, item: dict, who: str = "wy") -> dict:
        step = item["current_step"]
        return self.ok("POST", self.p(f"/items/{item['id']}/publications"), who, {
            "step_key": step["key"], "title": f"关于{item['title']}的{step['name']}",
            "body": f"{step['name']}：详见附件。"})

    def actor_for(self, item: dict) -> str:
        """A username that may act on the item's current step."""
        roles = item["steps"][item["current_step"]["index"]]["roles"]
        for username, (role, _, _) in STAFF.items():
            if role.value in roles:
                return username
        assert "platform_admin" in roles
        return "admin"

    # -- the owners' ballot --

    def ballot(self, matters: list[dict] | None = None, start: datetime = BALLOT_START) -> dict:
        return self.ok("POST", self.url("/ballots"), "wy", {
            "title": "2026年第一次业主大会", "description": "请各位业主按时参加表决。",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(days=7)).isoformat(),
            "matters": matters or [{"title": "利用小区东门空地设置快递柜并收取场地费", "category": "8"}],
        })

    def run_ballot(self, ballot: dict, votes: dict[str, str]) -> dict:
        """Notice today, open in 15 days, vote, close, wait out the objection window, publish."""
        bid = ballot["id"]
        self.ok("POST", self.url(f"/ballots/{bid}/notice"), "wy", {})
        self.clock.current = BALLOT_START + timedelta(hours=1)
        opened = self.ok("POST", self.url(f"/ballots/{bid}/open"), "wy")
        for name, choice in votes.items():
            detail = self.ok("GET", self.url(f"/ballots/{bid}"), name)
            subject = detail["my_subjects"][0]["subject_id"]
            choices = {str(m["id"]): choice for m in opened["matters"]}
            self.ok("POST", self.url(f"/ballots/{bid}/votes"), name,
                    {"subject_id": subject, "choices": choices}, status=201)
        self.clock.current = BALLOT_START + timedelta(days=7, hours=1)
        closed = self.ok("POST", self.url(f"/ballots/{bid}/close"), "wy")
        self.clock.current = datetime.fromisoformat(closed["objection_ends_at"]) + timedelta(hours=1)
        return self.ok("POST", self.url(f"/ballots/{bid}/publish"), "wy")


ALL_AGREE = {n: "agree" for n in "ABCDEFGI"}  # 8 of 10 subjects, everyone in favour
ALL_OPPOSE = {n: "oppose" for n in "ABCDEFGI"}


def build_world(db: Session, client: TestClient, clock: FrozenClock, outbox: Any) -> World:
    compound = make_compound(db)
    phones = {name: f"1390000{i:04d}" for i, name in enumerate("ABCDEFGHIJ", start=1)}
    add_roster(db, compound, ROSTER, phones=phones)
    for i, (username, (role, org, name)) in enumerate(STAFF.items(), start=1):
        account = make_staff(db, username=username, phone=f"137000000{i:02d}")  # staff phones stay private
        account.display_name = name
        db.add(account)
        db.add(RoleGrant(compound_id=compound.id, user_id=account.id, role=role, organization=org))
    make_staff(db, username="admin", platform_admin=True)
    db.commit()
    return World(client=client, clock=clock, outbox=outbox, compound=compound, phones=phones)


def walk_to_ballot(world: World, item: dict) -> dict:
    """Approve every step up to the resolution."""
    while item["current_step"]["kind"] != "ballot":
        item = world.decide(item, world.actor_for(item))
    return item


def finish(world: World, item: dict) -> dict:
    """After the resolution: approve or publish each remaining step until the item closes."""
    while item["status"] == "in_progress":
        kind = item["current_step"]["kind"]
        who = world.actor_for(item)
        item = world.publish(item, who) if kind == "notice" else world.decide(item, who)
    return item
