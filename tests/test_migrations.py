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
from sqlalchemy.exc import IntegrityError
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


# Two compounds' rosters as raw rows (ids given), written at the revision before the
# compound-consistent keys: the migration must carry them over, up and down.
_ROSTER_KEYS = "e6ea21a0ea8f"
_BEFORE_ROSTER_KEYS = "c4e8d2a1f7b3"
_ROSTER_ROWS = {
    "compound": ("id, name, district, street, community, address, developer_name, "
                 "parking_counts_as_area, created_at",
                 [(1, "甲小区", "区", "街道", "社区", "", "开发商", False, "2026-12-01 00:00:00"),
                  (2, "乙小区", "区", "街道", "社区", "", "开发商", False, "2026-12-01 00:00:00")]),
    "building": ("id, compound_id, name", [(10, 1, "1栋"), (20, 2, "1栋")]),
    "owner": ("id, compound_id, kind, name, id_hash, id_last4, phone",
              [(100, 1, "person", "张三", None, None, "13800000001"),
               (101, 1, "person", "李四", None, None, "13800000002"),
               (200, 2, "person", "王五", None, None, "13800000003")]),
    "unit": ("id, compound_id, building_id, entrance, room, area_hundredths, area_source, usage, "
             "status",
             [(1000, 1, 10, "1", "101", 8950, "register", "住宅", "delivered"),
              (1001, 1, 10, "1", "102", 9000, "register", "住宅", "delivered"),
              (2000, 2, 20, "", "101", 10000, "register", "住宅", "delivered")]),
    "unit_owner": ("compound_id, unit_id, owner_id",
                   [(1, 1000, 100), (1, 1000, 101), (1, 1001, 100), (2, 2000, 200)]),
    "voting_subject": ("id, compound_id, key, kind, area_hundredths, unit_count, "
                       "representative_owner_id",
                       [(5000, 1, "o:100,101", "owners", 8950, 1, 101),
                        (5001, 1, "o:100", "owners", 9000, 1, 100),
                        (6000, 2, "o:200", "owners", 10000, 1, 200)]),
    "unit_subject": ("compound_id, unit_id, subject_id",
                     [(1, 1000, 5000), (1, 1001, 5001), (2, 2000, 6000)]),
}


def _insert(conn, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:  # type: ignore[no-untyped-def]
    names = [c.strip() for c in columns.split(",")]
    conn.execute(
        text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + n for n in names)})"),
        [dict(zip(names, row, strict=True)) for row in rows],
    )


def _roster_snapshot(engine) -> dict[str, list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return {
            table: sorted(tuple(r) for r in conn.execute(
                text(f"SELECT {columns} FROM {table}")).all())
            for table, (columns, _) in _ROSTER_ROWS.items() if table != "compound"
        }


def _rosters_before_the_keys(url: str):  # type: ignore[no-untyped-def]
    """A database migrated to just before the compound-consistent keys, holding two rosters."""
    cfg = _config(url)
    command.upgrade(cfg, _BEFORE_ROSTER_KEYS)
    engine = make_engine(url)
    with engine.begin() as conn:
        for table, (columns, rows) in _ROSTER_ROWS.items():
            _insert(conn, table, columns, rows)
    return cfg, engine


def test_roster_keys_migration_keeps_rows_up_and_down(fresh_url: str) -> None:
    """The compound-consistent keys migrate a database holding rosters, and migrate back."""
    cfg, engine = _rosters_before_the_keys(fresh_url)
    try:
        before = _roster_snapshot(engine)
        command.upgrade(cfg, _ROSTER_KEYS)
        assert _roster_snapshot(engine) == before
        with engine.connect() as conn:
            uniques = {u["name"] for u in inspect(conn).get_unique_constraints("unit")}
            keys = {fk["name"]: fk["constrained_columns"]
                    for fk in inspect(conn).get_foreign_keys("unit_owner")}
        assert "uq_unit_compound_id_id" in uniques
        assert keys == {"fk_unit_owner_compound_id_unit": ["compound_id", "unit_id"],
                        "fk_unit_owner_compound_id_owner": ["compound_id", "owner_id"]}
        # Now the database itself refuses a link from compound 1 to compound 2's owner.
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _insert(conn, "unit_owner", "compound_id, unit_id, owner_id", [(1, 1001, 200)])
        command.downgrade(cfg, _BEFORE_ROSTER_KEYS)
        assert _roster_snapshot(engine) == before
        with engine.connect() as conn:
            keys = {fk["name"] for fk in inspect(conn).get_foreign_keys("unit_owner")}
        assert keys == {"fk_unit_owner_compound_id_compound", "fk_unit_owner_unit_id_unit",
                        "fk_unit_owner_owner_id_owner"}
        command.upgrade(cfg, "head")
        assert _roster_snapshot(engine) == before
    finally:
        engine.dispose()


def test_roster_keys_migration_refuses_a_cross_compound_row(fresh_url: str) -> None:
    """A link that already points into another compound stops the upgrade, which says what."""
    cfg, engine = _rosters_before_the_keys(fresh_url)
    try:
        with engine.begin() as conn:
            # Allowed before: each column's own foreign key is satisfied.
            _insert(conn, "unit_owner", "compound_id, unit_id, owner_id", [(1, 1001, 200)])
        with pytest.raises(RuntimeError, match="unit_owner -> owner: 1"):
            command.upgrade(cfg, _ROSTER_KEYS)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() \
                == _BEFORE_ROSTER_KEYS
    finally:
        engine.dispose()
