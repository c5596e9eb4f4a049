"""Test database and client fixtures: SQLite by default, PostgreSQL via GONGJUE_TEST_DATABASE_URL."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# pytest-xdist (scripts/test.sh runs `-n 2`): each worker process imports this file with its own
# id (gw0, gw1, …) and gets its own temporary folder, SQLite file, signing key and, on PostgreSQL,
# its own database named after the one given plus the worker id (created here, dropped at the end).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_TMP = Path(tempfile.mkdtemp(prefix=f"gongjue-test-{_WORKER}-" if _WORKER else "gongjue-test-"))


def _worker_database_url(url: str, worker: str) -> str:
    """The given PostgreSQL URL with the database name suffixed by the worker id (created if
    missing; the given database only serves to connect)."""
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


_TEST_DATABASE_URL = os.environ.get("GONGJUE_TEST_DATABASE_URL", "")
_WORKER_DATABASE = bool(_WORKER and _TEST_DATABASE_URL.startswith("postgresql"))
if _WORKER_DATABASE:
    _TEST_DATABASE_URL = _worker_database_url(_TEST_DATABASE_URL, _WORKER)
os.environ["GONGJUE_ENV"] = "test"
os.environ["GONGJUE_SMS_PROVIDER"] = "memory"
os.environ["GONGJUE_NOTIFY_WORKER"] = "false"  # tests deliver explicitly (or start a worker)
os.environ["GONGJUE_SCHEDULE_WORKER"] = "false"  # tests tick the ballot scheduler explicitly
os.environ["GONGJUE_SIGNING_KEY_PATH"] = str(_TMP / "signing.pem")
os.environ["GONGJUE_DATABASE_URL"] = _TEST_DATABASE_URL or f"sqlite:///{_TMP / 'test.db'}"
os.environ["GONGJUE_FRONTEND_DIST"] = str(_TMP / "no-frontend")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from app import clock  # noqa: E402
from app.auth.sender import MemorySender  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import make_engine, new_session, set_engine  # noqa: E402
from app.main import create_app, install_domain_hooks  # noqa: E402
from app.models import load_all_models  # noqa: E402
from app.notify import service as notify_service  # noqa: E402
from app.notify.providers import get_provider, set_provider  # noqa: E402
from app.notify.worker import get_worker  # noqa: E402

load_all_models()
install_domain_hooks()


class CodeOutbox(MemorySender):
    """The memory SMS provider as tests read it: reading runs the outbox's delivery first (the
    worker is off in tests), so `last_code` and `sent` see every code enqueued so far."""

    @property
    def sent(self) -> list[tuple[str, str]]:
        notify_service.deliver_due()
        return self.codes

    def last_code(self, phone: str) -> str:
        notify_service.deliver_due()
        return super().last_code(phone)


_AT_ONCE = {"on": True}


def _deliver_at_once() -> None:
    """Stand in for the worker (off in tests): deliver right after the commit that enqueued, as a
    woken worker would. Tests of the outbox itself take `manual_delivery` and deliver (or start a
    real worker) themselves."""
    if _AT_ONCE["on"] and not get_worker().running:
        notify_service.deliver_due()


notify_service.on_enqueued(_deliver_at_once)
  # as create_app does: tests calling services directly meet the same gates


def _reset_schema(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        name = engine.url.database or ""
        if "test" not in name and not name.startswith("gj_"):
            raise RuntimeError(f"refusing to wipe database {name!r}: test databases contain 'test'")
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)


def _clear(engine: Engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) +
                              " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first() else None


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = make_engine(get_settings().database_url)
    _reset_schema(engine)
    set_engine(engine)
    yield engine
    set_engine(None)
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with empty tables, the real clock and a fresh code outbox."""
    set_provider(CodeOutbox())
    _AT_ONCE["on"] = True
    clock.set_now(None)
    yield
    _AT_ONCE["on"] = True
    get_worker().stop()
    clock.set_now(None)
    if "engine" in request.fixturenames:
        _clear(request.getfixturevalue("engine"))


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data; commit explicitly with db.commit().

    It opens deferred transactions, so on SQLite its reads never hold the write lock that the
    app's requests need.
    """
    session = new_session(write=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


_APPS: dict[str, object] = {}


@pytest.fixture
def app(engine: Engine):  # type: ignore[no-untyped-def]
    """The application, built once per distinct settings: building it (FastAPI analysing every
    route) costs about 0.3 s of CPU, and it keeps no state between requests (that lives in the
    database). A test that changes a setting first gets an application built with it; a test
    that adds routes or middleware calls create_app() itself."""
    key = get_settings().model_dump_json()
    if key not in _APPS:
        _APPS[key] = create_app()
    return _APPS[key]


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def outbox() -> CodeOutbox:
    provider = get_provider()
    assert isinstance(provider, CodeOutbox)
    return provider


@pytest.fixture
def manual_delivery() -> None:
    """The outbox is not delivered after each commit: the test delivers (or runs a worker)."""
    _AT_ONCE["on"] = False


@pytest.fixture
def frozen_clock() -> clock.FrozenClock:
    from datetime import UTC, datetime

    fc = clock.FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    clock.set_now(fc)
    return fc


def pytest_report_header() -> str:
    return f"gongjue test database: {get_settings().database_url.split('@')[-1]}"


def _drop_databases(names: list[str]) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ["GONGJUE_TEST_DATABASE_URL"]).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker's own PostgreSQL database goes when its tests and fixtures are done (before the
    worker reports back: pytest-xdist may end a worker's process soon after)."""
    if _WORKER_DATABASE:
        from sqlalchemy.engine import make_url

        _drop_databases([make_url(_TEST_DATABASE_URL).database or ""])


def pytest_unconfigure(config: pytest.Config) -> None:
    """The pytest-xdist controller drops whatever worker database is left (a worker that died)."""
    workers = config.getoption("numprocesses", None) if not _WORKER else None
    if isinstance(workers, int) and workers > 0 and _TEST_DATABASE_URL.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        name = make_url(_TEST_DATABASE_URL).database
        _drop_databases([f"{name}_gw{i}" for i in range(workers)])


HEAVY = os.environ.get("GONGJUE_HEAVY") == "1"


# The second database pass (.ci/run on PostgreSQL) needs only the tests that reach a database:
# the others (pure rules, parsers, static checks, front-end contracts) would run the same again.
DATABASE_TESTS_ONLY = os.environ.get("GONGJUE_DATABASE_TESTS_ONLY") == "1"


def _reaches_database(item: pytest.Item) -> bool:
    return "engine" in getattr(item, "fixturenames", ()) or "database" in item.keywords


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `heavy` run only when GONGJUE_HEAVY=1 (CI's full run sets it); with
    GONGJUE_DATABASE_TESTS_ONLY=1 only the tests that reach the database are collected."""
    if DATABASE_TESTS_ONLY:
        kept = [item for item in items if _reaches_database(item)]
        config.hook.pytest_deselected(items=[item for item in items if not _reaches_database(item)])
        items[:] = kept
    if HEAVY:
        return
    skip = pytest.mark.skip(reason="heavy: set GONGJUE_HEAVY=1 (as .ci/run does) to run")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)
