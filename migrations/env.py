"""Alembic environment: the database URL comes from GONGJUE_DATABASE_URL (app settings)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from app.config import get_settings
from app.db import make_engine, normalize_url
from app.models import load_all_models

load_all_models()
target_metadata = SQLModel.metadata
config = context.config


def _url() -> str:
    return normalize_url(config.attributes.get("database_url") or get_settings().database_url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
        compare_type=True, dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True,
        compare_type=True,
    )
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        # Batch mode rebuilds a SQLite table by copy, drop and rename, and dropping a table that
        # other rows refer to fails while foreign keys are enforced. They are off while migrating
        # (set on the driver's connection: SQLite ignores the pragma inside a transaction), and
        # every key is checked before the migration commits.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:10]}")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
