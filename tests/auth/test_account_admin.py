"""The administrator's account screens' API: staff accounts with temporary passwords, disabling,
password resets and changes, and the compounds' audit trails of grants and account changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.auth.models import Role, UserAccount
from tests.factories import PASSWORD, UnitSpec, add_roster, bearer, make_compound, make_staff

ADMIN_PASSWORD = "Yangguang-2027!huayuan"
NEW_PASSWORD = "my-own-secret-2027"


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/login",
                       json={"username": username, "password": password, "mode": "bearer"})


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _payload(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.payload) if isinstance(event.payload, str) else dict(event.payload)


def _events(db: Session, compound_id: int, *actions: str) -> list[AuditEvent]:
    db.rollback()  # see what the requests committed
    events = list(db.execute(
        select(AuditEvent).where(AuditEvent.compound_id == compound_id,
                                 AuditEvent.action.in_(actions)).order_by(AuditEvent.seq)
    ).scalars())
    db.expunge_all()
    db.rollback()  # and hold no read transaction while the app writes
    return events


@pytest.fixture
def admin(client: TestClient, db: Session) -> dict[str, str]:
    make_staff(db, username="root", password=ADMIN_PASSWORD, platform_admin=True)
    db.commit()
    return bearer(client, "root", ADMIN_PASSWORD)


def _create(client: TestClient, admin: dict[str, str], username: str = "wang",
            password: str = "Temp-pass-001") -> dict[str, Any]:
    r = client.post("/api/v1/accounts", headers=admin,
                    json={"username": username, "display_name": "王委员", "password": password})
    assert r.status_code == 201, r.text
    return r.json()


# --- temporary passwords and the change-password gate ---------------------------------------


def test_a_new_account_must_change_its_password_before_anything_else(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    compound = make_compound(db)
    db.commit()
    created = _create(client, admin)
    assert created["must_change_password"] is True and created["is_active"] is True
    r = client.post(f"/api/v1/compounds/{compound.id}/grants", headers=admin,
                    json={"user_id": created["id"], "role": "committee"})
    assert r.status_code == 201, r.text

    session = _login(client, "wang", "Temp-pass-001").json()
    token = session["access_token"]
    assert session["user"]["must_change_password"] is True
    # me and logout still answer; every other route refuses with one stable code
    assert client.get("/api/v1/auth/me", headers=_h(token)).json()["must_change_password"] is True
    for method, path in (("GET", "/api/v1/compounds"), ("GET", f"/api/v1/compounds/{compound.id}"),
                         ("GET", f"/api/v1/compounds/{compound.id}/grants")):
        r = client.request(method, path, headers=_h(token))
        assert r.status_code == 403 and r.json()["error"] == "password_change_required", path

    r = client.post("/api/v1/auth/password", headers=_h(token), json={
        "current_password": "Temp-pass-001", "new_password": NEW_PASSWORD, "mode": "bearer"})
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert renewed["user"]["must_change_password"] is False
    # the old session ended with the change; the new one reaches the compound
    assert client.get("/api/v1/auth/me", headers=_h(token)).status_code == 401
    assert client.get(f"/api/v1/compounds/{compound.id}",
                      headers=_h(renewed["access_token"])).status_code == 200
    assert _login(client, "wang", "Temp-pass-001").status_code == 401
    assert _login(client, "wang", NEW_PASSWORD).json()["user"]["must_change_password"] is False


def test_logout_works_while_the_password_must_change(client: TestClient, admin: dict[str, str]) -> None:
    _create(client, admin)
    session = _login(client, "wang", "Temp-pass-001").json()
    r = client.post("/api/v1/auth/logout", headers=_h(session["access_token"]),
                    json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=_h(session["access_token"])).status_code == 401


def test_a_code_session_is_not_held_up_by_a_temporary_password(
    client: TestClient, db: Session, admin: dict[str, str], outbox  # type: ignore[no-untyped-def]
) -> None:
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["张三"])], phones={"张三": "13800000031"})
    db.commit()
    r = client.post("/api/v1/accounts", headers=admin, json={
        "username": "zhang", "display_name": "张三", "password": "Temp-pass-001",
        "phone": "13800000031"})
    assert r.status_code == 201
    client.post("/api/v1/auth/otp/request", json={"phone": "13800000031"})
    r = client.post("/api/v1/auth/otp/verify", json={
        "phone": "13800000031", "code": outbox.last_code("13800000031"), "mode": "bearer"})
    token = r.json()["access_token"]
    assert r.json()["user"]["must_change_password"] is False  # the code did not use the password
    assert client.get(f"/api/v1/compounds/{compound.id}", headers=_h(token)).status_code == 200


def test_change_password_needs_the_current_one_and_counts_failures(
    client: TestClient, db: Session
) -> None:
    make_staff(db, username="li")
    db.commit()
    token = _login(client, "li", PASSWORD).json()["access_token"]
    for _ in range(10):
        r = client.post("/api/v1/auth/password", headers=_h(token), json={
            "current_password": "wrong-password", "new_password": NEW_PASSWORD})
        assert r.status_code == 422 and r.json()["error"] == "current_password_wrong"
    r = client.post("/api/v1/auth/password", headers=_h(token), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 429  # the same limit as failed logins: no unlimited guessing here
    assert _login(client, "li", PASSWORD).status_code == 429


@pytest.mark.parametrize(("new", "code"), [
    ("short", "password_too_short"),
    (PASSWORD, "password_unchanged"),
])
def test_staff_password_rules(client: TestClient, db: Session, new: str, code: str) -> None:
    make_staff(db, username="li")
    db.commit()
    r = client.post("/api/v1/auth/password", headers=bearer(client, "li"), json={
        "current_password": PASSWORD, "new_password": new})
    assert r.status_code == 422 and r.json()["error"] == code


def test_an_administrator_keeps_the_administrator_rules(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = client.post("/api/v1/auth/password", headers=admin, json={
        "current_password": ADMIN_PASSWORD, "new_password": "onlylettershereandnow"})
    assert r.status_code == 422 and r.json()["error"] == "password_weak"
    r = client.post("/api/v1/auth/password", headers=admin, json={
        "current_password": ADMIN_PASSWORD, "new_password": "Another-2028!street"})
    assert r.status_code == 200


def test_changing_the_password_ends_every_other_session(client: TestClient, db: Session) -> None:
    make_staff(db, username="li")
    db.commit()
    phone_session = _login(client, "li", PASSWORD).json()
    desk = _login(client, "li", PASSWORD).json()
    r = client.post("/api/v1/auth/password", headers=_h(desk["access_token"]), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "mode": "bearer"})
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=_h(phone_session["access_token"])).status_code == 401
    r = client.post("/api/v1/auth/refresh",
                    json={"refresh_token": phone_session["refresh_token"], "mode": "bearer"})
    assert r.status_code == 401


def test_an_owner_account_has_no_password_to_change(
    client: TestClient, db: Session, outbox  # type: ignore[no-untyped-def]
) -> None:
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["张三"])], phones={"张三": "13800000032"})
    db.commit()
    client.post("/api/v1/auth/otp/request", json={"phone": "13800000032"})
    token = client.post("/api/v1/auth/otp/verify", json={
        "phone": "13800000032", "code": outbox.last_code("13800000032"), "mode": "bearer"},
    ).json()["access_token"]
    r = client.post("/api/v1/auth/password", headers=_h(token), json={
        "current_password": "anything", "new_password": NEW_PASSWORD})
    assert r.status_code == 422 and r.json()["error"] == "no_password"


def test_change_password_by_cookie_needs_the_csrf_header(client: TestClient, db: Session) -> None:
    make_staff(db, username="li")
    db.commit()
    r = client.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD})
    assert r.status_code == 200
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("/api/v1/auth/password", json=body).status_code == 403
    r = client.post("/api/v1/auth/password", json=body,
                    headers={"X-CSRF-Token": client.cookies.get("gj_csrf") or ""})
    assert r.status_code == 200
    # the answer set the new session's cookies: the browser stays signed in
    assert client.get("/api/v1/auth/me").status_code == 200


# --- disable and enable --------------------------------------------------------------------


def test_disabling_ends_every_session_at_once_and_blocks_login(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    compound = make_compound(db)
    clerk = make_staff(db, username="clerk1", roles={compound.id: [Role.CLERK]})
    cid, clerk_id = compound.id or 0, clerk.id
    db.commit()
    session = _login(client, "clerk1", PASSWORD).json()
    url = f"/api/v1/compounds/{cid}/roster/summary"
    assert client.get(url, headers=_h(session["access_token"])).status_code == 200

    r = client.post(f"/api/v1/accounts/{clerk_id}/disable", headers=admin, json={"reason": "离职"})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert client.get(url, headers=_h(session["access_token"])).status_code == 401
    r = client.post("/api/v1/auth/refresh",
                    json={"refresh_token": session["refresh_token"], "mode": "bearer"})
    assert r.status_code == 401
    r = _login(client, "clerk1", PASSWORD)
    assert r.status_code == 401 and r.json()["error"] == "account_disabled"
    # a disabled account gets no new role
    r = client.post(f"/api/v1/compounds/{cid}/grants", headers=admin,
                    json={"user_id": clerk_id, "role": "committee"})
    assert r.status_code == 409 and r.json()["error"] == "account_disabled"
    again = client.post(f"/api/v1/accounts/{clerk_id}/disable", headers=admin, json={"reason": "再次"})
    assert again.status_code == 409 and again.json()["error"] == "account_already_disabled"

    r = client.post(f"/api/v1/accounts/{clerk_id}/enable", headers=admin, json={"reason": "返岗"})
    assert r.status_code == 200 and r.json()["is_active"] is True
    fresh = _login(client, "clerk1", PASSWORD).json()
    assert client.get(url, headers=_h(fresh["access_token"])).status_code == 200

    events = _events(db, cid, "account.disabled", "account.enabled")
    assert [(e.action, _payload(e)["reason"], _payload(e)["username"], e.actor_role) for e in events] == [
        ("account.disabled", "离职", "clerk1", "platform_admin"),
        ("account.enabled", "返岗", "clerk1", "platform_admin"),
    ]


def test_the_administrator_cannot_disable_or_reset_themselves(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    root = db.execute(select(UserAccount).where(UserAccount.username == "root")).scalar_one()
    r = client.post(f"/api/v1/accounts/{root.id}/disable", headers=admin, json={"reason": "试试"})
    assert r.status_code == 409 and r.json()["error"] == "cannot_disable_self"
    r = client.post(f"/api/v1/accounts/{root.id}/password-reset", headers=admin, json={"reason": "试试"})
    assert r.status_code == 409 and r.json()["error"] == "cannot_reset_self"


def test_actions_need_a_reason_and_a_staff_account(
    client: TestClient, db: Session, admin: dict[str, str], outbox  # type: ignore[no-untyped-def]
) -> None:
    clerk = make_staff(db, username="clerk1")
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["张三"])], phones={"张三": "13800000033"})
    db.commit()
    for body in ({}, {"reason": "   "}, {"reason": "x" * 201}):
        r = client.post(f"/api/v1/accounts/{clerk.id}/disable", headers=admin, json=body)
        assert r.status_code == 422, body
    assert client.post("/api/v1/accounts/999999/disable", headers=admin,
                       json={"reason": "离职"}).status_code == 404
    # an owner's phone account is the roster's business, not a staff account to manage here
    client.post("/api/v1/auth/otp/request", json={"phone": "13800000033"})
    owner = client.post("/api/v1/auth/otp/verify", json={
        "phone": "13800000033", "code": outbox.last_code("13800000033"), "mode": "bearer"}).json()
    r = client.post(f"/api/v1/accounts/{owner['user']['id']}/password-reset", headers=admin,
                    json={"reason": "忘记"})
    assert r.status_code == 404


def test_account_routes_are_the_administrators(client: TestClient, db: Session) -> None:
    compound = make_compound(db)
    make_staff(db, username="chair", roles={compound.id: [Role.COMMITTEE]})
    clerk = make_staff(db, username="clerk1", roles={compound.id: [Role.CLERK]})
    db.commit()
    chair = bearer(client, "chair")
    for path in ("disable", "enable", "password-reset"):
        r = client.post(f"/api/v1/accounts/{clerk.id}/{path}", headers=chair, json={"reason": "x"})
        assert r.status_code == 403 and r.json()["error"] == "platform_admin_only"
    assert client.get("/api/v1/accounts", headers=chair).status_code == 403


# --- password reset ------------------------------------------------------------------------


def test_a_reset_gives_a_temporary_password_once_and_ends_every_session(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    first, second = make_compound(db), make_compound(db, community="乙社区")
    other = make_compound(db, community="丙社区")
    chair = make_staff(db, username="chair", roles={first.id: [Role.COMMITTEE]})
    ids = {"first": first.id or 0, "second": second.id or 0, "other": other.id or 0}
    chair_id = chair.id
    db.commit()
    # a grant revoked in the second compound still puts the account's changes in its trail
    g = client.post(f"/api/v1/compounds/{ids['second']}/grants", headers=admin,
                    json={"user_id": chair_id, "role": "reviewer"}).json()
    assert client.delete(f"/api/v1/compounds/{ids['second']}/grants/{g['id']}",
                         headers=admin).status_code == 200
    old = _login(client, "chair", PASSWORD).json()
    for _ in range(10):  # locked out by failed logins: the reset lifts that too
        _login(client, "chair", "forgotten")
    assert _login(client, "chair", PASSWORD).status_code == 429

    r = client.post(f"/api/v1/accounts/{chair_id}/password-reset", headers=admin,
                    json={"reason": "本人电话申请，已核实身份"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    temporary = r.json()["temporary_password"]
    assert len(temporary) == 14 and r.json()["account"]["must_change_password"] is True
    assert client.get("/api/v1/auth/me", headers=_h(old["access_token"])).status_code == 401
    assert _login(client, "chair", PASSWORD).status_code == 401
    session = _login(client, "chair", temporary).json()
    assert session["user"]["must_change_password"] is True
    r = client.get(f"/api/v1/compounds/{ids['first']}", headers=_h(session["access_token"]))
    assert r.json()["error"] == "password_change_required"
    # the temporary password is not kept anywhere readable: not in the trail, not in the list
    listed = client.get("/api/v1/accounts", headers=admin).text
    assert temporary not in listed
    for cid in (ids["first"], ids["second"]):
        events = _events(db, cid, "account.password_reset")
        assert len(events) == 1 and events[0].object_id == str(chair_id)
        assert _payload(events[0])["reason"] == "本人电话申请，已核实身份"
        assert temporary not in str(events[0].payload)
    assert _events(db, ids["other"], "account.password_reset") == []
    # a second reset makes the first temporary password worthless
    r = client.post(f"/api/v1/accounts/{chair_id}/password-reset", headers=admin, json={"reason": "再发"})
    assert r.json()["temporary_password"] != temporary
    assert _login(client, "chair", temporary).status_code == 401


# --- list, search and grants in the audit trail ---------------------------------------------


def test_the_account_list_shows_state_and_grants_and_searches(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    compound = make_compound(db, name="阳光花园")
    make_staff(db, username="chair", roles={compound.id: [Role.COMMITTEE, Role.CLERK]},
               phone="13800000034")
    make_staff(db, username="reviewer1")
    db.commit()
    listed = client.get("/api/v1/accounts", headers=admin).json()
    chair = next(a for a in listed if a["username"] == "chair")
    assert chair["phone_masked"] == "138****0034" and "13800000034" not in str(listed)
    assert {(g["compound_name"], g["role"]) for g in chair["grants"]} == {
        (compound.name, "committee"), (compound.name, "clerk")}
    assert {a["username"] for a in client.get("/api/v1/accounts", headers=admin,
                                              params={"q": "REVIEW"}).json()} == {"reviewer1"}
    assert client.get("/api/v1/accounts", headers=admin, params={"q": "%"}).json() == []
    assert client.get("/api/v1/accounts", headers=admin, params={"q": "x" * 51}).status_code == 422


def test_grants_and_revocations_are_in_the_compounds_trail(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    cid = make_compound(db).id or 0
    db.commit()
    created = _create(client, admin, "zhao")
    g = client.post(f"/api/v1/compounds/{cid}/grants", headers=admin,
                    json={"user_id": created["id"], "role": "committee"})
    assert g.status_code == 201
    assert client.delete(f"/api/v1/compounds/{cid}/grants/{g.json()['id']}",
                         headers=admin).status_code == 200
    events = _events(db, cid, "role.granted", "role.revoked")
    assert [(e.action, e.object_id, _payload(e)["username"], _payload(e)["role_label"]) for e in events] == [
        ("role.granted", str(g.json()["id"]), "zhao", "业委会委员"),
        ("role.revoked", str(g.json()["id"]), "zhao", "业委会委员"),
    ]
    # and the trail still verifies
    r = client.get(f"/api/v1/compounds/{cid}/audit/verify", headers=admin)
    assert r.status_code == 200 and r.json()["ok"] is True


def test_changing_ones_own_password_is_in_each_compounds_trail(
    client: TestClient, db: Session
) -> None:
    first = make_compound(db, name="甲小区").id or 0
    second = make_compound(db, name="乙小区").id or 0
    li = make_staff(db, username="li", roles={first: [Role.COMMITTEE], second: [Role.OBSERVER]})
    db.commit()
    li_id = li.id
    r = client.post("/api/v1/auth/password", headers=bearer(client, "li"), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "mode": "bearer"})
    assert r.status_code == 200, r.text
    for compound_id, role in ((first, "committee"), (second, "observer")):
        events = _events(db, compound_id, "account.password_changed")
        assert [(e.actor_user_id, e.actor_role, _payload(e)["username"]) for e in events] == [
            (li_id, role, "li")]
        assert NEW_PASSWORD not in str(events[0].payload) and PASSWORD not in str(events[0].payload)
    # a wrong current password changes nothing and records nothing
    r = client.post("/api/v1/auth/password", headers=bearer(client, "li", NEW_PASSWORD), json={
        "current_password": "wrong-password-1", "new_password": "another-secret-1", "mode": "bearer"})
    assert r.status_code == 422
    assert len(_events(db, first, "account.password_changed")) == 1
