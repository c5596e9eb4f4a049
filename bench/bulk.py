"""Loading rows in bulk: COPY on PostgreSQL, executemany on SQLite, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # stored as the app's UTCDateTime does: naive UTC text
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    return value


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert tuples in column order."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = driver.cursor()
    try:
        cursor.executemany(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
            ([_sqlite_value(v) for v in row] for row in rows),
        )
    finally:
        cursor.close()


def next_id(session: Session, table: str) -> int:
    return int(session.execute(text(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')).scalar_one())


def sync_sequence(session: Session, table: str) -> None:
    """After inserting explicit ids on PostgreSQL, move the serial past them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
        ))
