"""Crash safety: SIGKILL the real server under vote load, restart it, and find every vote it
acknowledged, nothing half-written, and the audit chain intact.

Each vote is one transaction (cast, effective rows, subject row and audit event together), and
the server answers only after the commit. SQLite runs in WAL mode with synchronous=FULL (every
commit is on disk before it is acknowledged, so even a power cut loses no acknowledged vote; a
killed process alone could not lose one with NORMAL either); PostgreSQL runs with its defaults
(fsync on, synchronous_commit on).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.server import Server
from tests.reliability import live
from tests.reliability.live import Live, Sent


async def _load_then_kill(server: Server, w: Live, clients: int, kill_after: int,
                          start: int) -> list[Sent]:
    """`clients` owners' loops vote (the seeded subjects in turn) until
    `kill_after` votes are acknowledged; then the server's process group gets SIGKILL while the
    other requests are in flight. Requests without an answer are kept with status None."""
    voters = w.world.voters
    sent: list[Sent] = []
    killed = asyncio.Event()
    counter = iter(range(start, 10**9))
    acknowledged = 0

    async def owner_loop() -> None:
        nonlocal acknowledged
        conn = live.connection(server.base_url)
        try:
            while not killed.is_set():
                i = next(counter)
                v = voters[i % len(voters)]
                try:
                    s = await live.post_vote(conn, w, v.token, v.subject_id, w.choices(i))
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    sent.append(Sent(subject_id=v.subject_id, choices=w.choices(i)))
                    return
                sent.append(s)
                # 429: the per-subject limit, refused. Anything else: show the server's traceback.
                assert s.status in (201, 429), (s.status, s.body, live.last_error(server))
                if s.acknowledged:
                    acknowledged += 1
                if acknowledged >= kill_after and not killed.is_set():
                    killed.set()
                    server.kill()  # SIGKILL, while the other loops' requests are in flight
        finally:
            conn.close()

    await asyncio.gather(*[owner_loop() for _ in range(clients)])
    return sent


async def _vote_once_each(base_url: str, w: Live, count: int, variant: int) -> list[Sent]:
    return list(await asyncio.gather(*[
        live.vote_once(base_url, w, v.token, v.subject_id, w.choices(variant))
        for v in w.world.voters[:count]]))


def _open_transactions(engine: Engine) -> int:
    """PostgreSQL: transactions the killed workers left open, once the server has noticed their
    connections are gone (it aborts them; within seconds)."""
    if not live.is_postgres(engine):
        return 0
    deadline = time.monotonic() + 20
    while True:
        with engine.connect() as conn:
            left = int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND (state LIKE 'idle in transaction%' OR state = 'active')")).scalar_one())
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _crash_and_recover(engine: Engine, tmp_path: Path, *, rounds: int, kill_after: int,
                       clients: int) -> None:
    w = live.seed_live(subjects=400)
    all_sent: list[Sent] = []
    for round_no in range(rounds):
        server = live.start_server(engine, tmp_path, name=f"run{round_no}")
        try:
            sent = live.run(_load_then_kill(server, w, clients, kill_after, start=len(all_sent)))
        finally:
            server.kill()  # no-op once killed; never leaves a server behind
        all_sent += sent
        acknowledged = [s for s in sent if s.acknowledged]
        unanswered = [s for s in sent if s.status is None]
        assert len(acknowledged) >= kill_after
        assert unanswered, "the kill came when no request was in flight"
        assert _open_transactions(engine) == 0
        with Session(engine) as session:
            # Nothing half-written: every cast with its audit event and effective rows, the
            # chain gapless, linked and verified; every acknowledged vote found as answered.
            state = live.check_votes(session, w)
            assert live.check_acknowledged(state, all_sent) == sum(
                1 for s in all_sent if s.acknowledged)
            found = len(state.casts)
        acked_total = sum(1 for s in all_sent if s.acknowledged)
        assert found >= acked_total
        print(f"\ncrash round {round_no + 1}: {len(sent)} requests, {len(acknowledged)} "
              f"acknowledged before SIGKILL, {len(unanswered)} unanswered; after restart "
              f"{found} casts stored in all, every one of the {acked_total} acknowledged found")

    # The restarted server takes votes again, and they chain on from the recovered head.
    server = live.start_server(engine, tmp_path, name="after")
    try:
        again = live.run(_vote_once_each(server.base_url, w, 20, variant=7))
    finally:
        server.stop()
    assert live.statuses(again) == {201: 20}, [s.body for s in again if s.status != 201][:3]
    with Session(engine) as session:
        state = live.check_votes(session, w)
        assert live.check_acknowledged(state, all_sent + again) == sum(
            1 for s in all_sent + again if s.acknowledged)
        for s in again:
            assert state.subjects[s.subject_id].effective_cast_id == s.body["cast_id"]


@pytest.mark.heavy
def test_sigkill_under_vote_load_loses_no_acknowledged_vote(engine: Engine, tmp_path: Path) -> None:
    """Two crashes in a row (the second while the recovered database takes load again); heavy
    because each round starts the real server (tens of seconds on a loaded 2-core machine)."""
    _crash_and_recover(engine, tmp_path, rounds=2, kill_after=150, clients=32)


def test_database_durability_settings(engine: Engine) -> None:
    """SQLite: WAL with synchronous=FULL (app/db.py); PostgreSQL: fsync and synchronous commit
    on (its defaults), so an acknowledged commit is on disk."""
    with engine.connect() as conn:
        if live.is_postgres(engine):
            assert conn.execute(text("SHOW fsync")).scalar_one() == "on"
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        else:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
