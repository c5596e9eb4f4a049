"""Closing a ballot while owners vote: no vote is accepted after the close is recorded.

A vote checks the voting period on the ballot row it read first, then writes its cast and
appends its audit event, which waits for the compound's chain head. The close appends
`ballot.closed` under the same head lock and tallies in the same transaction. So the order of
the two audit events decides: a vote acknowledged with a lower sequence than `ballot.closed` is
in the tally; a vote that reaches the head after the close must be refused (409).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text, update
from sqlmodel import Session

from app import clock
from app.audit.service import Actor
from app.auth.models import Role, RoleGrant, UserAccount
from app.db import transaction
from app.errors import DomainError
from app.voting import casting, results
from app.voting import service as voting_service
from app.voting.models import Ballot, BallotResult, EffectiveChoice, VoteCast
from tests.reliability import live
from tests.reliability.live import Live, Sent


def _closed_seq(session: Session, w: Live) -> int:
    """The sequence number of the ballot's `ballot.closed` event."""
    state_events = live.check_chain(session, w.cid)
    closed = [e.seq for e in state_events if e.action == "ballot.closed"
              and e.object_id == str(w.bid)]
    assert len(closed) == 1
    return closed[0]


def _check_tally_matches_effective_votes(session: Session, w: Live) -> None:
    """The stored result of every matter counts exactly the effective choices left in the database
    (so nothing changed them after the tally), per choice, by headcount."""
    counts: dict[int, dict[str, int]] = {}
    for row in session.execute(
            select(EffectiveChoice).where(EffectiveChoice.ballot_id == w.bid)).scalars():
        counts.setdefault(row.matter_id, {}).setdefault(row.choice, 0)
        counts[row.matter_id][row.choice] += 1
    stored = {r.matter_id: json.loads(r.result_json) for r in session.execute(
        select(BallotResult).where(BallotResult.ballot_id == w.bid)).scalars()}
    assert set(stored) == set(w.world.matter_ids)
    for matter_id, result in stored.items():
        mine = counts.get(matter_id, {})
        for choice in ("agree", "oppose", "abstain"):
            assert result[f"{choice}_headcount"] == mine.get(choice, 0), (matter_id, choice, result)


# --- one vote held after its period check while the committee closes -----------------------------


def test_vote_held_after_its_period_check_while_the_ballot_closes_is_refused_or_counted(
    engine: Engine,
) -> None:
    """Deterministic interleaving, in process: a vote passes the period check and is held at its
    first lock (the subject row), before it writes anything, while the period ends and the
    ballot closes; then it is let go. It must either have been recorded before the close (lower
    sequence, in the tally) or be refused 409: never land after `ballot.closed`. On SQLite the
    vote already holds the database's write lock, so the close waits for it and counts it; on
    PostgreSQL the close commits while the vote is held, so the vote must be refused (before
    the fix in casting._record_cast it was stored after the close, missing from the tally)."""
    w = live.seed_live(subjects=3)
    voter = w.world.voters[0]
    with Session(engine) as session:
        ends_at = live.ballot(session, w).ends_at
    frozen = clock.FrozenClock(ends_at - timedelta(minutes=1))
    clock.set_now(frozen)

    outcome: dict[str, Any] = {}

    def vote() -> None:
        _vote(w, voter, outcome)

    def close() -> None:
        with transaction() as session:
            ballot = voting_service.get_ballot(session, compound_id=w.cid, ballot_id=w.bid,
                                               lock=True)
            results.close_ballot(session, ballot=ballot,
                                 actor=Actor(user_id=_committee_id(session, w), role="committee"))
        outcome["closed"] = True

    def period_over() -> None:
        frozen.current = ends_at + timedelta(seconds=1)  # the period is over: the close may run

    closed_while_held = live.close_while_vote_is_held(engine, vote=vote, close=close,
                                                      before_close=period_over)
    if live.is_postgres(engine):
        assert closed_while_held, "the close waited for the held vote"
    assert outcome.get("closed") is True, outcome
    with Session(engine) as session:
        closed_seq = _closed_seq(session, w)
        casts = list(session.execute(select(VoteCast).where(VoteCast.ballot_id == w.bid)).scalars())
        live.check_votes(session, w)
        _check_tally_matches_effective_votes(session, w)
    if "error" in outcome:
        assert outcome["error"][0] == 409, outcome
        assert casts == []  # refused: nothing of it remains
    else:
        assert outcome["seq"] < closed_seq, outcome  # recorded before the close, counted
        assert [c.id for c in casts] == [outcome["cast_id"]]
    if engine.dialect.name == "postgresql":
        # The close committed while the vote was held: the vote can only have been refused.
        assert "error" in outcome, outcome


