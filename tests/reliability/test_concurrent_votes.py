"""Concurrent votes through the real server (uvicorn over HTTP; two workers on PostgreSQL).

Duplicates: one owner's token sends N votes for one subject at once. Changing one's vote is
allowed during the period (DOMAIN §3), so with the per-subject submission limit turned off every
one of the N requests is answered 201 with its own receipt: they are applied one after another
(the subject row's lock on PostgreSQL, the write lock on SQLite) and the one applied last, with
the highest audit sequence, is the single effective vote. With the product's default limit
(`GONGJUE_VOTES_PER_SUBJECT_PER_MINUTE`, 10), exactly that many are accepted and the requests
over the limit are refused with a clean 429 `rate_limited` (nothing written). Requests beyond a
process's session cap wait on its event loop; none is refused for load.

Distinct subjects: N owners vote at once; all are accepted, and the chain stays one line.

Paper and online at once: the committee confirms a subject's paper ballot while the owner votes
online; whichever lands first counts, the other is refused 409 `vote_conflict` and recorded as a
conflict for the committee (one effective vote plus one conflict row).
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.audit.canonical import canonical_json
from app.config import get_settings
from tests.reliability import live
from tests.reliability.live import Live, Sent


async def _duplicates(base_url: str, w: Live, n: int) -> list[Sent]:
    voter = w.world.voters[0]
    return list(await asyncio.gather(*[
        live.vote_once(base_url, w, voter.token, voter.subject_id, w.choices(i % 3))
        for i in range(n)
    ]))


def _check_duplicates(engine: Engine, tmp_path: Path, n: int, *, limited: bool) -> None:
    w = live.seed_live(subjects=3)
    server = live.start_server(engine, tmp_path, extra_env=None if limited else live.NO_VOTE_LIMIT)
    try:
        sent = live.run(_duplicates(server.base_url, w, n))
    finally:
        server.stop()
    accepted = [s for s in sent if s.status == 201]
    refused = [s for s in sent if s.status != 201]
    limit = get_settings().votes_per_subject_per_minute
    if limited:
        assert all(s.status == 429 and s.body["error"] == "rate_limited" for s in refused), \
            [s.body for s in refused if s.status != 429][:3]
        # Counted under the subject's lock (PostgreSQL) or the write lock (SQLite): exact,
        # across both server processes.
        assert len(accepted) == limit
    else:
        assert live.statuses(sent) == {201: n}, [s.body for s in refused][:3]
    sid = w.world.voters[0].subject_id
    with Session(engine) as session:
        state = live.check_votes(session, w)
        assert live.check_acknowledged(state, sent) == len(accepted)
        assert len(state.casts) == len(accepted)  # every accepted submission is kept; no other
        assert len({s.body["audit_seq"] for s in accepted}) == len(accepted)
        last = max(accepted, key=lambda s: s.body["audit_seq"])
        subject = state.subjects[sid]
        assert subject.effective_cast_id == last.body["cast_id"]
        effective = [c for c in state.casts.values() if c.superseded_at is None]
        assert [c.id for c in effective] == [last.body["cast_id"]]
        assert effective[0].choices_json == canonical_json(last.choices)
        # Exactly one subject voted (the progress page counts one).
        assert [s for s in state.subjects.values() if s.effective_cast_id] == [subject]
        actions = [e.action for e in state.events.values() if e.action.startswith("vote.")]
        assert actions.count("vote.cast") == 1
        assert actions.count("vote.changed") == len(accepted) - 1
    print(f"\n{n} duplicates ({'default limit' if limited else 'no limit'}): "
          f"{live.statuses(sent)}; one effective vote, cast {last.body['cast_id']}")


def test_100_concurrent_changes_of_one_vote_leave_the_last_effective(
    engine: Engine, tmp_path: Path
) -> None:
    _check_duplicates(engine, tmp_path, 100, limited=False)


@pytest.mark.heavy
def test_1000_concurrent_changes_of_one_vote_leave_the_last_effective(
    engine: Engine, tmp_path: Path
) -> None:
    _check_duplicates(engine, tmp_path, 1000, limited=False)


def test_100_concurrent_duplicates_under_the_default_limit(engine: Engine, tmp_path: Path) -> None:
    _check_duplicates(engine, tmp_path, 100, limited=True)


@pytest.mark.heavy
def test_1000_concurrent_duplicates_under_the_default_limit(engine: Engine, tmp_path: Path) -> None:
    _check_duplicates(engine, tmp_path, 1000, limited=True)


# --- distinct subjects ---------------------------------------------------------------------------


async def _distinct(base_url: str, w: Live) -> list[Sent]:
    return list(await asyncio.gather(*[
        live.vote_once(base_url, w, v.token, v.subject_id, w.choices(i))
        for i, v in enumerate(w.world.voters)
    ]))


def _check_distinct(engine: Engine, tmp_path: Path, n: int) -> None:
    w = live.seed_live(subjects=n)
    with Session(engine) as session:
        seq_before = live.check_chain(session, w.cid)[-1].seq
    server = live.start_server(engine, tmp_path)
    try:
        sent = live.run(_distinct(server.base_url, w))
    finally:
        server.stop()
    assert live.statuses(sent) == {201: n}, [s.body for s in sent if s.status != 201][:3]
    with Session(engine) as session:
        state = live.check_votes(session, w)
        assert live.check_acknowledged(state, sent) == n
        assert len(state.casts) == n
        assert sum(1 for s in state.subjects.values() if s.effective_cast_id) == n
        # The n votes took the n sequence numbers after the seeding's, one each, in one line.
        assert sorted(s.body["audit_seq"] for s in sent) == list(range(seq_before + 1, seq_before + n + 1))
        assert max(state.events) == seq_before + n
        assert all(e.action == "vote.cast" for seq, e in state.events.items() if seq > seq_before)
    print(f"\n{n} distinct owners at once: {live.statuses(sent)}; sequence numbers "
          f"{seq_before + 1}..{seq_before + n} all taken once")


def test_200_distinct_owners_voting_at_once_all_accepted(engine: Engine, tmp_path: Path) -> None:
    _check_distinct(engine, tmp_path, 200)


@pytest.mark.heavy
def test_2000_distinct_owners_voting_at_once_all_accepted(engine: Engine, tmp_path: Path) -> None:
    _check_distinct(engine, tmp_path, 2000)


# --- paper and online for the same subject -------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


async def _paper_race(base_url: str, w: Live, subjects: int) -> tuple[list[Sent], list[dict]]:
    voters = w.world.voters[:subjects]
    async with live.async_client(base_url, 2) as client:
        r = await client.post(f"{live.API}/compounds/{w.cid}/files", headers=w.committee,
                              data={"purpose": "paper_ballot"},
                              files={"file": ("scan.png", io.BytesIO(PNG), "image/png")})
        assert r.status_code == 201, r.text
        scan = r.json()["id"]
        entries = []
        for v in voters:  # typed in by one member; the second member's confirmation races below
            r = await client.post(w.url("/paper"), headers=w.committee, json={
                "subject_id": v.subject_id, "choices": w.choices(1), "scan_file_id": scan})
            assert r.status_code == 201, r.text
            entries.append(r.json()["id"])


    async def confirm(entry_id: int) -> dict:
        conn = live.connection(base_url)
        try:
            status, body = await live.post_json(conn, w.url(f"/paper/{entry_id}/confirm"),
                                                w.committee2_token, None)
        finally:
            conn.close()
        return {"entry_id": entry_id, "status": status, "body": body}

    tasks = []
    for v, entry_id in zip(voters, entries, strict=True):
        tasks.append(live.vote_once(base_url, w, v.token, v.subject_id, w.choices(0)))
        tasks.append(confirm(entry_id))
    done = await asyncio.gather(*tasks)
    return [d for d in done if isinstance(d, Sent)], [d for d in done if isinstance(d, dict)]


def test_paper_confirmation_and_online_vote_at_once_leave_one_vote_and_a_conflict(
    engine: Engine, tmp_path: Path
) -> None:
    n = 30
    w = live.seed_live(subjects=n)
    server = live.start_server(engine, tmp_path)
    try:
        online, confirms = live.run(_paper_race(server.base_url, w, n))
    finally:
        server.stop()
    for s in online:
        assert s.status == 201 or (s.status == 409 and s.body["error"] == "vote_conflict"), s.body
    for c in confirms:
        assert c["status"] == 200 or (c["status"] == 409 and c["body"]["error"] == "vote_conflict"), c
    with Session(engine) as session:
        state = live.check_votes(session, w)
        live.check_acknowledged(state, online)
        entries = {e.id: e for e in live.paper_entries(session, w)}
        conflicts = {c.subject_id: c for c in state.conflicts}
        assert len(state.conflicts) == n  # one per subject
        for s, c in zip(online, confirms, strict=True):
            sid = s.subject_id
            entry = entries[c["entry_id"]]
            assert entry.subject_id == sid and entry.confirmed_at is not None
            subject = state.subjects[sid]
            conflict = conflicts[sid]
            assert conflict.existing_cast_id == subject.effective_cast_id
            effective = state.casts[subject.effective_cast_id or 0]
            # Exactly one of the two was accepted; the other is the recorded conflict.
            assert (s.status == 201) != (c["status"] == 200), (s.status, c["status"])
            if s.status == 201:
                assert effective.channel == "online" and effective.id == s.body["cast_id"]
                assert conflict.incoming_channel == "paper"
                assert conflict.incoming_paper_entry_id == entry.id and entry.cast_id is None
            else:
                assert effective.channel == "paper" and entry.cast_id == effective.id
                assert effective.paper_entry_id == entry.id
                assert conflict.incoming_channel == "online"
                assert json.loads(conflict.incoming_choices_json) == s.choices
            # One cast for the subject in all, and the conflict is on the audit trail.
            assert [x.id for x in state.casts.values() if x.subject_id == sid] == [effective.id]
        recorded = [e for e in state.events.values() if e.action == "vote.conflict_recorded"]
        assert sorted(json.loads(e.payload)["subject_id"] for e in recorded) == sorted(conflicts)
    online_won = sum(1 for s in online if s.status == 201)
    print(f"\npaper vs online for {n} subjects: online first {online_won}, paper first "
          f"{n - online_won}; {len(state.conflicts)} conflicts recorded")
