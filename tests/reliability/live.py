"""Shared helpers of the reliability tests: the real server, seeded ballots, and database checks.

The tests run `python -m uvicorn app.main:create_app --factory` (bench/server.py) against the test
database, with the test process's settings (secret, signing key), so that bearer tokens minted
here are accepted there exactly like the ones login issues, and checkpoints signed there verify
here. PostgreSQL runs two worker processes (cross-process behaviour); SQLite runs one (it has one
writer whatever the number of processes, as the bench does).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event, select
from sqlmodel import Session

from app.audit.canonical import GENESIS_HASH, canonical_json
from app.audit.models import AuditChainHead, AuditEvent
from app.audit.service import verify_compound
from app.audit.signing import signing_key
from app.auth.models import Role, RoleGrant, UserAccount
from app.config import get_settings
from app.db import transaction
from app.voting.models import (
    Ballot,
    BallotSubject,
    EffectiveChoice,
    PaperEntry,
    VoteCast,
    VoteConflict,
)
from bench import seed
from bench.loadgen import Connection, encode
from bench.server import Server

API = "/api/v1"
OK = (200, 201)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def workers_for(engine: Engine) -> int:
    return 2 if is_postgres(engine) else 1


def server_env(tmp_path: Path) -> dict[str, str]:
    """The server's environment: this process's GONGJUE_* settings (set by tests/conftest.py).

    The signing key is created here first, so that two workers never race to create it.
    """
    settings = get_settings()
    signing_key()  # creates the key file if missing
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("GONGJUE_")})
    env.update({
        "GONGJUE_DATABASE_URL": settings.database_url,
        "GONGJUE_SECRET_KEY": settings.secret_key,
        "GONGJUE_ID_HASH_KEY": settings.id_hash_key,
        "GONGJUE_SIGNING_KEY_PATH": str(settings.signing_key_path),
        "GONGJUE_ENV": settings.env,
        "GONGJUE_SMS_PROVIDER": "console",
        "GONGJUE_DEMO_DATA": "false",
        "GONGJUE_FILES_DIR": str(tmp_path / "files"),
        "GONGJUE_FRONTEND_DIST": str(tmp_path / "no-frontend"),
    })
    return env


# The per-subject limit on vote submissions (counted on the subject row, app/voting/casting.py) turned off, for tests that
# need many writes from a bounded number of seeded owners.
NO_VOTE_LIMIT = {"GONGJUE_VOTES_PER_SUBJECT_PER_MINUTE": "0"}


def start_server(engine: Engine, tmp_path: Path, name: str = "server",
                 extra_env: dict[str, str] | None = None) -> Server:
    """Start the real server (returns once every worker answers); stop it with .stop()."""
    log = tmp_path / f"{name}.log"
    env = {**server_env(tmp_path), **(extra_env or {})}
    server = Server(env=env, workers=workers_for(engine), log_path=log)
    return server.__enter__()


def last_error(server: Server, chars: int = 4000) -> str:
    """The end of the server's log from its last traceback (for an unexpected answer)."""
    text = server.log_text()
    at = text.rfind("Traceback")
    return text[at:][:chars] if at >= 0 else text[-chars:]


# --- seeding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    """A compound with an open three-matter ballot and a minted token per owner."""

    world: seed.CastWorld
    committee2_token: str

    @property
    def cid(self) -> int:
        return self.world.compound_id

    @property
    def bid(self) -> int:
        return self.world.ballot_id

    def url(self, path: str = "") -> str:
        return f"{API}/compounds/{self.cid}/ballots/{self.bid}{path}"

    def choices(self, variant: int) -> dict[str, str]:
        return seed.choices_json(self.world.matter_ids, variant)

    @property
    def committee(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.committee_token}"}

    @property
    def committee2(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.committee2_token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seed_live(subjects: int) -> Live:
    """`subjects` owners (one flat, one phone each, all with accounts) and a ballot open now.

    The roster goes through the real import and the ballot through the services (with the clock
    moved back 16 days: bench/seed.py), so the server sees a ballot in its voting period.
    """
    world = seed.seed_cast_world(subjects=subjects, voters=subjects)
    with transaction() as session:
        second = UserAccount(username=f"committee2-{world.compound_id}", display_name="业委会委员二")
        session.add(second)
        session.flush()
        session.add(RoleGrant(compound_id=world.compound_id, user_id=second.id or 0,
                              role=Role.COMMITTEE))
        second_id = second.id or 0
    return Live(world=world, committee2_token=seed.mint_access_token(second_id))


def async_client(base_url: str, connections: int) -> httpx.AsyncClient:
    """An httpx client for the few requests that are not part of a flood (uploads, the close)."""
    return httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(300.0, connect=60.0),
    )