def test_vote_arriving_while_the_close_tallies_is_refused(engine: Engine) -> None:
    """The close has locked the ballot, appended `ballot.closed` and is tallying (its transaction
    open) when a vote that passed its period check just before the end goes on to write. The vote
    must wait (PostgreSQL: its cast's reference to the ballot waits for the close's row lock, and
    its audit append would wait for the chain lock; SQLite: the write lock) and, once the close
    commits, be refused: stored after the close it would be missing from the tally."""
    w = live.seed_live(subjects=3)
    voter = w.world.voters[0]
    with Session(engine) as session:
        ends_at = live.ballot(session, w).ends_at
    frozen = clock.FrozenClock(ends_at + timedelta(seconds=1))
    clock.set_now(frozen)
    appended, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def close() -> None:
        with transaction() as session:
            ballot = voting_service.get_ballot(session, compound_id=w.cid, ballot_id=w.bid, lock=True)
            results.close_ballot(session, ballot=ballot,
                                 actor=Actor(user_id=_committee_id(session, w), role="committee"))
            appended.set()
            release.wait(timeout=60)  # still tallying, holding the chain lock
        outcome["closed"] = True

    def vote() -> None:
        _vote(w, voter, outcome)

    c = threading.Thread(target=close)
    c.start()
    try:
        assert appended.wait(timeout=60)
        frozen.current = ends_at - timedelta(seconds=1)  # the vote arrived just before the end
        v = threading.Thread(target=vote)
        v.start()
        if live.is_postgres(engine):
            assert _waits_for_a_lock(engine), "the vote never waited for the chain lock"
        else:
            time.sleep(0.5)  # waiting for SQLite's write lock
        assert "cast_id" not in outcome and "error" not in outcome
    finally:
        release.set()
    c.join(timeout=60)
    v.join(timeout=60)
    assert outcome.get("closed") is True, outcome
    assert outcome.get("error") == (409, "vote_outside_period"), outcome
    with Session(engine) as session:
        assert list(session.execute(select(VoteCast).where(VoteCast.ballot_id == w.bid))) == []
        live.check_votes(session, w)
        _check_tally_matches_effective_votes(session, w)


def _waits_for_a_lock(engine: Engine) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
        if waiting:
            return True
        time.sleep(0.05)
    return False


def _vote(w: Live, voter: Any, outcome: dict[str, Any]) -> None:
    """The owner votes in one transaction; the cast (id, audit seq) or the refusal goes to `outcome`."""
    try:
        with transaction() as session:
            ballot = session.get(Ballot, w.bid)
            user = session.get(UserAccount, voter.user_id)
            assert ballot is not None and user is not None
            cast = casting.cast_vote(session, ballot=ballot, subject_id=voter.subject_id,
                                     user=user, raw_choices=w.choices(0))
            outcome["cast_id"], outcome["seq"] = cast.id, cast.audit_seq
    except DomainError as exc:
        outcome["error"] = (exc.status, exc.code)


def _committee_id(session: Session, w: Live) -> int:
    return int(session.execute(select(RoleGrant.user_id).where(
        RoleGrant.compound_id == w.cid, RoleGrant.role == Role.COMMITTEE).order_by(RoleGrant.id)
    ).scalars().first() or 0)


