"""Walk the app's route table: every compound route refuses people of another compound.

New routes are covered automatically; a route outside /compounds/{compound_id} must be listed
in GLOBAL_ROUTES with the reason it is not compound-scoped.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import GRANTABLE_ROLES
from tests.factories import UnitSpec, add_roster, bearer, make_compound, make_staff

OWNER_PHONE = "13800000077"

# Routes that are not about one compound, each with why.
GLOBAL_ROUTES = {
    ("POST", "/api/v1/auth/otp/request"): "login",
    ("POST", "/api/v1/auth/otp/verify"): "login",
    ("POST", "/api/v1/auth/login"): "login",
    ("POST", "/api/v1/auth/refresh"): "session",
    ("POST", "/api/v1/auth/logout"): "session",
    ("GET", "/api/v1/auth/me"): "own account",
    ("GET", "/api/v1/me/messages"): "own messages (我的消息): those sent to the caller's phone",
    ("PUT", "/api/v1/me/messages/opt-out"): "own opt-out, kept per phone",
    ("GET", "/api/v1/compounds"): "lists only the caller's compounds",
    ("POST", "/api/v1/compounds"): "platform admin only",
    ("GET", "/api/v1/accounts"): "platform admin only",
    ("POST", "/api/v1/accounts"): "platform admin only",
    ("POST", "/api/v1/accounts/{user_id}/disable"): "platform admin only",
    ("POST", "/api/v1/accounts/{user_id}/enable"): "platform admin only",
    ("POST", "/api/v1/accounts/{user_id}/password-reset"): "platform admin only",
    ("POST", "/api/v1/auth/password"): "own account",
    ("GET", "/api/v1/audit/public-key"): "public key",
    ("GET", "/api/v1/reviewer/queue"): (
        "a reviewer's queue across compounds: only items of compounds where the caller holds an "
        "active reviewer grant (tests/procedures/test_reviewer_queue.py)"
    ),
    ("GET", "/api/v1/supervision"): (
        "属地监管 across compounds: only compounds where the caller holds an active supervisor "
        "grant, every compound for the platform administrator (tests/supervision)"),
    ("GET", "/api/v1/credit/lists"): (
        "红黑榜 across compounds: the districts of the caller's supervised compounds and the lists "
        "naming only those (every list for the platform administrator; tests/credit)"),
    ("GET", "/api/v1/credit/preview"): (
        "a district's list computed over the compounds the caller supervises in it (tests/credit)"),
    ("POST", "/api/v1/credit/lists"): (
        "publishes a district's list over the compounds the caller supervises in it (tests/credit)"),
    ("GET", "/api/v1/credit/lists/{list_id}"): (
        "a published list, refused unless the caller supervises every compound it names (tests/credit)"),
    # Served only by the bench's app factory (bench/ceiling.py): authenticated, returns no data.
    ("GET", "/api/v1/bench/ceiling"): "benchmark ceiling, bench servers only",
    ("GET", "/api/v1/bench/ceiling-nodb"): "benchmark ceiling, bench servers only",
}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    out = []
    for path, ops in spec["paths"].items():
        for method in ops:
            out.append((method.upper(), path))
    return sorted(out)


def _fill(path: str, compound_id: int) -> str:
    path = path.replace("{compound_id}", str(compound_id))
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def two_compounds(db: Session, client: TestClient):  # type: ignore[no-untyped-def]
    mine = make_compound(db, community="甲社区")
    theirs = make_compound(db, community="乙社区")
    add_roster(db, mine, [UnitSpec("1栋", "101", 9000, ["业主甲"])], phones={"业主甲": OWNER_PHONE})
    add_roster(db, theirs, [UnitSpec("1栋", "101", 9000, ["业主乙"])])
    insider = make_staff(db, username="insider", phone=OWNER_PHONE,
                         roles={mine.id: list(GRANTABLE_ROLES)})
    db.commit()
    assert insider.id
    return mine, theirs, bearer(client, "insider")


def test_every_route_is_compound_scoped_or_declared_global(client: TestClient) -> None:
    undeclared = [
        (m, p) for m, p in _routes(client)
        if "{compound_id}" not in p and (m, p) not in GLOBAL_ROUTES
    ]
    assert undeclared == [], "new routes must be compound-scoped or declared global"


def test_every_compound_route_refuses_another_compounds_user(
    client: TestClient, two_compounds  # type: ignore[no-untyped-def]
) -> None:
    mine, theirs, headers = two_compounds
    routes = [(m, p) for m, p in _routes(client) if "{compound_id}" in p]
    assert len(routes) >= 8
    leaks = []
    for method, path in routes:
        r = client.request(method, _fill(path, theirs.id), headers=headers, json={})
        if r.status_code != 403 or r.json().get("error") != "forbidden_compound_role":
            leaks.append((method, path, r.status_code, r.text[:120]))
    assert leaks == []
    # Sanity: the same person is let through in their own compound.
    r = client.get(f"/api/v1/compounds/{mine.id}", headers=headers)
    assert r.status_code == 200


def test_every_compound_route_requires_login(client: TestClient, two_compounds) -> None:  # type: ignore[no-untyped-def]
    mine, _, _ = two_compounds
    for method, path in _routes(client):
        if "{compound_id}" not in path:
            continue
        r = client.request(method, _fill(path, mine.id), json={})
        assert r.status_code == 401, (method, path, r.status_code)


def test_a_platform_admin_on_a_compound_that_does_not_exist_gets_not_found(client, db) -> None:  # type: ignore[no-untyped-def]
    """Found by the heavy fuzz: the platform role let a write reach the database for a missing
    compound, which answered 500 (foreign key)."""
    make_staff(db, username="root", platform_admin=True)
    db.commit()
    headers = bearer(client, "root")
    r = client.put("/api/v1/compounds/1024/procedures/settings", headers=headers, json={})
    assert r.status_code == 404 and r.json()["error"] == "compound_not_found", r.text
    r = client.get("/api/v1/compounds/1024/ballots", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "compound_not_found", r.text