def connection(base_url: str) -> Connection:
    """One keep-alive HTTP/1.1 connection (bench/loadgen.py's client). Floods of votes use one
    per request in flight: with thousands in flight, httpx's pool costs this process more CPU
    than the server spends (its pool is scanned per request), and the test would measure that."""
    host, port = base_url.removeprefix("http://").split(":")
    return Connection(host, int(port))


@dataclass
class Sent:
    """One request and its answer (status None: no answer, e.g. the server was killed)."""

    subject_id: int
    choices: dict[str, Any]
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def acknowledged(self) -> bool:
        return self.status in OK


async def post_json(conn: Connection, path: str, token: str, body: dict[str, Any] | None
                    ) -> tuple[int, dict[str, Any]]:
    payload = encode(conn.host, conn.port, "POST", path, {"Authorization": f"Bearer {token}"},
                     None if body is None else json.dumps(body))
    status, data = await conn.request(payload)
    return status, json.loads(data) if data else {}


async def post_vote(conn: Connection, live: Live, token: str, subject_id: int,
                    choices: dict[str, Any]) -> Sent:
    """Send one vote on `conn`; connection errors propagate (OSError, IncompleteReadError)."""
    sent = Sent(subject_id=subject_id, choices=choices)
    sent.status, sent.body = await post_json(conn, live.url("/votes"), token,
                                             {"subject_id": subject_id, "choices": choices})
    return sent


async def vote_once(base_url: str, live: Live, token: str, subject_id: int,
                    choices: dict[str, Any]) -> Sent:
    """One vote on its own connection (for floods: every request in flight at once)."""
    conn = connection(base_url)
    try:
        return await post_vote(conn, live, token, subject_id, choices)
    finally:
        conn.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- checks on the database ---------------------------------------------------------------------