# --- the real server: owners keep voting while the committee closes --------------------------------


async def _vote_through_the_close(base_url: str, w: Live, ends_at: datetime, clients: int,
                                  after_close_s: float) -> tuple[list[tuple[float, Sent]], float]:
    """`clients` owners' loops vote (distinct subjects in turn) until `after_close_s` after the
    close was answered; the committee closes as soon as the period is over. Returns each vote
    with the wall time it was sent, and the wall time the close was answered."""
    voters = w.world.voters
    closed_at: list[float] = []
    votes: list[tuple[float, Sent]] = []
    counter = iter(range(10**9))

    async def owner_loop() -> None:
        conn = live.connection(base_url)
        try:
            while not closed_at or time.time() < closed_at[0] + after_close_s:
                i = next(counter)
                v = voters[i % len(voters)]
                sent_at = time.time()
                votes.append((sent_at, await live.post_vote(conn, w, v.token, v.subject_id,
                                                            w.choices(i))))
        finally:
            conn.close()

    async def committee() -> None:
        await asyncio.sleep(max(0.0, (ends_at - datetime.now(UTC)).total_seconds()))
        conn = live.connection(base_url)
        try:
            while True:
                status, body = await live.post_json(conn, w.url("/close"),
                                                    w.world.committee_token, None)
                if status == 200:
                    closed_at.append(time.time())
                    return
                assert status == 409 and body["error"] == "ballot_not_ended", body
                await asyncio.sleep(0.01)
        finally:
            conn.close()

    await asyncio.gather(committee(), *[owner_loop() for _ in range(clients)])
    return votes, closed_at[0]


def test_votes_racing_the_close_over_http(engine: Engine, tmp_path: Path) -> None:
    """Owners vote continuously through the end of the period while the committee closes."""
    w = live.seed_live(subjects=150)
    server = live.start_server(engine, tmp_path, extra_env=live.NO_VOTE_LIMIT)
    try:
        ends_at = datetime.now(UTC) + timedelta(seconds=5)
        with transaction() as session:
            session.execute(update(Ballot).where(Ballot.id == w.bid).values(ends_at=ends_at))
        votes, closed_at = live.run(_vote_through_the_close(server.base_url, w, ends_at,
                                                            clients=32, after_close_s=1.5))
    finally:
        server.stop()
    sent = [s for _t, s in votes]
    for s in sent:
        assert s.status == 201 or (s.status == 409 and s.body["error"] == "vote_outside_period"), \
            s.body
    after_close = [s for t, s in votes if t > closed_at]
    assert after_close and all(s.status == 409 for s in after_close)
    accepted = [s for s in sent if s.status == 201]
    assert accepted, "no vote was accepted before the end of the period"
    with Session(engine) as session:
        closed_seq = _closed_seq(session, w)
        state = live.check_votes(session, w)
        assert live.check_acknowledged(state, sent) == len(accepted)
        # Every acknowledged vote, and every cast stored at all, precedes the close.
        assert all(s.body["audit_seq"] < closed_seq for s in accepted)
        assert all((c.audit_seq or 0) < closed_seq for c in state.casts.values())
        assert live.ballot(session, w).closing_seq == closed_seq
        # The tally counts the effective votes, and those are the last acknowledged per subject.
        _check_tally_matches_effective_votes(session, w)
        last: dict[int, Sent] = {}
        for s in sorted(accepted, key=lambda s: s.body["audit_seq"]):
            last[s.subject_id] = s
        effective = {sid: subj.effective_cast_id for sid, subj in state.subjects.items()
                     if subj.effective_cast_id}
        assert effective == {sid: s.body["cast_id"] for sid, s in last.items()}
    print(f"\nclose race: {len(accepted)} votes acknowledged before the close, "
          f"{len(sent) - len(accepted)} refused with 409 ({len(after_close)} sent after the close "
          f"was answered); close event seq {closed_seq}")
