"""When the database refuses connections (too many clients, a restart), requests get a 503 that
says nothing was stored and to retry, never a 500; health reports it; service resumes after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.db import make_engine, set_engine
from app.main import create_app
from tests.factories import PASSWORD, make_staff


@pytest.fixture
def unreachable(engine: Engine) -> Iterator[None]:
    """The app's engine points at a port where nothing listens, then back at the test database."""
    dead = make_engine("postgresql://postgres@127.0.0.1:1/gongjue")
    set_engine(dead)
    try:
        yield
    finally:
        set_engine(engine)
        dead.dispose()


def test_requests_answer_503_while_the_database_is_unreachable(engine: Engine, db, unreachable) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(), base_url="https://testserver",
                    raise_server_exceptions=False) as client:
        login = client.post("/api/v1/auth/login", json={"username": "ursula", "password": PASSWORD})
        health = client.get("/healthz")
    assert login.status_code == 503, login.text
    assert login.json() == {"error": "database_busy", "detail": "系统繁忙，本次操作未生效，请稍后重试"}
    assert login.headers["retry-after"] == "2"
    assert login.headers["x-content-type-options"] == "nosniff"
    assert health.status_code == 503 and health.json()["status"] == "error"


def test_service_resumes_when_the_database_is_back(engine: Engine, db) -> None:  # type: ignore[no-untyped-def]
    make_staff(db, username="ursula")
    db.commit()
    with TestClient(create_app(), base_url="https://testserver") as client:
        login = client.post("/api/v1/auth/login", json={"username": "ursula", "password": PASSWORD})
    assert login.status_code == 200
