"""`python -m app.auth create-admin`: the first platform administrator of a new deployment."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.__main__ import main
from tests.factories import bearer

STRONG = "Yangguang-2027!huayuan"


def test_creates_a_platform_admin_who_signs_in_with_the_password(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGJUE_ADMIN_PASSWORD", STRONG)
    assert main(["create-admin", "--username", " Root "]) == 0
    assert "已创建平台管理员 root" in capsys.readouterr().out
    me = client.get("/api/v1/auth/me", headers=bearer(client, "root", STRONG)).json()
    assert me["is_platform_admin"] is True and me["signed_in_with"] == "password"
    # The same name again, in any form, is refused and changes nothing.
    assert main(["create-admin", "--username", "ROOT"]) == 2
    assert "username_taken" in capsys.readouterr().err


@pytest.mark.parametrize(("password", "code"), [
    ("short1!", "password_too_short"),
    ("Password1234", "password_weak"),  # a known one, in any case
    ("aaaaaaaaaaaaaaaa", "password_weak"),
    ("abcdefghijklmnop", "password_weak"),
    ("gongjue-demo-2026", "password_weak"),
    ("root-is-my-name-42", "password_weak"),
])
def test_weak_passwords_are_refused(
    db: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    password: str, code: str,
) -> None:
    monkeypatch.setenv("GONGJUE_ADMIN_PASSWORD", password)
    assert main(["create-admin", "--username", "root"]) == 2
    assert code in capsys.readouterr().err
    from app.auth import service

    assert service.account_by_username(db, username="root") is None
