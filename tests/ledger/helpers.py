"""A compound with a clerk, two committee members, an observer and owners; ledger shortcuts.

The ballot compound of tests/voting/helpers.py, plus the property company's clerk (wg1).
Time starts on 2 March 2026 (first quarter), as the `frozen_clock` fixture sets it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import Role
from app.clock import FrozenClock
from tests.factories import bearer, make_staff, owner_bearer
from tests.voting.helpers import World, ballot_body, build_world, open_ballot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% audit report\n"
Q1 = "2026-01-01"
Q2 = "2026-04-01"


@dataclass
class LedgerWorld:
    world: World
    clerk: dict[str, str]
    client: TestClient
    cid: int

    @property
    def committee(self) -> dict[str, str]:
        return self.world.committee

    @property
    def committee2(self) -> dict[str, str]:
        return self.world.committee2

    @property
    def observer(self) -> dict[str, str]:
        return self.world.observer

    def url(self, path: str = "") -> str:
        return f"/api/v1/compounds/{self.cid}{path}"

    def refresh(self) -> None:
        self.world.refresh(self.client)
        self.clerk = bearer(self.client, "wg1")

    def travel(self, clock: FrozenClock, **delta: float) -> None:
        clock.advance(**delta)
        self.refresh()

    def travel_to(self, clock: FrozenClock, when: datetime) -> None:
        clock.current = when
        self.refresh()

    def owner(self, outbox: Any, name: str = "A") -> dict[str, str]:
        return owner_bearer(self.client, outbox, self.world.phones[name])

    def upload(self, headers: dict[str, str], purpose: str = "voucher", data: bytes = PNG,
               name: str | None = None) -> int:
        is_pdf = data.startswith(b"%PDF")
        file_name = name or ("report.pdf" if is_pdf else "voucher.png")
        ctype = "application/pdf" if is_pdf else "image/png"
        r = self.client.post(self.url("/files"), headers=headers, data={"purpose": purpose},
                             files={"file": (file_name, io.BytesIO(data), ctype)})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def record(self, headers: dict[str, str] | None = None, *, expect: int = 201,
               **fields: Any) -> dict[str, Any]:
        headers = headers or self.clerk
        body: dict[str, Any] = {
            "direction": "income", "category": "停车", "entry_date": "2026-03-01",
            "amount": "1,000.00", "counterparty": "阳光物业服务有限公司", "description": "临时停车费",
        }
        body.update(fields)
        if "voucher_file_ids" not in fields:
            body["voucher_file_ids"] = [self.upload(headers)]
        r = self.client.post(self.url("/ledger/entries"), headers=headers, json=body)
        assert r.status_code == expect, r.text
        return r.json()

    def approve(self, entry_id: int, headers: dict[str, str] | None = None,
                expect: int = 200) -> dict[str, Any]:
        r = self.client.post(self.url(f"/ledger/entries/{entry_id}/approve"),
                             headers=headers or self.committee)
        assert r.status_code == expect, r.text
        return r.json()

    def booked(self, **fields: Any) -> dict[str, Any]:
        """Recorded by the clerk and approved by the committee."""
        entry = self.record(**fields)
        return self.approve(entry["id"])

    def close(self, start: str, expect: int = 200) -> dict[str, Any]:
        r = self.client.post(self.url(f"/ledger/periods/{start}/close"), headers=self.committee)
        assert r.status_code == expect, r.text
        return r.json()

    def publish(self, start: str, expect: int = 200) -> dict[str, Any]:
        r = self.client.post(self.url(f"/ledger/periods/{start}/publish"), headers=self.committee)
        assert r.status_code == expect, r.text
        return r.json()


def build_ledger_world(db: Session, client: TestClient) -> LedgerWorld:
    world = build_world(db, client)
    make_staff(db, username="wg1", roles={world.cid: [Role.CLERK]})
    db.commit()
    return LedgerWorld(world=world, clerk=bearer(client, "wg1"), client=client, cid=world.cid)


def after_quarter(clock: FrozenClock, lw: LedgerWorld, day: int = 2) -> None:
    """Move to 10:00 Shanghai on the given day of April 2026 (the first quarter has ended)."""
    lw.travel_to(clock, datetime(2026, 4, day, 2, 0, tzinfo=UTC))


def published_ballot(lw: LedgerWorld, clock: FrozenClock, outbox: Any,
                     publish: bool = True) -> tuple[int, int, int]:
    """Run a ballot to its published result: matter 0 (九) passes, matter 1 (八) fails.

    Moves the clock to 28 March 2026. With publish=False the result is tallied but not yet
    announced. Returns (the passed matter's id, the failed matter's id, the ballot's id).
    """
    world, client = lw.world, lw.client
    start = datetime(2026, 3, 17, 0, 0, tzinfo=UTC) + timedelta(hours=-8)
    body = ballot_body(start, matters=[
        {"title": "使用公共收益维修小区围墙（预算8万元）", "category": "9"},
        {"title": "利用共有部分设置广告位", "category": "8"},
    ])
    ballot = open_ballot(client, world, clock, body)
    bid = ballot["id"]
    m_pass, m_fail = (m["id"] for m in ballot["matters"])
    plan = {"A": "agree", "B": "agree", "C": "agree", "D": "oppose", "E": "oppose",
            "F": "oppose", "I": "oppose"}
    for name, second in plan.items():
        headers = owner_bearer(client, outbox, world.phones[name])
        detail = client.get(world.url(f"/ballots/{bid}"), headers=headers).json()
        subject = detail["my_subjects"][0]["subject_id"]
        r = client.post(world.url(f"/ballots/{bid}/votes"), headers=headers, json={
            "subject_id": subject, "choices": {str(m_pass): "agree", str(m_fail): second}})
        assert r.status_code == 201, r.text
    lw.travel(clock, days=7)
    r = client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee)
    assert r.status_code == 200, r.text
    lw.travel(clock, days=4)
    if publish:
        r = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
        assert r.status_code == 200, r.text
    return m_pass, m_fail, bid
