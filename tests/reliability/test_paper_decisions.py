"""Deciding a paper ballot twice at once, and a second-channel vote that reaches the chain after
the close: deterministic interleavings in process, on SQLite and PostgreSQL.

* Two committee members confirm (or one confirms, one rejects) the same typed-in paper ballot at
  the same moment: the first decision stands, the second is told it was already decided; no
  spurious paper-vs-paper conflict, no overwritten confirmer.
* An owner votes online for a flat already voted on paper, while the committee closes the ballot:
  the submission is either recorded as a conflict before the close or refused after it, never
  recorded as a conflict after `ballot.closed`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app import clock
from app.audit.service import Actor
from app.auth.models import Role, RoleGrant, UserAccount
from app.db import new_session, transaction
from app.errors import DomainError
from app.files import service as files_service
from app.voting import casting, results
from app.voting import service as voting_service
from app.voting.models import Ballot, PaperEntry, VoteCast, VoteConflict
from tests.reliability import live
from tests.reliability.live import Live

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _committee(session: Session, w: Live, n: int) -> list[int]:
    """The compound's committee members' ids, adding members until there are `n`."""
    ids = list(session.execute(select(RoleGrant.user_id).where(
        RoleGrant.compound_id == w.cid, RoleGrant.role == Role.COMMITTEE).order_by(RoleGrant.id)
    ).scalars())
    while len(ids) < n:
        user = UserAccount(username=f"member{len(ids)}-{w.cid}", display_name="业委会委员")
        session.add(user)
        session.flush()
        session.add(RoleGrant(compound_id=w.cid, user_id=user.id or 0, role=Role.COMMITTEE))
        ids.append(user.id or 0)
    return ids


def _enter(w: Live, entrant: int, subject_id: int) -> int:
    with transaction() as session:
        ballot = session.get(Ballot, w.bid)
        assert ballot is not None
        actor = Actor(user_id=entrant, role="committee")
        scan = files_service.store_file(session, compound_id=w.cid, data=PNG, file_name="scan.png",
                                        content_type="image/png", purpose="paper_ballot", actor=actor)
        entry = casting.enter_paper(session, ballot=ballot, subject_id=subject_id,
                                    raw_choices=w.choices(1), scan_file_id=scan.id or 0, actor=actor)
        return entry.id or 0


Decide = Callable[[Session, Ballot, int, Actor], Any]


def _confirm(session: Session, ballot: Ballot, entry_id: int, actor: Actor) -> Any:
    return casting.confirm_paper(session, ballot=ballot, entry_id=entry_id, actor=actor)


def _reject(session: Session, ballot: Ballot, entry_id: int, actor: Actor) -> Any:
    return casting.reject_paper(session, ballot=ballot, entry_id=entry_id, reason="字迹无法辨认",
                                actor=actor)


@pytest.mark.parametrize("second", [_confirm, _reject], ids=["confirm", "reject"])
def test_two_members_deciding_one_paper_ballot_at_once(engine: Engine, second: Decide) -> None:
    """The first member's confirmation is held uncommitted (it holds the flat's lock) while a
    second member confirms or rejects the same entry; the second must wait, then see that the
    entry was decided. Before the entry was re-read under the lock, on PostgreSQL the second
    confirmation recorded a paper-vs-paper conflict and overwrote the confirmer."""
    w = live.seed_live(subjects=2)
    subject_id = w.world.voters[0].subject_id
    with transaction() as session:
        entrant, first, other = _committee(session, w, 3)
    entry_id = _enter(w, entrant, subject_id)

    outcome: dict[str, Any] = {}

    def second_member() -> None:
        try:
            with transaction() as session:
                ballot = session.get(Ballot, w.bid)
                assert ballot is not None
                second(session, ballot, entry_id, Actor(user_id=other, role="committee"))
            outcome["second"] = "done"
        except DomainError as exc:
            outcome["second"] = (exc.status, exc.code)

    with transaction() as session:
        ballot = session.get(Ballot, w.bid)
        assert ballot is not None
        _confirm(session, ballot, entry_id, Actor(user_id=first, role="committee"))
        t = threading.Thread(target=second_member)
        t.start()
        time.sleep(0.5)  # the second member now waits for the flat's lock (or SQLite's)
        assert "second" not in outcome, "the second decision did not wait for the first"
    t.join(timeout=60)
    assert outcome["second"] == (409, "paper_already_decided"), outcome
    with Session(engine) as session:
        entry = session.get(PaperEntry, entry_id)
        assert entry is not None
        assert entry.confirmed_by == first and entry.rejected_at is None
        casts = list(session.execute(select(VoteCast).where(VoteCast.ballot_id == w.bid)).scalars())
        assert [c.paper_entry_id for c in casts] == [entry_id]
        conflicts = session.execute(select(func.count()).select_from(VoteConflict).where(
            VoteConflict.ballot_id == w.bid)).scalar_one()
        assert conflicts == 0
        live.check_chain(session, w.cid)


def test_second_channel_vote_reaching_the_chain_after_the_close_is_refused_not_kept(
    engine: Engine,
) -> None:
    """A flat voted on paper; its owner then votes online, passes the period check and is held
    at the flat's lock while the ballot closes. Let go, the submission must either be a conflict
    recorded before `ballot.closed` (SQLite: the close waits for the vote's write lock) or be
    refused 409 with nothing kept (PostgreSQL: the close commits while the vote is held)."""
    w = live.seed_live(subjects=2)
    voter = w.world.voters[0]
    with transaction() as session:
        entrant, confirmer = _committee(session, w, 2)
    entry_id = _enter(w, entrant, voter.subject_id)
    with transaction() as session:
        ballot = session.get(Ballot, w.bid)
        assert ballot is not None
        _confirm(session, ballot, entry_id, Actor(user_id=confirmer, role="committee"))
        ends_at = ballot.ends_at
    frozen = clock.FrozenClock(ends_at - timedelta(minutes=1))
    clock.set_now(frozen)

    outcome: dict[str, Any] = {}

    def vote() -> None:
        # As the request's session does: a refusal marked keep_changes commits what it recorded.
        session = new_session(write=True)
        try:
            ballot = session.get(Ballot, w.bid)
            user = session.get(UserAccount, voter.user_id)
            assert ballot is not None and user is not None
            casting.cast_vote(session, ballot=ballot, subject_id=voter.subject_id, user=user,
                              raw_choices=w.choices(0))
            session.commit()
        except DomainError as exc:
            outcome["error"] = (exc.status, exc.code)
            session.commit() if exc.keep_changes else session.rollback()
        finally:
            session.close()

    def close() -> None:
        with transaction() as session:
            ballot = voting_service.get_ballot(session, compound_id=w.cid, ballot_id=w.bid, lock=True)
            results.close_ballot(session, ballot=ballot, actor=Actor(user_id=confirmer, role="committee"))
        outcome["closed"] = True

    def period_over() -> None:
        frozen.current = ends_at + timedelta(seconds=1)

    live.close_while_vote_is_held(engine, vote=vote, close=close, before_close=period_over)
    assert outcome.get("closed") is True, outcome
    with Session(engine) as session:
        events = live.check_chain(session, w.cid)
        closed_seq = [e.seq for e in events if e.action == "ballot.closed"
                      and e.object_id == str(w.bid)]
        conflict_seqs = [e.seq for e in events if e.action == "vote.conflict_recorded"]
        conflicts = list(session.execute(
            select(VoteConflict).where(VoteConflict.ballot_id == w.bid)).scalars())
    assert len(closed_seq) == 1
    if live.is_postgres(engine):
        assert outcome["error"] == (409, "vote_outside_period"), outcome
        assert conflicts == [] and conflict_seqs == []
    else:
        assert outcome["error"] == (409, "vote_conflict"), outcome
        assert len(conflicts) == 1 and len(conflict_seqs) == 1
    assert all(seq < closed_seq[0] for seq in conflict_seqs)