def check_chain(session: Session, compound_id: int) -> list[AuditEvent]:
    """Sequence numbers 1..N without a gap, each event linked to the one before (no fork), the
    head row pointing at the last event, and the verifier (checkpoints included) satisfied."""
    events = list(session.execute(
        select(AuditEvent).where(AuditEvent.compound_id == compound_id).order_by(AuditEvent.seq)
    ).scalars())
    assert events, "the compound has no audit events"
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "sequence numbers have gaps"
    previous = GENESIS_HASH
    for e in events:
        assert e.prev_hash == previous, f"event {e.seq} does not follow event {e.seq - 1}"
        previous = e.hash
    assert len({e.hash for e in events}) == len(events)
    head = session.get(AuditChainHead, compound_id)
    assert head is not None and (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    report = verify_compound(session, compound_id=compound_id)
    assert report["ok"], report
    assert report["events"] == len(events)
    return events


@dataclass(frozen=True)
class BallotState:
    casts: dict[int, VoteCast]
    subjects: dict[int, BallotSubject]
    events: dict[int, AuditEvent]  # by seq
    conflicts: list[VoteConflict]


def check_votes(session: Session, live: Live) -> BallotState:
    """Nothing half-written: every cast has its audit event (same receipt, same commitment) and
    is either the subject's one effective vote or superseded by a later cast; each subject's
    casts form one line; the effective choice rows are exactly the effective cast's choices."""
    events = {e.seq: e for e in check_chain(session, live.cid)}
    casts = {c.id or 0: c for c in session.execute(
        select(VoteCast).where(VoteCast.ballot_id == live.bid)).scalars()}
    subjects = {s.subject_id: s for s in session.execute(
        select(BallotSubject).where(BallotSubject.ballot_id == live.bid)).scalars()}
    by_subject: dict[int, list[VoteCast]] = defaultdict(list)
    for cast in casts.values():
        assert cast.audit_seq is not None and cast.audit_hash, f"cast {cast.id} has no audit event"
        event = events[cast.audit_seq]
        assert event.hash == cast.audit_hash and event.object_id == str(cast.id)
        assert event.action in ("vote.cast", "vote.changed")
        payload = json.loads(event.payload)
        assert payload["receipt_code"] == cast.receipt_code
        assert payload["commitment"] == cast.commitment
        assert payload["subject_id"] == cast.subject_id
        by_subject[cast.subject_id].append(cast)
    assert sum(1 for e in events.values() if e.action in ("vote.cast", "vote.changed")
               and json.loads(e.payload).get("ballot_id") == live.bid) == len(casts)
    choice_rows: dict[int, dict[str, str]] = defaultdict(dict)
    for row in session.execute(
            select(EffectiveChoice).where(EffectiveChoice.ballot_id == live.bid)).scalars():
        choice_rows[row.subject_id][str(row.matter_id)] = row.choice
    for sid, subject in subjects.items():
        line = sorted(by_subject.get(sid, []), key=lambda c: c.audit_seq or 0)
        if not line:
            assert subject.effective_cast_id is None and sid not in choice_rows
            continue
        assert subject.effective_cast_id == line[-1].id, f"subject {sid}: effective is not the last"
        assert subject.effective_channel == line[-1].channel
        assert line[-1].superseded_at is None
        for older, newer in pairwise(line):
            assert older.superseded_by_id == newer.id, f"subject {sid}: casts fork"
            payload = json.loads(events[newer.audit_seq or 0].payload)
            assert payload["supersedes_cast_id"] == older.id
        assert json.loads(line[-1].choices_json) == choice_rows[sid], f"subject {sid}: choices"
    assert set(by_subject) <= set(subjects)
    conflicts = list(session.execute(
        select(VoteConflict).where(VoteConflict.ballot_id == live.bid)).scalars())
    return BallotState(casts=casts, subjects=subjects, events=events, conflicts=conflicts)


def check_acknowledged(state: BallotState, sent: Iterable[Sent]) -> int:
    """Every 2xx answer's cast is stored, with the receipt, sequence and hash it was given."""
    count = 0
    for s in sent:
        if not s.acknowledged:
            continue
        cast = state.casts.get(s.body["cast_id"])
        assert cast is not None, f"acknowledged cast {s.body['cast_id']} is missing"
        assert cast.receipt_code == s.body["receipt_code"]
        assert (cast.audit_seq, cast.audit_hash) == (s.body["audit_seq"], s.body["audit_hash"])
        assert cast.subject_id == s.subject_id
        assert cast.choices_json == canonical_json(s.choices)
        count += 1
    return count


def statuses(sent: Iterable[Sent]) -> dict[Any, int]:
    return dict(Counter(s.status for s in sent))


def ballot(session: Session, live: Live) -> Ballot:
    found = session.get(Ballot, live.bid)
    assert found is not None
    return found


def paper_entries(session: Session, live: Live) -> list[PaperEntry]:
    return list(session.execute(
        select(PaperEntry).where(PaperEntry.ballot_id == live.bid)).scalars())


# --- a vote held at its flat's lock while the committee closes the ballot --------------------------


def close_while_vote_is_held(
    engine: Engine, *, vote: Callable[[], None], close: Callable[[], None],
    before_close: Callable[[], None],
) -> bool:
    """Run `vote` in a thread and hold it at its first statement on `ballot_subject` (after its
    period check, before it writes anything); then call `before_close` (e.g. move the clock past
    the period's end), run `close` in another thread, let the vote go and wait for both.

    Returns whether the close finished while the vote was still held: on PostgreSQL the held vote
    has no lock the close needs, so it must; on SQLite the vote's transaction holds the write lock,
    so the close waits for it (given 3 s to show that it does).
    """
    held, release = threading.Event(), threading.Event()
    voter_thread: list[threading.Thread] = []

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if (threading.current_thread() in voter_thread and "FROM ballot_subject" in statement
                and not held.is_set()):
            held.set()
            release.wait(timeout=60)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        v = threading.Thread(target=vote)
        voter_thread.append(v)
        v.start()
        assert held.wait(timeout=60), "the vote never reached the flat's lock"
        before_close()
        c = threading.Thread(target=close)
        c.start()
        c.join(timeout=60 if is_postgres(engine) else 3)
        closed_while_held = not c.is_alive()
        release.set()
        v.join(timeout=60)
        c.join(timeout=60)
    finally:
        release.set()
        event.remove(engine, "before_cursor_execute", hold)
    return closed_while_held
