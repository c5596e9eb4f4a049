"""The databases a run measures: a fresh SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class BenchDatabase:
    kind: str  # "sqlite" | "postgres"
    url: str
    workers: int  # uvicorn worker processes serving it

    def engine(self) -> Engine:
        from app.db import make_engine

        return make_engine(self.url)


def sqlite_database(run_dir: Path) -> BenchDatabase:
    path = run_dir / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    # One worker: SQLite has one writer at a time whatever the number of processes.
    return BenchDatabase("sqlite", f"sqlite:///{path}", workers=1)


def postgres_database(server_url: str, name: str, workers: int = 2) -> BenchDatabase:
    """Drop and create `name` (it must contain "bench") on the server."""
    import psycopg

    if "bench" not in name:
        raise ValueError(f"refusing to recreate {name!r}: bench databases contain 'bench'")
    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return BenchDatabase("postgres", f"{server_url.rstrip('/')}/{name}", workers=workers)


def drop_postgres(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_schema(engine: Engine) -> None:
    """The tables as the models declare them (the same schema `alembic upgrade head` builds)."""
    from sqlmodel import SQLModel

    from app.models import load_all_models

    load_all_models()
    SQLModel.metadata.create_all(engine)


def version(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return str(conn.execute(text("SHOW server_version")).scalar_one())
        return str(conn.execute(text("SELECT sqlite_version()")).scalar_one())


def settings(engine: Engine) -> dict[str, Any]:
    """The database settings that matter for the figures."""
    if engine.dialect.name != "postgresql":
        return {"journal_mode": "wal", "synchronous": "full", "driver": f"sqlite3 {sqlite3.sqlite_version}"}
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in ("synchronous_commit", "fsync", "shared_buffers", "max_connections"):
            out[name] = conn.execute(text(f"SHOW {name}")).scalar_one()
    return out


def analyze(engine: Engine) -> None:
    """PostgreSQL: planner statistics for the rows just loaded, as autovacuum would have gathered
    them in the days the bench's history pretends have passed (the ballots opened yesterday and
    closed weeks ago). Without them the plans depend on whether autovacuum happened to run during
    the measurements: the tally's reference join once ran for more than nine minutes on a loaded
    machine for want of them. SQLite gathers none unless told, in the bench as in a deployment."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
