"""Issue 11, the sign-in findings: lockout by name form, phone enumeration, staff by SMS code,
duplicate phones and refresh-token forks. Each test fails on the code before the fix."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import func, select
from sqlmodel import Session

from app.auth import sender as sender_module
from app.auth import service as auth_service
from app.auth.models import GRANTABLE_ROLES, OtpCode, Role
from app.config import get_settings
from app.notify.providers import Outgoing, SendResult, set_provider
from app.notify.providers.local import ConsoleProvider
from tests.factories import PASSWORD, UnitSpec, add_roster, bearer, make_compound, make_staff
from tests.security import access_helpers as access
from tests.security.access_helpers import EXPECTED, app_routes

LOGIN = "/api/v1/auth/login"
OTP_REQUEST = "/api/v1/auth/otp/request"
OTP_VERIFY = "/api/v1/auth/otp/verify"
REGISTERED = "13800000001"
UNREGISTERED = "13912345678"


def _compound_with_owner(db: Session, phone: str = REGISTERED):  # type: ignore[no-untyped-def]
    compound = make_compound(db)
    add_roster(db, compound, [UnitSpec("1栋", "101", 9000, ["张三"])], phones={"张三": phone})
    db.commit()
    return compound


# --- finding 4: one username, one failure counter -------------------------------------------------


@pytest.mark.parametrize("variant", [" carol", "carol ", "CAROL", "Carol", "ｃａｒｏｌ", " ＣＡＲＯＬ\t"])
def test_lockout_holds_for_every_form_of_the_username(
    client: TestClient, db: Session, variant: str
) -> None:
    make_staff(db, username="carol")
    db.commit()
    for _ in range(10):
        r = client.post(LOGIN, json={"username": "carol", "password": "wrong-pass"})
        assert r.status_code == 401
    r = client.post(LOGIN, json={"username": variant, "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"


def test_failures_under_other_forms_count_against_the_one_account(
    client: TestClient, db: Session
) -> None:
    make_staff(db, username="dave")
    db.commit()
    for variant in [" dave", "DAVE", "dave ", "ｄａｖｅ", "Dave"] * 2:
        assert client.post(LOGIN, json={"username": variant, "password": "wrong-pass"}).status_code == 401
    r = client.post(LOGIN, json={"username": "dave", "password": PASSWORD})
    assert r.status_code == 429


def test_every_form_of_the_name_logs_in_to_the_one_account(client: TestClient, db: Session) -> None:
    account = make_staff(db, username="ＥＲＩＮ")  # stored in its one form
    db.commit()
    assert account.username == "erin"
    for variant in ("erin", " Erin ", "ＥＲＩＮ"):
        r = client.post(LOGIN, json={"username": variant, "password": PASSWORD, "mode": "bearer"})
        assert r.status_code == 200, variant
        assert r.json()["user"]["id"] == account.id
    with pytest.raises(Exception) as exc:
        make_staff(db, username="Erin ")
    assert getattr(exc.value, "code", None) == "username_taken"


# --- finding 5: registered and unregistered phones answer alike -----------------------------------


def _answers(client: TestClient, phone: str) -> list[tuple[int, dict[str, str]]]:
    out = [(r.status_code, r.json()) for r in [client.post(OTP_REQUEST, json={"phone": phone})]]
    for code in ("000000", "111111", "222222", "333333", "444444", "555555"):
        r = client.post(OTP_VERIFY, json={"phone": phone, "code": code})
        out.append((r.status_code, r.json()))
    return out


def test_request_and_verification_answer_alike(
    client: TestClient, db: Session, outbox: sender_module.MemorySender
) -> None:
    _compound_with_owner(db)
    registered = _answers(client, REGISTERED)
    unregistered = _answers(client, UNREGISTERED)
    if any(code in {"000000", "111111", "222222", "333333", "444444"} for _, code in outbox.sent):
        pytest.skip("the drawn code was one of the guesses")
    assert registered == unregistered
    assert registered[0][0] == 202
    assert registered[1] == (401, {"error": "otp_wrong", "detail": "验证码错误，还可尝试4次"})
    # The same work was done for both: each phone has one stored code, and only one SMS went out.
    db.expire_all()
    for phone in (REGISTERED, UNREGISTERED):
        assert db.execute(select(func.count()).select_from(OtpCode)
                          .where(OtpCode.phone == phone)).scalar_one() == 1
    assert [p for p, _ in outbox.sent] == [REGISTERED]


def test_production_without_sms_refuses_every_phone_alike(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compound_with_owner(db)
    monkeypatch.setattr(get_settings(), "env", "production")
    set_provider(ConsoleProvider())
    monkeypatch.delenv("GONGJUE_BENCH", raising=False)
    answers = [client.post(OTP_REQUEST, json={"phone": p}) for p in (REGISTERED, UNREGISTERED)]
    assert [a.status_code for a in answers] == [503, 503]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["error"] == "otp_sender_unconfigured"


class _BrokenGateway:
    """An SMS gateway that fails (or hangs and times out) on every message."""

    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: Outgoing) -> SendResult:
        self.calls += 1
        raise RuntimeError("gateway timeout")


def test_a_failing_sms_gateway_does_not_change_the_answer(client: TestClient, db: Session) -> None:
    _compound_with_owner(db)
    gateway = _BrokenGateway()
    set_provider(gateway)
    answers = [client.post(OTP_REQUEST, json={"phone": p}) for p in (REGISTERED, UNREGISTERED)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert gateway.calls == 1  # tried for the registered phone, after the answer


# --- finding 9: an SMS code never opens staff standing --------------------------------------------


def _code_login(client: TestClient, outbox: sender_module.MemorySender, phone: str) -> dict:  # type: ignore[type-arg]
    assert client.post(OTP_REQUEST, json={"phone": phone}).status_code == 202
    r = client.post(OTP_VERIFY, json={"phone": phone, "code": outbox.last_code(phone), "mode": "bearer"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_staff_phone_code_login_is_an_owner_session_only(
    client: TestClient, db: Session, outbox: sender_module.MemorySender
) -> None:
    compound = _compound_with_owner(db)
    other = make_compound(db, community="乙社区")
    make_staff(db, username="chair", phone=REGISTERED,
               roles={compound.id: [Role.COMMITTEE], other.id: [Role.CLERK]})
    db.commit()
    session = _code_login(client, outbox, REGISTERED)
    assert session["user"]["signed_in_with"] == "code"
    assert [c["roles"] for c in session["user"]["compounds"]] == [["owner"]]
    headers = _auth(session["access_token"])
    notices = f"/api/v1/compounds/{compound.id}/notices"
    # As an owner: reads the compound's notices; as committee: refused, in both compounds.
    assert client.get(notices, headers=headers).status_code == 200
    r = client.post(notices, headers=headers, json={"kind": "general", "title": "t", "body": "b"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden_compound_role"
    assert client.get(f"/api/v1/compounds/{other.id}/notices", headers=headers).status_code == 403
    assert client.get(f"/api/v1/compounds/{compound.id}/grants", headers=headers).status_code == 403
    listed = client.get("/api/v1/compounds", headers=headers).json()
    assert [c["id"] for c in listed] == [compound.id]
    # A refresh keeps the session what it was: a code session never becomes a password one.
    refreshed = client.post("/api/v1/auth/refresh",
                            json={"refresh_token": session["refresh_token"], "mode": "bearer"}).json()
    assert refreshed["user"]["signed_in_with"] == "code"
    r = client.post(notices, headers=_auth(refreshed["access_token"]),
                    json={"kind": "general", "title": "t", "body": "b"})
    assert r.status_code == 403
    # The password opens the committee's standing.
    r = client.post(notices, headers=bearer(client, "chair"),
                    json={"kind": "general", "title": "t", "body": "b"})
    assert r.status_code == 201


def test_platform_admin_phone_code_login_is_not_an_admin(
    client: TestClient, db: Session, outbox: sender_module.MemorySender
) -> None:
    compound = _compound_with_owner(db)
    make_staff(db, username="root", phone=REGISTERED, platform_admin=True)
    db.commit()
    session = _code_login(client, outbox, REGISTERED)
    headers = _auth(session["access_token"])
    assert session["user"]["is_platform_admin"] is False
    r = client.post("/api/v1/compounds", headers=headers,
                    json={"name": "新小区", "district": "朝阳区", "street": "和平街道",
                          "community": "幸福社区", "developer_name": "某置业"})
    assert r.status_code == 403 and r.json()["error"] == "platform_admin_only"
    assert client.get("/api/v1/accounts", headers=headers).status_code == 403
    r = client.post(f"/api/v1/compounds/{compound.id}/notices", headers=headers,
                    json={"kind": "general", "title": "t", "body": "b"})
    assert r.status_code == 403
    assert client.get("/api/v1/accounts", headers=bearer(client, "root")).status_code == 200


def test_a_token_without_the_method_claim_counts_as_a_code_session(
    client: TestClient, db: Session
) -> None:
    compound = _compound_with_owner(db)
    account = make_staff(db, username="old", roles={compound.id: [Role.COMMITTEE]})
    db.commit()
    issued = auth_service.issue_session(account, method="pwd")
    claims = jwt.get_unverified_claims(issued.access_token)
    del claims["amr"]
    legacy = jwt.encode(claims, get_settings().secret_key, algorithm="HS256")
    notices = f"/api/v1/compounds/{compound.id}/notices"
    assert client.get(notices, headers=_auth(issued.access_token)).status_code == 200
    assert client.get(notices, headers=_auth(legacy)).status_code == 403


# --- finding 10: duplicate phone, refresh forks -----------------------------------------------


def test_a_duplicate_phone_on_account_creation_is_a_conflict(client: TestClient, db: Session) -> None:
    make_staff(db, username="admin", platform_admin=True)
    make_staff(db, username="first", phone=REGISTERED)
    db.commit()
    r = client.post("/api/v1/accounts", headers=bearer(client, "admin"),
                    json={"username": "second", "display_name": "二号", "password": PASSWORD,
                          "phone": "138 0000 0001"})
    assert r.status_code == 409
    assert r.json()["error"] == "phone_taken"
    assert "手机号" in r.json()["detail"]


def _refresh(client: TestClient, token: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token, "mode": "bearer"})


def test_refresh_reuse_in_grace_never_forks_and_a_replay_revokes_the_login(
    client: TestClient, db: Session, frozen_clock  # type: ignore[no-untyped-def]
) -> None:
    make_staff(db, username="gina")
    db.commit()
    login = client.post(LOGIN, json={"username": "gina", "password": PASSWORD, "mode": "bearer"}).json()
    first, again = _refresh(client, login["refresh_token"]).json(), None
    frozen_clock.advance(seconds=30)
    again = _refresh(client, login["refresh_token"]).json()
    assert again["refresh_token"] == first["refresh_token"]  # one successor, not two branches
    # The successor is used on; then the original is replayed after the grace period.
    third = _refresh(client, first["refresh_token"]).json()
    frozen_clock.advance(seconds=60)
    r = _refresh(client, login["refresh_token"])
    assert r.status_code == 401 and r.json()["error"] == "token_revoked"
    # Every token of that login is now dead, on every branch.
    assert _refresh(client, third["refresh_token"]).status_code == 401
    for token in (first["access_token"], third["access_token"]):
        assert client.get("/api/v1/auth/me", headers=_auth(token)).status_code == 401
    # A fresh login is a new family and works.
    assert client.post(LOGIN, json={"username": "gina", "password": PASSWORD}).status_code == 200


# --- finding 9, for every route: staff-only routes refuse a code session -------------------------


def _fill(path: str, compound_id: int) -> str:
    return re.sub(r"\{[^}]+\}", "1", path.replace("{compound_id}", str(compound_id)))


def test_every_staff_route_refuses_a_code_session_of_a_staff_account(
    client: TestClient, db: Session, outbox: sender_module.MemorySender
) -> None:
    """Routes the access table gives to staff only (no owner) refuse the code session of an
    account that holds every grant, is platform admin and owns a flat; new routes are covered
    as they enter the table."""
    compound = _compound_with_owner(db)
    make_staff(db, username="everything", phone=REGISTERED, platform_admin=True,
               roles={compound.id: list(GRANTABLE_ROLES)})
    db.commit()
    code_headers = _auth(_code_login(client, outbox, REGISTERED)["access_token"])
    staff_routes = [route for route in app_routes(client)
                    if "{compound_id}" in route[1] and EXPECTED[route]
                    and access.OWNER not in EXPECTED[route]]
    assert len(staff_routes) >= 30, staff_routes
    let_in = []
    for method, path in staff_routes:
        r = client.request(method, _fill(path, compound.id), headers=code_headers, json={})
        if r.status_code != 403 or r.json().get("error") != "forbidden_compound_role":
            let_in.append((method, path, r.status_code))
    assert let_in == []
    # The same account signed in with its password is let past the role check.
    r = client.get(f"/api/v1/compounds/{compound.id}/grants", headers=bearer(client, "everything"))
    assert r.status_code == 200


def test_other_domains_find_an_account_by_any_form_of_its_name(db: Session) -> None:
    account = make_staff(db, username="frank")
    for typed in ("frank", " FRANK ", "ｆｒａｎｋ"):
        assert auth_service.account_by_username(db, username=typed) is account
    assert auth_service.account_by_username(db, username="   ") is None
