"""Migrations run up, down and up again on a fresh database and agree with the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.config import ROOT_DIR, get_settings
from app.db import make_engine, normalize_url

# Migrates a database of its own on the server under test (no engine fixture): both passes.
pytestmark = pytest.mark.database


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    url = normalize_url(get_settings().database_url)
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"gj_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _config(url: str) -> Config:
    cfg = Config(str(ROOT_DIR / "alembic.ini"))
    cfg.attributes["database_url"] = url
    return cfg


def test_upgrade_downgrade_upgrade_and_models_agree(fresh_url: str) -> None:
    cfg = _config(fresh_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    engine = make_engine(fresh_url)
    try:
        leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        assert set(inspect(engine).get_table_names()) >= set(SQLModel.metadata.tables)
    finally:
        engine.dispose()
