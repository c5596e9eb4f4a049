"""A naive vote endpoint with a hash chain, as plain as a tutorial would write it.

The bench runs it next to Gongjue in the same run (bench/workloads/naive.py) as the yardstick for
a vote: FastAPI + SQLModel, sync endpoints, a bearer JWT read per request (the user is loaded
from the database, as in FastAPI's security tutorial), one vote row and one audit row whose hash
chains to the previous row, appended under a lock: `pg_advisory_xact_lock` on PostgreSQL, the
write lock of `BEGIN IMMEDIATE` on SQLite (SQLAlchemy's documented pysqlite recipe).

    NAIVE_DATABASE_URL=postgresql+psycopg://… NAIVE_SECRET_KEY=… uvicorn bench.naive:app --workers 2

It checks nothing else: no voting period, no roster, no receipts, no second vote replacing the
first. It imports nothing from `app/`.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from jose import JWTError, jwt
from sqlalchemy import event, text
from sqlmodel import Field, Session, SQLModel, create_engine, select

DATABASE_URL = os.environ.get("NAIVE_DATABASE_URL", "sqlite:///./naive.db")
SECRET_KEY = os.environ.get("NAIVE_SECRET_KEY", "change-me-change-me-change-me-change-me")
ALGORITHM = "HS256"
GENESIS = "0" * 64

if DATABASE_URL.startswith("sqlite"):
    engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # let BEGIN below open the transaction
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")
else:
    # With SQLAlchemy's default pool (5 + 10) the tutorial's pattern stalls under 64 clients: a
    # session keeps its connection across FastAPI's thread hops, so requests waiting for a
    # connection fill the 40 worker threads while those holding one wait for a thread (QueuePool
    # timeout after 30 s; bench/PROFILE.md §1, §10). 25 per process cannot stall at 64 clients
    # (it would take 25 + 40 requests in one process) and stays well under max_connections.
    engine = create_engine(DATABASE_URL, pool_size=25, max_overflow=0)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    phone: str


class Vote(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int
    user_id: int
    choices: str
    created_at: datetime


class AuditRow(SQLModel, table=True):
    seq: int = Field(primary_key=True)
    vote_id: int
    payload: str
    prev_hash: str
    hash: str


class VoteIn(SQLModel):
    ballot_id: int
    choices: dict[str, str]


class VoteOut(SQLModel):
    vote_id: int
    seq: int
    hash: str


def get_session():  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(session: SessionDep, authorization: Annotated[str, Header()] = "") -> User:
    try:
        payload = jwt.decode(authorization.removeprefix("Bearer "), SECRET_KEY, algorithms=[ALGORITHM])
    except JWTError:
        raise HTTPException(status_code=401, detail="Could not validate credentials") from None
    user = session.get(User, int(payload["sub"]))
    if user is None:
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

app = FastAPI()


@app.post("/votes", status_code=201)
def vote(body: VoteIn, user: CurrentUser, session: SessionDep) -> VoteOut:
    if engine.dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(1)"))  # type: ignore[call-overload]
    last = session.exec(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
    vote = Vote(ballot_id=body.ballot_id, user_id=user.id or 0,
                choices=json.dumps(body.choices, sort_keys=True), created_at=datetime.now(UTC))
    session.add(vote)
    session.flush()
    prev_hash = last.hash if last else GENESIS
    payload = json.dumps({"vote_id": vote.id, "user_id": user.id, "choices": body.choices}, sort_keys=True)
    row = AuditRow(seq=(last.seq + 1) if last else 1, vote_id=vote.id or 0, payload=payload,
                   prev_hash=prev_hash, hash=hashlib.sha256((prev_hash + payload).encode()).hexdigest())
    session.add(row)
    out = VoteOut(vote_id=vote.id or 0, seq=row.seq, hash=row.hash)
    session.commit()
    return out


def create_tables_and_users(count: int) -> None:
    """Run by the bench before the server starts (`python -m bench.naive setup 64`)."""
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([User(id=i, phone=f"1390000{i:04d}") for i in range(1, count + 1)])
        session.commit()


def create_access_token(user_id: int) -> str:
    from datetime import timedelta

    expire = datetime.now(UTC) + timedelta(minutes=30)
    return str(jwt.encode({"sub": str(user_id), "exp": expire}, SECRET_KEY, algorithm=ALGORITHM))


def verify_chain() -> dict[str, int | bool]:
    """Every row's hash follows from the previous one (`python -m bench.naive verify`)."""
    with Session(engine) as session:
        rows = session.exec(select(AuditRow).order_by(AuditRow.seq)).all()
        votes = len(session.exec(select(Vote.id)).all())
    prev, ok = GENESIS, True
    for i, row in enumerate(rows, start=1):
        ok = ok and row.seq == i and row.prev_hash == prev and \
            row.hash == hashlib.sha256((prev + row.payload).encode()).hexdigest()
        prev = row.hash
    return {"rows": len(rows), "votes": votes, "ok": ok}


if __name__ == "__main__":
    import sys

    if sys.argv[1] == "setup":
        create_tables_and_users(int(sys.argv[2]))
    else:
        print(json.dumps(verify_chain()))
