"""A session opened by a one-time code stands as an owner only (issue 11, finding 9): neither a
reviewer's queue nor an observer's appointment to one item opens to it; the password does."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from tests.factories import make_staff
from tests.procedures.helpers import World, build_world

DEPUTY_PHONE = "13612345678"


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> World:
    w = build_world(db, client, frozen_clock, outbox)
    make_staff(db, username="daibiao", phone=DEPUTY_PHONE)  # appointed to one item below
    db.commit()
    return w


def _code_headers(world: World, phone: str) -> dict[str, str]:
    client = world.client
    assert client.post("/api/v1/auth/otp/request", json={"phone": phone}).status_code == 202
    r = client.post("/api/v1/auth/otp/verify",
                    json={"phone": phone, "code": world.outbox.last_code(phone), "mode": "bearer"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _staff_phone(db: Session, username: str) -> str:
    from app.auth import service as auth_service

    account = auth_service.account_by_username(db, username=username)
    assert account is not None and account.phone
    return account.phone


def test_a_reviewers_queue_needs_the_password(world: World, db: Session) -> None:
    with_password = world.client.get("/api/v1/reviewer/queue", headers=world.h("shenhe"))
    assert with_password.status_code == 200 and with_password.json()["compound_ids"] == [world.cid]
    by_code = world.client.get("/api/v1/reviewer/queue",
                               headers=_code_headers(world, _staff_phone(db, "shenhe")))
    assert by_code.status_code == 200
    assert by_code.json() == {"compound_ids": [], "items": []}


def test_an_item_observer_reads_the_item_only_with_the_password(world: World) -> None:
    world.adopt()
    item = world.propose()
    world.ok("POST", world.p(f"/items/{item['id']}/observers"), "shenhe",
             {"username": " DaiBiao ", "organization": "市人大代表"}, status=201)  # any form of the name
    path = world.p(f"/items/{item['id']}")
    assert world.client.get(path, headers=world.h("daibiao")).status_code == 200
    r = world.client.get(path, headers=_code_headers(world, DEPUTY_PHONE))
    assert r.status_code == 403, r.text
