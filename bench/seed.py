"""Loading the data: compounds, rosters, owners' accounts, ballots open now, fully voted ballots.

Ballot histories are built in this process with the clock moved (as app/voting/demo.py does), so
the server, whose clock is real, sees a ballot that is open now or one that ended in the past.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app import calendar, clock
from app.audit.canonical import GENESIS_HASH, canonical_json
from app.audit.service import SYSTEM, Actor
from app.auth import tokens
from app.auth.models import Role, RoleGrant, UserAccount
from app.db import transaction
from app.notify.models import OutboxMessage, OutboxStatus
from app.roster import importer
from app.roster import service as roster_service
from app.roster.models import Building
from app.voting import service as voting_service
from app.voting.casting import short_receipt_code
from app.voting.models import Ballot, BallotMatter, BallotVoter
from app.voting.service import MatterSpec
from app.voting.settings import frozen_settings_json, get_settings
from bench import bulk, rosterfile

MATTERS = (
    MatterSpec(title="调整物业服务收费标准（住宅由每月2.20元/㎡调整为2.50元/㎡）", category="9"),
    MatterSpec(title="利用地面共有车位设置新能源汽车充电桩并收取场地使用费", category="8"),
    MatterSpec(title="使用专项维修资金维修外墙（预算28.6万元）", category="5"),
)


@dataclass(frozen=True)
class Voter:
    user_id: int
    subject_id: int
    phone: str
    token: str


@dataclass(frozen=True)
class CastWorld:
    compound_id: int
    ballot_id: int
    matter_ids: tuple[int, ...]
    subjects: int
    committee_token: str
    voters: tuple[Voter, ...]  # the closed loop's owners, one connection each
    owners: tuple[Voter, ...] = ()  # the open loop's owners: other flats, one vote each in turn


def mint_access_token(user_id: int, version: int = 0, method: tokens.AuthMethod = "pwd") -> str:
    """A bearer token exactly as login issues it (signed with the deployment's secret): "pwd" for
    staff (username and password), "otp" for owners (phone and one-time code)."""
    token, _claims = tokens.issue(user_id, version, "access", secrets.token_urlsafe(24), method=method)
    return token


def _midnight(day_offset: int, at: datetime) -> datetime:
    return calendar.start_of_day(calendar.local_day(at) + timedelta(days=day_offset))


def create_compound(name: str) -> tuple[int, int]:
    """A compound and a committee member (no password: the bench mints tokens); ids."""
    with transaction() as session:
        compound = roster_service.create_compound(
            session, name=name, district="朝阳区", street="和平街道", community="幸福社区",
            developer_name="基准置业有限公司", actor=SYSTEM,
        )
        member = UserAccount(username=f"bench-committee-{compound.id}", display_name="业委会委员（基准）")
        session.add(member)
        session.flush()
        session.add(RoleGrant(compound_id=compound.id or 0, user_id=member.id or 0, role=Role.COMMITTEE))
        return compound.id or 0, member.id or 0


def import_roster(compound_id: int, content: bytes, file_name: str, actor_id: int) -> tuple[float, float, float]:
    """Preview and apply a roster file, each in its own transaction as over HTTP.

    Returns the seconds of each and this process's CPU seconds for both.
    """
    import time

    actor = Actor(user_id=actor_id, role=Role.COMMITTEE.value)
    c0 = time.process_time()
    t0 = time.perf_counter()
    with transaction() as session:
        record = importer.create_preview(session, compound_id=compound_id, content=content,
                                         file_name=file_name, uploaded_by=actor_id)
        import_id = record.id or 0
    t1 = time.perf_counter()
    with transaction() as session:
        importer.apply_import(session, compound_id=compound_id, import_id=import_id, actor=actor)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, time.process_time() - c0


def seed_cast_world(*, subjects: int, voters: int, owners: int = 0) -> CastWorld:
    """A compound of `subjects` owners (one flat each) and a three-matter ballot open now, with
    signed-in accounts for `voters` owners and for `owners` more (other flats)."""
    compound_id, committee_id = create_compound("基准花园")
    rows = rosterfile.roster_rows(subjects, seed=10, phone_prefix="139", co_owned_share=0.0,
                                  unsold_share=0.0)
    import_roster(compound_id, rosterfile.to_csv(rows), "roster.csv", committee_id)  # (times unused)
    actor = Actor(user_id=committee_id, role=Role.COMMITTEE.value)
    real_now = datetime.now(UTC)
    frozen = clock.FrozenClock(real_now - timedelta(days=16))
    clock.set_now(frozen)
    try:
        with transaction() as session:
            ballot = voting_service.create_ballot(
                session, compound_id=compound_id, title="2026年第三次业主大会（基准）",
                description="基准测试用表决。", starts_at=_midnight(15, frozen.current),
                ends_at=_midnight(22, frozen.current), scope_building_ids=[], actor=actor,
                matters=list(MATTERS))
            voting_service.publish_notice(session, ballot=ballot, actor=actor)
            frozen.current = ballot.starts_at + timedelta(hours=8)
            voting_service.open_ballot(session, ballot=ballot, actor=actor)
            ballot_id = ballot.id or 0
            matter_ids = tuple(session.execute(
                select(BallotMatter.id).where(BallotMatter.ballot_id == ballot_id)
                .order_by(BallotMatter.position)).scalars())
    finally:
        clock.set_now(None)
    delivered_announcements(compound_id, at=frozen.current)
    with transaction() as session:
        picked = session.execute(
            select(BallotVoter.subject_id, BallotVoter.phone)
            .where(BallotVoter.ballot_id == ballot_id, BallotVoter.is_representative,
                   BallotVoter.phone.is_not(None))
            .order_by(BallotVoter.subject_id).limit(voters + owners)
        ).all()
        accounts = [UserAccount(phone=phone, display_name="业主（基准）") for _sid, phone in picked]
        session.add_all(accounts)
        session.flush()
        people = [Voter(user_id=a.id or 0, subject_id=sid, phone=phone, token=mint_access_token(a.id or 0, method="otp"))
                  for a, (sid, phone) in zip(accounts, picked, strict=True)]
    return CastWorld(compound_id=compound_id, ballot_id=ballot_id, matter_ids=matter_ids,
                     subjects=subjects, committee_token=mint_access_token(committee_id),
                     voters=tuple(people[:voters]), owners=tuple(people[voters:]))


def delivered_announcements(compound_id: int, *, at: datetime) -> int:
    """Mark the compound's queued SMS (the opening announcement to every owner) as sent at `at`.

    The ballot opened yesterday in the bench's history, so its 10,000 announcements went out then;
    left queued, the server's outbox worker would deliver them during the measurements (the console
    sender is instant, so one commit per message, thousands per minute, beside the votes).
    """

    with transaction() as session:
        done = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.compound_id == compound_id, OutboxMessage.status == OutboxStatus.QUEUED)
            .values(status=OutboxStatus.SENT, attempts=1, last_attempt_at=at, finished_at=at,
                    last_outcome="sent", provider="console")
        )
        return int(done.rowcount or 0)


# --- fully voted ballots for the tally ----------------------------------------------------------


@dataclass(frozen=True)
class TallyBallot:
    ballot_id: int
    subjects: int
    committee_id: int
    compound_id: int


def seed_tally_ballot(*, compound_id: int, committee_id: int, subjects: int, seed: int) -> TallyBallot:
    """A three-matter ballot that ended 18 days ago with every one of `subjects` subjects voted.

    The draft and its notice go through the services; the frozen roster, the casts and the
    effective choices are loaded in bulk, as opening and voting would have left them.
    """
    actor = Actor(user_id=committee_id, role=Role.COMMITTEE.value)
    real_now = datetime.now(UTC)
    frozen = clock.FrozenClock(real_now - timedelta(days=40))
    clock.set_now(frozen)
    try:
        with transaction() as session:
            ballot = voting_service.create_ballot(
                session, compound_id=compound_id, title=f"{subjects}户表决（基准）", description="",
                starts_at=_midnight(15, frozen.current), ends_at=_midnight(22, frozen.current),
                scope_building_ids=[], actor=actor, matters=list(MATTERS))
            voting_service.publish_notice(session, ballot=ballot, actor=actor)
            ballot_id = ballot.id or 0
            opened_at = ballot.starts_at + timedelta(hours=8)
            matter_ids = list(session.execute(
                select(BallotMatter.id).where(BallotMatter.ballot_id == ballot_id)
                .order_by(BallotMatter.position)).scalars())
            settings_json = frozen_settings_json(get_settings(session, compound_id=compound_id))
    finally:
        clock.set_now(None)

    rng = random.Random(seed)
    with transaction() as session:
        buildings = list(session.execute(
            select(Building.id).where(Building.compound_id == compound_id)).scalars())
        if not buildings:
            session.add_all([Building(compound_id=compound_id, name=f"{i}栋") for i in range(1, 41)])
            session.flush()
            buildings = list(session.execute(
                select(Building.id).where(Building.compound_id == compound_id)).scalars())
        first_cast = bulk.next_id(session, "vote_cast")
        subject_rows, cast_rows, choice_rows = [], [], []
        choice_texts: dict[tuple[str, ...], str] = {}
        total_area = 0
        for sid in range(1, subjects + 1):
            area = rng.randint(5500, 16000)
            total_area += area
            building = buildings[(sid - 1) * len(buildings) // subjects]
            cast_id = first_cast + sid - 1
            voted_at = opened_at + timedelta(seconds=sid * 5 % (6 * 86400))
            picks = []
            for mid in matter_ids:
                roll = rng.random()
                choice = "agree" if roll < 0.7 else "oppose" if roll < 0.9 else "abstain"
                picks.append(choice)
                choice_rows.append((ballot_id, mid, sid, compound_id, choice))
            key = tuple(picks)
            if key not in choice_texts:  # 27 combinations: canonicalize each once
                choice_texts[key] = canonical_json({str(m): c for m, c in zip(matter_ids, key, strict=True)})
            nonce = f"{seed:08x}{sid:024x}"
            commitment = hashlib.sha256(f"{ballot_id}:{sid}:{nonce}".encode()).hexdigest()
            subject_rows.append((ballot_id, sid, compound_id, area, f"{sid}号", f"[{building}]",
                                 False, cast_id, "online", voted_at))
            cast_rows.append((cast_id, compound_id, ballot_id, sid, "online", voted_at,
                              choice_texts[key], nonce, commitment, commitment[:32],
                              short_receipt_code(commitment[:32])))
        bulk.insert_rows(session, "vote_cast", (
            "id", "compound_id", "ballot_id", "subject_id", "channel", "cast_at", "choices_json",
            "nonce", "commitment", "receipt_code", "receipt_short"), cast_rows)
        bulk.sync_sequence(session, "vote_cast")
        bulk.insert_rows(session, "ballot_subject", (
            "ballot_id", "subject_id", "compound_id", "area_hundredths", "label", "building_ids",
            "is_developer", "effective_cast_id", "effective_channel", "first_voted_at"), subject_rows)
        bulk.insert_rows(session, "effective_choice", (
            "ballot_id", "matter_id", "subject_id", "compound_id", "choice"), choice_rows)
        session.execute(update(Ballot).where(Ballot.id == ballot_id).values(
            opened_at=opened_at, total_area_hundredths=total_area, total_headcount=subjects,
            settings_json=settings_json))
    return TallyBallot(ballot_id=ballot_id, subjects=subjects, committee_id=committee_id,
                       compound_id=compound_id)


# --- a long audit chain ---------------------------------------------------------------------------


def audit_chain_records(compound_id: int, events: int, start: datetime) -> list[tuple]:
    """A valid chain of vote events (columns of audit_event without id), hashed as the app does.

    Payloads are written out already canonical (keys sorted) to keep generation quick.
    """
    from app.audit.canonical import event_digest

    rows = []
    prev = GENESIS_HASH
    base = int(start.timestamp() * 1_000_000)
    for seq in range(1, events + 1):
        digest_in = hashlib.sha256(seq.to_bytes(8, "big")).hexdigest()
        payload = (f'{{"ballot_id":{1 + seq // 100_000},"channel":"online","commitment":"{digest_in}",'
                   f'"paper_entry_id":null,"proxy_id":null,"receipt_code":"{digest_in[:32]}",'
                   f'"subject_id":{seq % 100_000},"supersedes_cast_id":null}}')
        micros = base + seq * 37_000
        occurred_at = (datetime.fromtimestamp(micros // 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
                       + f".{micros % 1_000_000:06d}Z")
        actor = 1000 + seq % 5000
        h = event_digest(compound_id, seq, occurred_at, actor, "owner", "vote.cast", "vote_cast",
                         str(seq), payload, prev)
        rows.append((compound_id, seq, occurred_at, actor, "owner", "vote.cast", "vote_cast",
                     str(seq), payload, prev, h))
        prev = h
    return rows


def load_audit_chain(compound_id: int, rows: list[tuple]) -> None:
    """Replace the compound's chain with `rows` and point its head at the last one."""
    from app.audit.models import AuditChainHead, AuditEvent

    with transaction() as session:
        session.execute(AuditEvent.__table__.delete().where(AuditEvent.compound_id == compound_id))
        bulk.insert_rows(session, "audit_event", (
            "compound_id", "seq", "occurred_at", "actor_user_id", "actor_role", "action",
            "object_type", "object_id", "payload", "prev_hash", "hash"), rows)
        head = session.get(AuditChainHead, compound_id)
        seq, digest = rows[-1][1], rows[-1][10]
        if head is None:
            session.add(AuditChainHead(compound_id=compound_id, seq=seq, hash=digest))
        else:
            head.seq, head.hash = seq, digest
            session.add(head)


def choices_json(matter_ids: tuple[int, ...], variant: int) -> dict[str, str]:
    options = ("agree", "oppose", "abstain")
    return {str(m): options[(variant + i) % 3] for i, m in enumerate(matter_ids)}


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
