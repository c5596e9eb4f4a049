"""三单一访 work orders over HTTP (seed 001 §4.7.1): the four steps, one reopening on 不满意,
deadlines and overdue flags on a frozen clock, owners seeing only their own orders, the anonymous
stats, the grid worker reporting for an owner, and another compound refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clock import FrozenClock
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff, owner_bearer

PHONES = {"业主甲": "13900000001", "业主乙": "13900000002"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> dict[str, Any]:
    compound = make_compound(db)
    other = make_compound(db, name="别的小区")
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["业主甲"]),
                              UnitSpec("1栋", "102", 9000, ["业主乙"])], phones=PHONES)
    add_roster(db, other, [UnitSpec("9栋", "101", 9000, ["外人"])], phones={"外人": "13911112222"})
    for name, roles in (("wy", [Role.COMMITTEE]), ("wg", [Role.CLERK]), ("gc", [Role.OBSERVER]),
                        ("sh", [Role.REVIEWER]), ("grid", [Role.GRID_WORKER])):
        make_staff(db, username=name, roles={compound.id or 0: roles})
    make_staff(db, username="outsider", roles={other.id or 0: [Role.COMMITTEE, Role.CLERK,
                                                                Role.REVIEWER, Role.GRID_WORKER]})
    db.commit()
    return {"cid": compound.id, "base": f"/api/v1/compounds/{compound.id}",
            "h": Heads(client, outbox, frozen_clock), "clock": frozen_clock}


class Heads:
    """Bearer headers per person, signed in again when the frozen clock has moved on."""

    def __init__(self, client: TestClient, outbox: Any, clock: FrozenClock) -> None:
        self.client, self.outbox, self.clock = client, outbox, clock
        self.cache: dict[tuple[str, datetime], dict[str, str]] = {}

    def __getitem__(self, who: str) -> dict[str, str]:
        key = (who, self.clock.current)
        if key not in self.cache:
            phone = {**PHONES, "外人": "13911112222"}.get(who)
            self.cache[key] = (owner_bearer(self.client, self.outbox, phone) if phone
                               else bearer(self.client, who))
        return self.cache[key]


def _photo(client: TestClient, w: dict[str, Any], who: str) -> int:
    r = client.post(w["base"] + "/files", headers=w["h"][who], data={"purpose": "attachment"},
                    files={"file": ("照片.png", io.BytesIO(PNG), "image/png")})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _post(client: TestClient, w: dict[str, Any], path: str, who: str, body: Any = None,
          status: int = 200) -> Any:
    r = client.post(w["base"] + "/work-orders" + path, headers=w["h"][who], json=body)
    assert r.status_code == status, r.text
    return r.json()


def _get(client: TestClient, w: dict[str, Any], path: str, who: str, status: int = 200) -> Any:
    r = client.get(w["base"] + "/work-orders" + path, headers=w["h"][who])
    assert r.status_code == status, r.text
    return r.json()


def _report(client: TestClient, w: dict[str, Any], who: str = "业主甲", **extra: Any) -> dict[str, Any]:
    body = {"category": "repair", "text": "楼道灯不亮", "location": "1栋1单元3楼",
            "photo_file_ids": [_photo(client, w, who)], **extra}
    return _post(client, w, "", who, body, status=201)


def test_the_four_steps(client: TestClient, world: dict[str, Any], db: Session) -> None:
    w = world
    order = _report(client, w)
    assert order["status"] == "reported" and order["status_label"] == "待派单"
    assert order["owner_phone_masked"] == "139****0001"
    # 24 hours to dispatch; 3 working days (Mon 2 March -> end of Thu 5 March) to handle.
    assert order["due_at"] == "2026-03-03T02:00:00Z"
    oid = order["id"]
    # The property company cannot skip the dispatch; an owner cannot dispatch.
    _post(client, w, f"/{oid}/accept", "wg", status=409)
    _post(client, w, f"/{oid}/dispatch", "业主甲", {}, status=403)
    assert order["actions"] == []  # the owner's next step is waiting
    assert _get(client, w, f"/{oid}", "wy")["actions"] == ["dispatch"]
    assert _get(client, w, f"/{oid}", "wg")["actions"] == []
    order = _post(client, w, f"/{oid}/dispatch", "wy", {"note": "请物业尽快处理"})
    assert order["status"] == "dispatched" and order["due_at"] == "2026-03-05T16:00:00Z"
    order = _post(client, w, f"/{oid}/accept", "wg")
    assert order["status"] == "accepted" and order["accepted_at"] is not None
    photo = _photo(client, w, "wg")
    order = _post(client, w, f"/{oid}/done", "wg", {"note": "已更换灯泡", "photo_file_ids": [photo]})
    assert order["status"] == "done" and order["done_photo_file_ids"] == [photo]
    # Only the owner it is for rates it.
    _post(client, w, f"/{oid}/rating", "业主乙", {"rating": "satisfied"}, status=404)
    order = _post(client, w, f"/{oid}/rating", "业主甲", {"rating": "satisfied", "comment": "很及时"})
    assert order["status"] == "rated" and order["rating_label"] == "满意"
    _post(client, w, f"/{oid}/visit", "wy", {"note": "x"}, status=403)
    order = _post(client, w, f"/{oid}/visit", "sh", {"note": "已电话回访，业主满意"})
    assert order["status"] == "closed" and order["visited_at"] is not None and not order["overdue"]
    assert [s["kind"] for s in order["steps"]] == [
        "reported", "dispatched", "accepted", "done", "rated", "visited"]
    # Every step audited, with no phone or text of the order in the chain.
    events = db.execute(select(AuditEvent).where(AuditEvent.object_type == "work_order")).scalars().all()
    assert [e.action for e in events] == [f"work_order.{k}" for k in (
        "reported", "dispatched", "accepted", "done", "rated", "visited")]
    assert all("13900000001" not in str(e.payload) and "楼道灯" not in str(e.payload) for e in events)
    # The photos are readable by the owner and the staff of the loop, not by another owner.
    for who, status in (("业主甲", 200), ("wg", 200), ("sh", 200), ("业主乙", 404)):
        r = client.get(f"{w['base']}/files/{photo}", headers=w["h"][who])
        assert r.status_code == status, (who, r.text)


def test_unsatisfied_reopens_once(client: TestClient, world: dict[str, Any]) -> None:
    w = world
    oid = _report(client, w, category="urgent_repair")["id"]
    order = _post(client, w, f"/{oid}/dispatch", "grid", {})
    assert order["due_at"] == "2026-03-03T02:00:00Z"  # urgent: 24 hours
    _post(client, w, f"/{oid}/accept", "wg")
    _post(client, w, f"/{oid}/done", "wg", {"note": "已临时处理"})
    order = _post(client, w, f"/{oid}/rating", "业主甲", {"rating": "unsatisfied", "comment": "还在漏"})
    assert order["status"] == "accepted" and order["reopened_at"] is not None
    assert order["rating"] is None and order["done_at"] is None
    _post(client, w, f"/{oid}/done", "wg", {"note": "已更换水管"})
    order = _post(client, w, f"/{oid}/rating", "业主甲", {"rating": "unsatisfied"})
    assert order["status"] == "rated" and order["rating_label"] == "不满意"  # not again
    kinds = [s["kind"] for s in order["steps"]]
    assert kinds == ["reported", "dispatched", "accepted", "done", "rated", "reopened", "done",
                     "rated"]
    assert order["steps"][3]["note"] == "已临时处理"  # the first round stays in the history


def test_overdue_from_the_frozen_clock(client: TestClient, world: dict[str, Any]) -> None:
    w = world
    clock: FrozenClock = w["clock"]
    waiting = _report(client, w)["id"]
    handled = _report(client, w, who="业主乙")["id"]
    due = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    _post(client, w, f"/{handled}/dispatch", "wy", {"due_at": due.isoformat()})
    clock.current = clock.current + timedelta(hours=23)
    assert not _get(client, w, f"/{waiting}", "wy")["overdue"]
    clock.current = clock.current + timedelta(hours=2)
    assert _get(client, w, f"/{waiting}", "wy")["overdue"]  # not dispatched within 24 hours
    assert [o["id"] for o in _get(client, w, "?overdue=true", "wy")] == [waiting]
    assert [o["id"] for o in _get(client, w, "?status=dispatched", "wg")] == [handled]
    clock.current = due + timedelta(minutes=1)
    assert _get(client, w, f"/{handled}", "wg")["overdue"]
    _post(client, w, f"/{handled}/accept", "wg")
    assert _get(client, w, f"/{handled}", "wg")["overdue"]  # accepted, still past the deadline
    assert _get(client, w, "/stats", "业主甲")["overdue"] == 2
    _post(client, w, f"/{handled}/done", "wg", {"note": "已清理"})
    assert not _get(client, w, f"/{handled}", "wg")["overdue"]  # the owner's rating has no deadline


def test_owners_see_only_their_own_and_anonymous_stats(client: TestClient, world: dict[str, Any]) -> None:
    w = world
    mine = _report(client, w)["id"]
    theirs = _report(client, w, who="业主乙", category="cleaning", text="垃圾桶满溢")["id"]
    for oid in (mine, theirs):
        _post(client, w, f"/{oid}/dispatch", "wy", {})
        _post(client, w, f"/{oid}/accept", "wg")
    w["clock"].current += timedelta(hours=10)
    _post(client, w, f"/{mine}/done", "wg", {"note": "已修好"})
    _post(client, w, f"/{mine}/rating", "业主甲", {"rating": "satisfied"})
    assert [o["id"] for o in _get(client, w, "", "业主甲")] == [mine]
    _get(client, w, f"/{theirs}", "业主甲", status=404)
    assert {o["id"] for o in _get(client, w, "", "wg")} == {mine, theirs}
    _get(client, w, "", "gc", status=403)  # the observers take no part in the loop
    r = client.get(w["base"] + "/work-orders/stats", headers=w["h"]["业主乙"])
    assert r.status_code == 200
    stats = r.json()
    assert stats["total"] == 2 and stats["rated"] == 1 and stats["satisfied_share"] == 1.0
    assert stats["average_handling_hours"] == 10.0
    assert {c["key"]: c["count"] for c in stats["by_status"]}["rated"] == 1
    assert {c["key"]: c["count"] for c in stats["by_category"]} == {
        "urgent_repair": 0, "repair": 1, "cleaning": 1, "greening": 0, "order": 0,
        "facility": 0, "other": 0}
    assert "楼道灯" not in r.text and "139" not in r.text and "业主" not in r.text


def test_grid_worker_reports_for_an_owner(client: TestClient, world: dict[str, Any]) -> None:
    w = world
    order = _report(client, w, who="grid", owner_phone="13900000002")
    assert order["reported_role_label"] == "网格员" and order["owner_phone_masked"] == "139****0002"
    assert [o["id"] for o in _get(client, w, "", "业主乙")] == [order["id"]]
    # Not for a phone outside the roster; not with someone else's photo; at most three photos.
    r = client.post(w["base"] + "/work-orders", headers=w["h"]["grid"], json={
        "category": "order", "text": "乱停车", "location": "东门", "owner_phone": "13911112222"})
    assert r.status_code == 422 and r.json()["error"] == "work_order_owner_unknown"
    r = client.post(w["base"] + "/work-orders", headers=w["h"]["业主甲"], json={
        "category": "order", "text": "乱停车", "location": "东门",
        "photo_file_ids": [_photo(client, w, "业主乙")]})
    assert r.status_code == 422 and r.json()["error"] == "work_order_photo_invalid"
    r = client.post(w["base"] + "/work-orders", headers=w["h"]["业主甲"], json={
        "category": "order", "text": "乱停车", "location": "东门", "photo_file_ids": [1, 2, 3, 4]})
    assert r.status_code == 422


def test_another_compound_is_refused(client: TestClient, world: dict[str, Any]) -> None:
    w = world
    oid = _report(client, w)["id"]
    for who in ("outsider", "外人"):
        _get(client, w, f"/{oid}", who, status=403)
        _get(client, w, "/stats", who, status=403)
        _post(client, w, f"/{oid}/dispatch", who, {}, status=403)
