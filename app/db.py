"""Engines, sessions and column types shared by every domain.

Database access is synchronous on purpose: SQLite's driver is synchronous anyway, SQLAlchemy's
sync ORM is the mature path, and FastAPI runs sync endpoints in its thread pool, so a request
holds one connection for one short transaction. The vote path is benchmarked against that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from app.config import get_settings

WRITE = {"sqlite_immediate": True}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; use app.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver must not open transactions itself; the "begin" hook below does.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # FULL: each commit syncs the WAL to disk before it returns, so an acknowledged vote
        # survives a power loss or an OS crash, not only a killed process (NORMAL could lose
        # the last commits then). Costs one fsync per write transaction (~2 ms here).
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred BEGIN that later writes fails with
        # SQLITE_BUSY at once under concurrency, whatever the busy timeout.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""
    settings = get_settings()
    url = normalize_url(url or settings.database_url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=settings.db_pool_size,
            max_overflow=20,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=20, pool_pre_ping=True
    )


_engine: Engine | None = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine()
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Swap the process engine (tests point it at their database)."""
    global _engine
    _engine = engine


def new_session(*, write: bool) -> Session:
    engine = get_engine()
    bind = engine.execution_options(**WRITE) if write else engine
    return Session(bind=bind, expire_on_commit=False)


@contextmanager
def transaction(*, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = new_session(write=write)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def compress_large_values_quickly(session: Session) -> None:
    """Large text values this transaction writes are compressed with lz4 instead of PostgreSQL's
    default pglz, when the server has lz4 (a 50,000-unit roster preview stores 8.7 MB of JSON:
    0.03 s of server CPU instead of 0.14 s). Reading them back needs nothing: each value records
    its own method. Nothing on SQLite, which does not compress."""
    if is_postgres(session):
        session.execute(text(
            "SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
            "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"))


def str_enum(enum_cls: type) -> SAEnum:
    """Store an enum as its string value in a VARCHAR (no native PostgreSQL enum types)."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=30,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one table: COPY on PostgreSQL, the driver's executemany on SQLite."""
    from enum import Enum

    if not rows:
        return
    if not is_postgres(session):
        session.execute(table.insert(), rows)
        return
    # psycopg runs an executemany as one protocol round per row and parses long multi-row
    # VALUES statements slowly; COPY streams the rows inside the same transaction instead.
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(
        f'COPY "{table.name}" ({names}) FROM STDIN'
    ) as copy:
        for row in rows:
            copy.write_row([v.value if isinstance(v, Enum) else v for v in map(row.get, columns)])


def bulk_insert_rows(session: Session, table: Any, columns: Sequence[str],
                     rows: Iterable[Sequence[Any]]) -> None:
    """Insert many rows given as tuples in `columns` order, each value already as stored (an
    enum as its `.value`): COPY on PostgreSQL, the sqlite3 driver's own executemany on SQLite.
    No per-row dictionaries and no per-value type processing: for the 50,000-row tables of a
    roster import."""
    _insert_rows(session.connection(), table, columns, rows)


def _insert_rows(connection: Connection, table: Any, columns: Sequence[str],
                 rows: Iterable[Sequence[Any]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(
            f'COPY "{table.name}" ({names}) FROM STDIN'
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    rows = list(rows)
    if rows:
        marks = ", ".join("?" * len(columns))
        insert = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # nosec B608 - model names only
        connection.exec_driver_sql(insert, rows)


class BackgroundInserts:
    """Bulk inserts (as `bulk_insert_rows`) written one after another by a worker thread while
    the caller goes on. On PostgreSQL the server checks a COPY's foreign keys when the COPY
    ends, row by row; the caller would otherwise wait idle for that, then build the next rows
    while the server idles. Same transaction, same rows, same order.

    The session's connection belongs to the worker from the first `insert` until `wait()`
    returns: the caller runs no statement in between. Leaving the `with` block waits too, also
    when the block raises (the transaction is never rolled back under a running insert); the
    first insert that fails is raised by `wait()`, and the inserts queued after it are skipped.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._failed = False

    def insert(self, table: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Queue the rows' insert; `rows` is consumed by the worker (it may be a generator of
        plain data, never one that uses the session)."""
        connection = self._session.connection()  # taken here: the session is this thread's
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-insert")
        self._pending.append(self._pool.submit(self._run, connection, table, columns, rows))

    def _run(self, connection: Connection, table: Any, columns: Sequence[str],
             rows: Iterable[Sequence[Any]]) -> None:
        if self._failed:  # the transaction is lost already: what follows is not sent
            return
        try:
            _insert_rows(connection, table, columns, rows)
        except BaseException:
            self._failed = True
            raise

    def wait(self) -> None:
        """Return when every queued insert is written; raise the first one that failed."""
        pending, self._pending = self._pending, []
        error: BaseException | None = None
        for future in pending:
            try:
                future.result()
            except BaseException as exc:  # the first is raised below
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> BackgroundInserts:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.wait()
            else:
                with suppress(BaseException):  # the block's own error is the one to report
                    self.wait()
        finally:
            self.close()


def reserve_ids(session: Session, table: Any, count: int) -> list[int]:
    """Primary keys for `count` new rows of `table` (an integer `id`), known before the rows are
    written, so a bulk insert needs no read-back of what it wrote. PostgreSQL takes them from
    the table's own sequence in one statement; SQLite continues after the highest id (a write
    transaction holds the database's only write lock from BEGIN IMMEDIATE to its end, so no
    other writer can take them; SQLite numbers a new row the same way)."""
    if count <= 0:
        return []
    if is_postgres(session):
        # The sequence is looked up once (MATERIALIZED): per row, its lookup cost ten times the
        # nextval itself.
        ids = session.execute(
            text("WITH s AS MATERIALIZED "
                 "(SELECT pg_get_serial_sequence(:table, 'id')::regclass AS seq) "
                 "SELECT array_agg(nextval(s.seq)) FROM s, generate_series(1, :count)"),
            {"table": table.name, "count": count},
        ).scalar_one()
        return list(ids)
    top = session.execute(text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"')).scalar_one()  # nosec B608 - model names only
    return list(range(int(top) + 1, int(top) + 1 + count))
