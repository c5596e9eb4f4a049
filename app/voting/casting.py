"""Casting votes: online, by proxy and on paper, one effective vote per subject, with receipts."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from app.audit.canonical import canonical_json
from app.audit.service import Actor, append_event, append_event_checked
from app.auth import service as auth_service
from app.auth.models import Role, UserAccount
from app.auth.roles import MANAGERS
from app.clock import now
from app.config import get_settings as get_app_settings
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooManyRequests
from app.files import service as files_service
from app.privacy import normalize_phone
from app.roster import service as roster_service
from app.roster.scope import Scope
from app.voting import rules
from app.voting.models import (
    CHANNEL_LABELS,
    Ballot,
    BallotMatter,
    BallotSubject,
    BallotVoter,
    Channel,
    EffectiveApproval,
    EffectiveChoice,
    PaperEntry,
    ProxyAuthorization,
    VoteCast,
    VoteConflict,
)
from app.voting.service import candidates_by_matter, list_matters
from app.voting.settings import ballot_rules

ONLINE_CHOICES = {rules.Choice.AGREE, rules.Choice.OPPOSE, rules.Choice.ABSTAIN}


# --- receipt codes ---------------------------------------------------------------------------
# The full receipt (32 hex digits) is in the vote's audit event. Owners keep a short code derived
# from it: its first 50 bits in Crockford's base 32 (no I, L, O, U), 10 characters shown as
# 7KQ4-M2XD-9P. Being derived, the audit trail binds the short code as it binds the receipt.

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LENGTH = 10
_SHORT_CODE_ATTEMPTS = 5
# Crockford decoding: case-insensitive, I and L read as 1, O as 0; separators are ignored.
_CROCKFORD_READ = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = str.maketrans("", "", " -_\t\u3000－—")


def short_receipt_code(receipt: str) -> str:
    """The 10-character code of a 32-hex-digit receipt: its leading 50 bits in base 32."""
    bits = int(receipt[:13], 16) >> 2  # 52 bits, keep the top 50
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(SHORT_CODE_LENGTH - 1, -1, -1))


def group_short_code(code: str) -> str:
    """7KQ4M2XD9P -> 7KQ4-M2XD-9P, as shown and printed."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalize_receipt_input(text: str) -> tuple[str, str] | None:
    """What an owner typed, as ("short", code) or ("full", hex receipt); None if it is neither.

    Any case, with or without spaces and dashes; a short code may have I/L for 1 and O for 0."""
    compact = text.strip().translate(_SEPARATORS)
    if len(compact) == 32 and all(c in "0123456789abcdefABCDEF" for c in compact):
        return "full", compact.lower()
    code = compact.upper().translate(_CROCKFORD_READ)
    if len(code) == SHORT_CODE_LENGTH and all(c in CROCKFORD for c in code):
        return "short", code
    return None


def _new_nonce() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Receipt:
    code: str
    short_code: str
    audit_seq: int
    audit_hash: str
    cast_id: int
    cast_at: str


def _require_voting_open(ballot: Ballot) -> None:
    current = now()
    if ballot.cancelled_at is not None:
        raise Conflict("该表决已取消，不能投票", code="ballot_cancelled")
    if ballot.opened_at is None or ballot.closed_at is not None:
        raise Conflict("该表决当前不在投票期内", code="vote_outside_period")
    if current < ballot.starts_at or current >= ballot.ends_at:
        raise Conflict("投票期已结束或尚未开始，不能投票", code="vote_outside_period")


def _require_not_closed(ballot: Ballot) -> None:
    if ballot.cancelled_at is not None:
        raise Conflict("该表决已取消", code="ballot_cancelled")
    if ballot.opened_at is None or ballot.closed_at is not None:
        raise Conflict("该表决未在进行中", code="ballot_not_open")


def normalize_choices(
    session: Session, *, ballot: Ballot, raw: dict[str, Any], allow_blank_and_invalid: bool,
    matters: list[BallotMatter] | None = None,
) -> dict[str, Any]:
    """Check a submission against the ballot's matters; returns canonical choices by matter id.

    Online votes answer every matter with 同意/反对/弃权 (or approve up to `seats` candidates);
    paper ballots may leave a matter blank (not taking part in it) or mark it invalid.
    `matters` may be given when the caller read them with the ballot.
    """
    if matters is None:
        matters = list_matters(session, ballot_id=ballot.id or 0)
    # Candidates matter only to elections: most ballots have none, so skip that query.
    cands = (candidates_by_matter(session, ballot_id=ballot.id or 0)
             if any(m.category == rules.Category.COMMITTEE_ELECTION.value for m in matters) else {})
    known = {str(m.id) for m in matters}
    unknown = set(raw) - known
    if unknown:
        raise Invalid("提交中包含不属于本表决的事项", code="vote_unknown_matter")
    out: dict[str, Any] = {}
    for m in matters:
        key = str(m.id)
        value = raw.get(key)
        if value is None or value == "":
            if allow_blank_and_invalid:
                continue
            raise Invalid(f"请对事项“{m.title}”作出选择", code="vote_incomplete")
        if value == rules.Choice.INVALID.value:
            if not allow_blank_and_invalid:
                raise Invalid("选择不正确", code="vote_choice_invalid")
            out[key] = value
            continue
        if m.category == rules.Category.COMMITTEE_ELECTION.value:
            # Exactly {"approve": [ids]}: no other key is dropped, and true is not candidate 1.
            approvals = value["approve"] if isinstance(value, dict) and value.keys() == {"approve"} else None
            if not isinstance(approvals, list) or not all(type(x) is int for x in approvals):
                raise Invalid(f"事项“{m.title}”须选择候选人", code="vote_choice_invalid")
            valid = {c.id for c in cands[m.id or 0]}
            chosen = sorted(set(approvals))
            if not set(chosen) <= valid:
                raise Invalid("所选候选人不属于该选举", code="vote_unknown_candidate")
            if len(chosen) > (m.seats or 0) and not allow_blank_and_invalid:
                raise Invalid(f"“{m.title}”最多可选{m.seats}名候选人",
                                  code="vote_too_many_candidates")
            out[key] = {"approve": chosen}
            continue
        try:
            choice = rules.Choice(value)
        except ValueError as exc:
            raise Invalid("选择不正确，只能是同意、反对或弃权", code="vote_choice_invalid") from exc
        if choice not in ONLINE_CHOICES:
            raise Invalid("选择不正确，只能是同意、反对或弃权", code="vote_choice_invalid")
        out[key] = choice.value
    if not out:
        raise Invalid("表决票没有任何有效内容", code="vote_empty")
    return out


def _lock_subject(session: Session, ballot: Ballot, subject_id: int) -> BallotSubject:
    stmt = select(BallotSubject).where(
        BallotSubject.ballot_id == ballot.id, BallotSubject.subject_id == subject_id
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    subject = session.execute(stmt).scalar_one_or_none()
    if subject is None:
        raise NotFound("该房屋不在本次表决范围内", code="subject_not_in_ballot")
    return subject


# --- the online vote path's statements, built once (their cache keys are then memoized) ----------

_BS = BallotSubject.__table__
_BV = BallotVoter.__table__
_CASTS = VoteCast.__table__
_EFF = EffectiveChoice.__table__
_APPROVALS = EffectiveApproval.__table__
_VOTER = select(_BV.c.id).where(_BV.c.ballot_id == bindparam("ballot_id"),
                                _BV.c.subject_id == bindparam("subject_id"),
                                _BV.c.phone == bindparam("phone"))
_SUBJECT_FOR_VOTER = select(
    _BS.c.ballot_id, _BS.c.subject_id, _BS.c.effective_cast_id, _BS.c.effective_channel,
    _BS.c.first_voted_at, _BS.c.window_started_at, _BS.c.window_submissions,
    _CASTS.c.id.label("effective_cast_read"), _CASTS.c.choices_json.label("effective_choices"),
    _VOTER.exists().label("is_voter"),
    _VOTER.where(_BV.c.is_representative).exists().label("is_representative"),
).select_from(_BS.outerjoin(_CASTS, _CASTS.c.id == _BS.c.effective_cast_id)).where(
    _BS.c.ballot_id == bindparam("ballot_id"), _BS.c.subject_id == bindparam("subject_id"))
_SUBJECT_FOR_VOTER_LOCKED = _SUBJECT_FOR_VOTER.with_for_update(of=_BS)
# The cast, unless its short code is already taken in the ballot (then no row: draw another
# nonce). The unique constraint decides, so a concurrent insert of the same code is seen too.
_INSERT_CAST = {
    "postgresql": pg_insert(_CASTS).on_conflict_do_nothing(
        index_elements=["ballot_id", "receipt_short"]).returning(_CASTS.c.id),
    "sqlite": sqlite_insert(_CASTS).on_conflict_do_nothing(
        index_elements=["ballot_id", "receipt_short"]).returning(_CASTS.c.id),
}
_EFFECTIVE_CHOICES = select(_CASTS.c.choices_json).where(_CASTS.c.id == bindparam("previous_id"))
_SUPERSEDE = (update(_CASTS).where(_CASTS.c.id == bindparam("previous_id"))
              .values(superseded_at=bindparam("at"), superseded_by_id=bindparam("cast_id"))
              .returning(_CASTS.c.choices_json))
_CAST_AUDIT = (update(_CASTS).where(_CASTS.c.id == bindparam("cast_id"))
               .values(audit_seq=bindparam("a_seq"), audit_hash=bindparam("a_hash")))
_SUBJECT_WHERE = ((_BS.c.ballot_id == bindparam("p_ballot"))
                  & (_BS.c.subject_id == bindparam("p_subject")))
_SET_EFFECTIVE: dict[tuple[bool, bool], Any] = {}
_SET_WINDOW = update(_BS).where(_SUBJECT_WHERE).values(
    window_started_at=bindparam("w_start"), window_submissions=bindparam("w_count"))
# The ballot's close as committed when the vote's audit append holds the chain lock (PostgreSQL;
# models.BALLOT_CLOSED_AT_FUNCTION): a VOLATILE function, so it is read after the wait.
_BALLOT_CLOSED_AT = func.gongjue_ballot_closed_at(bindparam("check_ballot"))


def _set_effective(first: bool, window: bool) -> Any:
    """UPDATE ballot_subject: the effective cast, and the first vote's time and/or the
    submission window when they change."""
    stmt = _SET_EFFECTIVE.get((first, window))
    if stmt is None:
        values: dict[str, Any] = {"effective_cast_id": bindparam("cast_id"),
                                  "effective_channel": bindparam("p_channel")}
        if first:
            values["first_voted_at"] = bindparam("at")
        if window:
            values["window_started_at"] = bindparam("w_start")
            values["window_submissions"] = bindparam("w_count")
        stmt = _SET_EFFECTIVE[(first, window)] = update(_BS).where(_SUBJECT_WHERE).values(**values)
    return stmt
_EFF_WHERE = (_EFF.c.ballot_id == bindparam("p_ballot")) & (_EFF.c.subject_id == bindparam("p_subject"))
_DELETE_EFF = delete(_EFF).where(_EFF_WHERE)
_DELETE_APPROVALS = delete(_APPROVALS).where(_APPROVALS.c.ballot_id == bindparam("p_ballot"),
                                             _APPROVALS.c.subject_id == bindparam("p_subject"))
_INSERT_EFF = _EFF.insert()
_INSERT_APPROVALS = _APPROVALS.insert()
_REWRITE_EFF: dict[int, Any] = {}


_INSERT_EFF_ROWS: dict[int, Any] = {}


def _insert_effective(matters: int) -> Any:
    """INSERT the `matters` effective rows of a subject's plain (no candidates) vote: one statement."""
    stmt = _INSERT_EFF_ROWS.get(matters)
    if stmt is None:
        stmt = insert(_EFF).values([
            {"ballot_id": bindparam("p_ballot"), "matter_id": bindparam(f"m{i}"),
             "subject_id": bindparam("p_subject"), "compound_id": bindparam("p_compound"),
             "choice": bindparam(f"c{i}")} for i in range(matters)])
        _INSERT_EFF_ROWS[matters] = stmt
    return stmt


def _rewrite_effective(matters: int) -> Any:
    """UPDATE effective_choice SET choice = CASE matter_id WHEN … END for `matters` matters."""
    stmt = _REWRITE_EFF.get(matters)
    if stmt is None:
        stmt = update(_EFF).where(_EFF_WHERE).values(choice=case(
            {bindparam(f"m{i}"): bindparam(f"c{i}") for i in range(matters)},
            value=_EFF.c.matter_id))
        _REWRITE_EFF[matters] = stmt
    return stmt


@dataclass
class LockedSubject:
    """A frozen subject's vote state, read with its row lock (the online path's lighter copy)."""

    ballot_id: int
    subject_id: int
    effective_cast_id: int | None
    effective_channel: str | None
    first_voted_at: Any
    window_started_at: Any = None
    window_submissions: int = 0
    effective_choices: str | None = None  # the effective cast's choices_json


# Submissions of one subject are counted in fixed windows of this length.
SUBMISSION_WINDOW = timedelta(minutes=1)


def _next_window(subject: LockedSubject) -> tuple[datetime, int]:
    """Count this submission in the subject's window, or refuse it when the window is full.

    Read from the row just locked (PostgreSQL returns the latest committed version of a row it
    locks; SQLite holds its write lock), so concurrent submissions are counted one after another
    and the limit holds exactly, across server processes.
    """
    limit = get_app_settings().votes_per_subject_per_minute
    current = now()
    start, count = subject.window_started_at, subject.window_submissions
    if start is None or current - start >= SUBMISSION_WINDOW or current < start:
        start, count = current, 0
    if limit and count >= limit:
        raise TooManyRequests("提交投票过于频繁，请一分钟后再试")
    return start, count + 1


def _lock_subject_for_voter(
    session: Session, ballot: Ballot, subject_id: int, phone: str | None
) -> tuple[LockedSubject, bool, bool]:
    """Lock the subject and read whether `phone` is one of its voters and its representative.

    One statement: the subject row (locked on PostgreSQL) with two EXISTS over its frozen voters.
    """
    locked = session.get_bind().dialect.name == "postgresql"
    row = session.connection().execute(
        _SUBJECT_FOR_VOTER_LOCKED if locked else _SUBJECT_FOR_VOTER,
        {"ballot_id": ballot.id, "subject_id": subject_id, "phone": phone or ""},
    ).first()
    if row is None:
        raise NotFound("该房屋不在本次表决范围内", code="subject_not_in_ballot")
    state = LockedSubject(ballot_id=row.ballot_id, subject_id=row.subject_id,
                          effective_cast_id=row.effective_cast_id,
                          effective_channel=row.effective_channel, first_voted_at=row.first_voted_at,
                          window_started_at=row.window_started_at,
                          window_submissions=row.window_submissions,
                          # The joined cast is read in the statement's snapshot, the locked row
                          # in its latest version (PostgreSQL, after waiting for the lock): their
                          # choices are the effective ones only when both name the same cast.
                          effective_choices=row.effective_choices
                          if row.effective_cast_read == row.effective_cast_id else None)
    return state, bool(phone) and bool(row.is_voter), bool(phone) and bool(row.is_representative)


def voter_subjects(session: Session, *, ballot: Ballot, phone: str | None) -> list[BallotVoter]:
    """The frozen subjects this phone may vote for (as sole owner or co-owners' representative)."""
    if not phone:
        return []
    return list(
        session.execute(
            select(BallotVoter).where(BallotVoter.ballot_id == ballot.id, BallotVoter.phone == phone)
        ).scalars()
    )


def _subject_proxy_ids(session: Session, *, ballot: Ballot, subject_id: int, phone: str | None) -> list[int]:
    """Accepted, not rejected proxies of this phone for this subject, oldest first."""
    if not phone:
        return []
    return list(session.execute(
        select(ProxyAuthorization.id).where(
            ProxyAuthorization.ballot_id == ballot.id, ProxyAuthorization.proxy_phone == phone,
            ProxyAuthorization.subject_id == subject_id,
            ProxyAuthorization.accepted_at.is_not(None), ProxyAuthorization.rejected_at.is_(None),
        ).order_by(ProxyAuthorization.id)
    ).scalars())


def proxy_subjects(session: Session, *, ballot: Ballot, phone: str | None) -> list[ProxyAuthorization]:
    if not phone:
        return []
    return list(
        session.execute(
            select(ProxyAuthorization).where(
                ProxyAuthorization.ballot_id == ballot.id,
                ProxyAuthorization.proxy_phone == phone,
                ProxyAuthorization.accepted_at.is_not(None),
            )
        ).scalars()
    )


@dataclass(frozen=True)
class RecordedCast:
    """A cast just stored, as its receipt needs it (the row itself is written with Core: building
    the ORM object only to answer cost the vote path more than one of its statements)."""

    id: int
    channel: Channel
    cast_at: datetime
    receipt_code: str
    receipt_short: str
    audit_seq: int
    audit_hash: str


def _record_cast(
    session: Session, *, ballot: Ballot, subject: BallotSubject | LockedSubject, channel: Channel,
    choices: dict[str, Any], actor: Actor, proxy_id: int | None = None,
    paper_entry_id: int | None = None, window: tuple[datetime, int] | None = None,
) -> RecordedCast:
    """Store the cast, make it the subject's effective vote and chain its audit event.

    `window` is the subject's submission window after this one (online and proxy votes).
    Refused, with nothing kept, when the ballot was closed before this vote reached the chain.
    """
    cast_at = now()
    choices_json = canonical_json(choices)
    # The vote's rows are written with Core statements on the session's connection, not through
    # the ORM's unit of work: the same rows, a fraction of the CPU on the path every owner takes.
    # Two statements write them: the cast's INSERT (it names the audit event, so it comes first),
    # then the audit append, which carries every other write as part of the same statement.
    conn = session.connection()
    insert_cast = _INSERT_CAST[conn.dialect.name]
    for _attempt in range(_SHORT_CODE_ATTEMPTS):
        nonce = _new_nonce()
        commitment = hashlib.sha256(
            canonical_json({"ballot_id": ballot.id, "subject_id": subject.subject_id,
                            "choices": choices, "nonce": nonce}).encode()
        ).hexdigest()
        receipt = hashlib.sha256(
            canonical_json({"ballot_id": ballot.id, "subject_id": subject.subject_id,
                            "choices": choices, "cast_at": cast_at, "nonce": nonce}).encode()
        ).hexdigest()[:32]
        short = short_receipt_code(receipt)
        # The short code owners keep must name one vote of the ballot: on the (about 2^-50 per
        # pair) chance that it is taken, nothing is inserted; draw another nonce, hence another
        # receipt.
        cast_id = conn.execute(insert_cast, {
            "compound_id": ballot.compound_id, "ballot_id": ballot.id, "subject_id": subject.subject_id,
            "channel": channel, "cast_at": cast_at, "cast_by": actor.user_id, "proxy_id": proxy_id,
            "paper_entry_id": paper_entry_id, "choices_json": choices_json, "nonce": nonce,
            "commitment": commitment, "receipt_code": receipt, "receipt_short": short,
        }).scalar_one_or_none()
        if cast_id is not None:
            break
    else:
        raise Conflict("回执码生成失败，请重新提交", code="receipt_code_exhausted")
    previous_id = subject.effective_cast_id
    # Statements that go with the audit append (on PostgreSQL: in the append's own statement).
    writes: list[tuple[Any, dict[str, Any]]] = []
    previous_choices: str | None = None
    if previous_id is not None:
        writes.append((_SUPERSEDE, {"previous_id": previous_id, "at": cast_at, "cast_id": cast_id}))
        previous_choices = (subject.effective_choices if isinstance(subject, LockedSubject) else None)
        if previous_choices is None:  # not read with the lock (paper, or a vote that waited)
            previous_choices = conn.execute(_EFFECTIVE_CHOICES, {"previous_id": previous_id}).scalar()
    writes += _replace_effective(session, ballot=ballot, subject_id=subject.subject_id,
                                 choices=choices, previous_choices=previous_choices)
    first = subject.first_voted_at is None
    writes.append((_set_effective(first, window is not None), {
        "p_ballot": subject.ballot_id, "p_subject": subject.subject_id, "cast_id": cast_id,
        "p_channel": channel.value, "at": cast_at,
        "w_start": window[0] if window else None, "w_count": window[1] if window else None}))
    writes.append((_CAST_AUDIT, {"cast_id": cast_id}))
    changes: dict[str, Any] = {"effective_cast_id": cast_id, "effective_channel": channel.value}
    if first:
        changes["first_voted_at"] = cast_at
    for name, value in changes.items():  # keep the loaded row in step, without a second write
        if isinstance(subject, BallotSubject):
            set_committed_value(subject, name, value)
        else:
            setattr(subject, name, value)
    event, closed_at = append_event_checked(
        session, compound_id=ballot.compound_id, actor=actor,
        action="vote.changed" if previous_id else "vote.cast",
        object_type="vote_cast", object_id=cast_id,
        payload={"ballot_id": ballot.id, "subject_id": subject.subject_id, "channel": channel.value,
                 "commitment": commitment, "receipt_code": receipt,
                 "supersedes_cast_id": previous_id, "proxy_id": proxy_id,
                 "paper_entry_id": paper_entry_id},
        also=writes,
        # The period was checked on the ballot row as read before any lock. Closing appends
        # `ballot.closed` under the chain lock this append now holds: a close that got there
        # first has committed and is seen here; any later close comes after this vote and
        # counts it. (PostgreSQL only; SQLite's write lock is held from the first statement.)
        check=(_BALLOT_CLOSED_AT, {"check_ballot": ballot.id}),
    )
    if closed_at is not None:
        raise _closed_meanwhile()
    return RecordedCast(id=cast_id, channel=channel, cast_at=cast_at, receipt_code=receipt,
                        receipt_short=short, audit_seq=event.seq, audit_hash=event.hash)


def _replace_effective(session: Session, *, ballot: Ballot, subject_id: int, choices: dict[str, Any],
                       previous_choices: str | None) -> list[tuple[Any, dict[str, Any]]]:
    """Make `choices` the subject's effective rows; `previous_choices` is the superseded vote's JSON.

    Returns the one statement that finishes the job, to run with the audit append: a first vote
    of plain choices inserts its rows; a change that answers the same matters without candidates
    (the online case) rewrites them with one UPDATE. Anything else deletes and inserts here.
    """
    conn = session.connection()
    mine = {"p_ballot": ballot.id, "p_subject": subject_id}
    plain = all(isinstance(v, str) for v in choices.values())
    params: dict[str, Any] = dict(mine)
    for i, (matter_id, value) in enumerate(choices.items()):
        params[f"m{i}"], params[f"c{i}"] = int(matter_id), value
    if previous_choices is not None:
        old = json.loads(previous_choices)
        if plain and old.keys() == choices.keys() and all(isinstance(v, str) for v in old.values()):
            return [(_rewrite_effective(len(choices)), params)]
        conn.execute(_DELETE_EFF, mine)
        if '"approve"' in previous_choices:
            conn.execute(_DELETE_APPROVALS, mine)
        # Not with the append: a statement may not delete and re-insert the same keys.
        if plain and choices:
            conn.execute(_insert_effective(len(choices)), {**params, "p_compound": ballot.compound_id})
            return []
    elif plain and choices:
        return [(_insert_effective(len(choices)), {**params, "p_compound": ballot.compound_id})]
    choice_rows, approval_rows = [], []
    for matter_id, value in choices.items():
        if isinstance(value, dict):
            choice_rows.append({"ballot_id": ballot.id, "matter_id": int(matter_id),
                                "subject_id": subject_id, "compound_id": ballot.compound_id,
                                "choice": "approve"})
            approval_rows += [{"ballot_id": ballot.id, "matter_id": int(matter_id),
                               "subject_id": subject_id, "candidate_id": c,
                               "compound_id": ballot.compound_id} for c in value["approve"]]
        else:
            choice_rows.append({"ballot_id": ballot.id, "matter_id": int(matter_id),
                                "subject_id": subject_id, "compound_id": ballot.compound_id,
                                "choice": value})
    if choice_rows:
        conn.execute(_INSERT_EFF, choice_rows)
    if approval_rows:
        conn.execute(_INSERT_APPROVALS, approval_rows)
    return []


def _conflict(
    session: Session, *, ballot: Ballot, subject: BallotSubject | LockedSubject, channel: Channel,
    choices: dict[str, Any], actor: Actor, proxy_id: int | None = None,
    paper_entry_id: int | None = None, window: tuple[datetime, int] | None = None,
) -> VoteConflict:
    assert subject.effective_cast_id is not None
    conflict = VoteConflict(
        compound_id=ballot.compound_id, ballot_id=ballot.id or 0, subject_id=subject.subject_id,
        existing_cast_id=subject.effective_cast_id, incoming_channel=channel,
        incoming_choices_json=canonical_json(choices), incoming_by=actor.user_id,
        incoming_proxy_id=proxy_id, incoming_paper_entry_id=paper_entry_id, created_at=now(),
    )
    session.add(conflict)
    session.flush()
    if window is not None:  # a refused second-channel vote still counts as a submission
        session.connection().execute(_SET_WINDOW, {
            "p_ballot": subject.ballot_id, "p_subject": subject.subject_id,
            "w_start": window[0], "w_count": window[1]})
    _, closed_at = append_event_checked(
        session, compound_id=ballot.compound_id, actor=actor, action="vote.conflict_recorded",
        object_type="vote_conflict", object_id=conflict.id or 0,
        payload={"ballot_id": ballot.id, "subject_id": subject.subject_id,
                 "existing_channel": subject.effective_channel, "incoming_channel": channel.value},
        # As for a vote (see _record_cast): a close that got the chain lock first is seen here,
        # and a submission that arrives after it is refused, not kept as a conflict.
        check=(_BALLOT_CLOSED_AT, {"check_ballot": ballot.id}),
    )
    if closed_at is not None:
        raise _closed_meanwhile()
    return conflict


def _closed_meanwhile() -> DomainError:
    return Conflict("该表决已关闭，不能再投票", code="vote_outside_period")


def _refuse_as_conflict(existing_channel: str | None) -> Conflict:
    label = CHANNEL_LABELS.get(Channel(existing_channel), "其他方式") if existing_channel else ""
    return Conflict(
        f"该房屋已通过{label}表决，每户只有一票有效；本次提交已记录为冲突，由业委会核实处理",
        code="vote_conflict", keep_changes=True,
    )


def cast_vote(
    session: Session, *, ballot: Ballot, subject_id: int, user: UserAccount, raw_choices: dict[str, Any],
    matters: list[BallotMatter] | None = None,
) -> RecordedCast:
    """An owner (or the co-owners' representative, or an accepted proxy) votes or changes the vote."""
    _require_voting_open(ballot)
    subject, is_voter, is_representative = _lock_subject_for_voter(session, ballot, subject_id,
                                                                   user.phone)
    # The proxy table is read only when the caller is not the owner.
    proxies = [] if is_representative else _subject_proxy_ids(
        session, ballot=ballot, subject_id=subject_id, phone=user.phone)
    if is_representative:
        channel, proxy_id, role = Channel.ONLINE, None, Role.OWNER.value
    elif proxies:
        # A proxy later made staff of the compound (committee, clerk, reviewer, observer,
        # admin) no longer votes for others.
        staff = _granted(session, user_id=user.id, compound_id=ballot.compound_id)
        if staff or user.is_platform_admin:
            raise Forbidden("您在本小区担任工作人员职务，不能作为受托人投票", code="proxy_is_staff")
        channel, proxy_id, role = Channel.PROXY, proxies[0], "proxy"
    elif is_voter:
        raise Forbidden("该房屋为多人共有，由共有人推举的代表人投票", code="not_representative")
    else:
        raise Forbidden("您不能为该房屋投票", code="not_a_voter_for_subject")
    choices = normalize_choices(session, ballot=ballot, raw=raw_choices, allow_blank_and_invalid=False,
                                matters=matters)
    actor = Actor(user_id=user.id, role=role)
    window = _next_window(subject)
    if subject.effective_channel and subject.effective_channel != channel.value:
        _conflict(session, ballot=ballot, subject=subject, channel=channel, choices=choices,
                  actor=actor, proxy_id=proxy_id, window=window)
        raise _refuse_as_conflict(subject.effective_channel)
    return _record_cast(session, ballot=ballot, subject=subject, channel=channel, choices=choices,
                        actor=actor, proxy_id=proxy_id, window=window)


def receipt_of(cast: VoteCast | RecordedCast) -> Receipt:
    from app.audit.canonical import format_time

    return Receipt(code=cast.receipt_code, short_code=group_short_code(cast.receipt_short),
                   audit_seq=cast.audit_seq or 0,
                   audit_hash=cast.audit_hash or "", cast_id=cast.id or 0,
                   cast_at=format_time(cast.cast_at))


# --- proxies ---------------------------------------------------------------------------------


def submit_proxy(
    session: Session, *, ballot: Ballot, subject_id: int, proxy_name: str, proxy_phone: str,
    document_file_id: int, actor: Actor, filer_phone: str | None,
) -> ProxyAuthorization:
    """Register a written authorization (by the owner or by the committee on their behalf).

    Checked when filed, whatever the ballot's stage: the subject is in this compound and in the
    ballot's scope, and an owner files only for a subject they vote for (sole owner or the
    co-owners' representative). The committee re-checks all of it when accepting.
    """
    if ballot.noticed_at is None or ballot.closed_at is not None or ballot.cancelled_at is not None:
        raise Conflict("只能为已公告且未结束的表决办理委托", code="proxy_ballot_state")
    phone = normalize_phone(proxy_phone)
    if phone is None:
        raise Invalid("受托人手机号格式不正确", code="invalid_phone")
    if not proxy_name.strip():
        raise Invalid("请填写受托人姓名", code="proxy_name_missing")
    _check_proxy_subject(session, ballot=ballot, subject_id=subject_id,
                         owner_phone=(filer_phone or "") if actor.role == Role.OWNER.value else None)
    document = files_service.get_file(session, compound_id=ballot.compound_id, file_id=document_file_id)
    if document.purpose != "proxy_authorization":
        raise Invalid("请上传书面委托书", code="proxy_document_missing")
    proxy = ProxyAuthorization(
        compound_id=ballot.compound_id, ballot_id=ballot.id or 0, subject_id=subject_id,
        proxy_name=proxy_name.strip(), proxy_phone=phone, document_file_id=document_file_id,
        submitted_by=actor.user_id, submitted_role=actor.role, submitted_at=now(),
    )
    session.add(proxy)
    session.flush()
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="proxy.submitted",
        object_type="proxy_authorization", object_id=proxy.id or 0,
        payload={"ballot_id": ballot.id, "subject_id": subject_id, "document_file_id": document_file_id},
    )
    return proxy


def _check_proxy_subject(session: Session, *, ballot: Ballot, subject_id: int, owner_phone: str | None) -> None:
    """The subject may vote in this ballot and, when an owner files (`owner_phone`), is theirs.

    Before opening the live roster decides; once open, the roster frozen into the ballot.
    """
    if ballot.opened_at is not None:
        if session.get(BallotSubject, (ballot.id, subject_id)) is None:
            raise NotFound("该房屋不在本次表决范围内", code="subject_not_in_ballot")
        mine = {v.subject_id for v in voter_subjects(session, ballot=ballot, phone=owner_phone)
                if v.is_representative}
    else:
        live = roster_service.subject_voters(session, compound_id=ballot.compound_id, subject_id=subject_id)
        if live is None:
            raise NotFound("该表决主体不存在", code="subject_not_found")
        if not Scope.from_json(ballot.scope_building_ids, ballot.scope_entrances).covers_any(live.places):
            raise Invalid("该房屋不在本次表决范围内", code="subject_not_in_scope")
        mine = {subject_id} if owner_phone and owner_phone in live.representative_phones else set()
    if owner_phone is not None and subject_id not in mine:
        raise Forbidden("只能为自己（或作为共有人代表）的房屋办理委托", code="not_a_voter_for_subject")


def _owner_filed(session: Session, proxy: ProxyAuthorization) -> tuple[bool, str | None]:
    """Whether an owner filed the authorization (not the committee for them), and their phone."""
    filer = auth_service.get_account(session, user_id=proxy.submitted_by)
    role = proxy.submitted_role
    if role is None:  # filed before the filer's role was recorded
        role = Role.COMMITTEE.value if filer is not None and (
            filer.is_platform_admin or _granted(session, user_id=filer.id, compound_id=proxy.compound_id)
            & MANAGERS) else Role.OWNER.value
    return role == Role.OWNER.value, (filer.phone if filer else None)


def _granted(session: Session, *, user_id: int | None, compound_id: int) -> set[Role]:
    """Active role grants of an account in a compound (staff roles; owners are not granted)."""
    if user_id is None:
        return set()
    return auth_service.active_roles(session, compound_id=compound_id, user_id=user_id)


def _staff_roles_of_phone(session: Session, *, compound_id: int, phone: str) -> set[Role]:
    """The staff roles the account with this phone holds in the compound (admin included)."""
    account = auth_service.account_by_phone(session, phone=phone)
    if account is None:
        return set()
    roles = _granted(session, user_id=account.id, compound_id=compound_id)
    if account.is_platform_admin:
        roles.add(Role.PLATFORM_ADMIN)
    return roles


def _refuse_staff_proxy(roles: set[Role]) -> None:
    if Role.CLERK in roles:
        raise Invalid("物业服务企业工作人员不得接受业主委托投票", code="proxy_is_property_staff")
    if roles:
        raise Invalid("本小区业委会委员、审核人、观察员等工作人员不得作为受托人投票",
                          code="proxy_is_staff")


def _get_proxy(session: Session, ballot: Ballot, proxy_id: int) -> ProxyAuthorization:
    proxy = session.get(ProxyAuthorization, proxy_id)
    if proxy is None or proxy.ballot_id != ballot.id:
        raise NotFound("委托记录不存在", code="proxy_not_found")
    if proxy.accepted_at or proxy.rejected_at:
        raise Conflict("该委托已处理", code="proxy_already_decided")
    return proxy


def accept_proxy(session: Session, *, ballot: Ballot, proxy_id: int, actor: Actor) -> ProxyAuthorization:
    """Accept after re-checking the subject and filer, the ballot's proxy limit and staff."""
    proxy = _get_proxy(session, ballot, proxy_id)
    if ballot.closed_at is not None:
        raise Conflict("表决已结束，不能再接受委托", code="proxy_ballot_state")
    owner_filed, filer_phone = _owner_filed(session, proxy)
    _check_proxy_subject(session, ballot=ballot, subject_id=proxy.subject_id,
                         owner_phone=(filer_phone or "") if owner_filed else None)
    # The limit the ballot's notice published, not the compound's current setting.
    limit = ballot_rules(session, ballot=ballot).proxy_limit
    held = session.execute(
        select(func.count()).select_from(ProxyAuthorization).where(
            ProxyAuthorization.ballot_id == ballot.id,
            ProxyAuthorization.proxy_phone == proxy.proxy_phone,
            ProxyAuthorization.accepted_at.is_not(None),
        )
    ).scalar_one()
    if held >= limit:
        raise Invalid(f"每位受托人最多接受{limit}户委托（本次表决公告的议事规则）",
                          code="proxy_limit_reached")
    _refuse_staff_proxy(_staff_roles_of_phone(session, compound_id=ballot.compound_id,
                                              phone=proxy.proxy_phone))
    duplicate = session.execute(
        select(ProxyAuthorization.id).where(
            ProxyAuthorization.ballot_id == ballot.id, ProxyAuthorization.subject_id == proxy.subject_id,
            ProxyAuthorization.accepted_at.is_not(None),
        )
    ).first()
    if duplicate:
        raise Conflict("该房屋已有被接受的委托", code="proxy_duplicate")
    # The proxy logs in with a one-time code like an owner.
    auth_service.ensure_phone_account(session, phone=proxy.proxy_phone,
                                      display_name=f"受托人 {proxy.proxy_name[:1]}*")
    proxy.accepted_at, proxy.accepted_by = now(), actor.user_id
    session.add(proxy)
    session.flush()
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="proxy.accepted",
        object_type="proxy_authorization", object_id=proxy.id or 0,
        payload={"ballot_id": ballot.id, "subject_id": proxy.subject_id},
    )
    return proxy


def _reject(
    session: Session, *, ballot: Ballot, record: ProxyAuthorization | PaperEntry, reason: str,
    actor: Actor, action: str, object_type: str,
) -> None:
    """Record a refusal with its reason (nothing is deleted) and its audit event."""
    if not reason.strip():
        raise Invalid("请填写理由", code="reason_missing")
    record.rejected_at, record.rejected_by, record.rejection_reason = now(), actor.user_id, reason.strip()
    session.add(record)
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action=action,
        object_type=object_type, object_id=record.id or 0,
        payload={"ballot_id": ballot.id, "subject_id": record.subject_id, "reason": reason.strip()},
    )


def reject_proxy(session: Session, *, ballot: Ballot, proxy_id: int, reason: str, actor: Actor) -> ProxyAuthorization:
    proxy = _get_proxy(session, ballot, proxy_id)
    _reject(session, ballot=ballot, record=proxy, reason=reason, actor=actor,
            action="proxy.rejected", object_type="proxy_authorization")
    return proxy


# --- paper ballots ---------------------------------------------------------------------------


def enter_paper(
    session: Session, *, ballot: Ballot, subject_id: int, raw_choices: dict[str, Any],
    scan_file_id: int, actor: Actor,
) -> PaperEntry:
    """First committee member types in a paper ballot, with its scan attached."""
    _require_not_closed(ballot)
    _lock_subject(session, ballot, subject_id)
    scan = files_service.get_file(session, compound_id=ballot.compound_id, file_id=scan_file_id)
    if scan.purpose != "paper_ballot":
        raise Invalid("请上传书面表决票扫描件", code="paper_scan_missing")
    choices = normalize_choices(session, ballot=ballot, raw=raw_choices, allow_blank_and_invalid=True)
    entry = PaperEntry(
        compound_id=ballot.compound_id, ballot_id=ballot.id or 0, subject_id=subject_id,
        choices_json=canonical_json(choices), scan_file_id=scan_file_id, entered_by=actor.user_id or 0,
        entered_at=now(),
    )
    session.add(entry)
    session.flush()
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="paper.entered",
        object_type="paper_entry", object_id=entry.id or 0,
        payload={"ballot_id": ballot.id, "subject_id": subject_id, "scan_file_id": scan_file_id,
                 "choices_sha256": hashlib.sha256(entry.choices_json.encode()).hexdigest()},
    )
    return entry


def _pending_paper(session: Session, ballot: Ballot, entry_id: int) -> tuple[PaperEntry, BallotSubject]:
    """The entry, still undecided, and its subject locked: the entry is read again under the
    subject's lock, so of two members deciding it at once the second sees the first's decision."""
    entry = session.get(PaperEntry, entry_id)
    if entry is None or entry.ballot_id != ballot.id:
        raise NotFound("书面表决票记录不存在", code="paper_not_found")
    subject = _lock_subject(session, ballot, entry.subject_id)
    session.refresh(entry)
    if entry.confirmed_at or entry.rejected_at:
        raise Conflict("该书面表决票已处理", code="paper_already_decided")
    return entry, subject


def confirm_paper(session: Session, *, ballot: Ballot, entry_id: int, actor: Actor) -> PaperEntry:
    """A second committee member confirms; the paper vote counts unless the subject already voted."""
    _require_not_closed(ballot)
    entry, subject = _pending_paper(session, ballot, entry_id)
    if entry.entered_by == actor.user_id:
        raise Forbidden("书面表决票须由另一名业委会委员复核确认", code="paper_same_person")
    choices = json.loads(entry.choices_json)
    entry.confirmed_at, entry.confirmed_by = now(), actor.user_id
    session.add(entry)
    if subject.effective_cast_id is not None:
        _conflict(session, ballot=ballot, subject=subject, channel=Channel.PAPER, choices=choices,
                  actor=actor, paper_entry_id=entry.id)
        raise _refuse_as_conflict(subject.effective_channel)
    cast = _record_cast(session, ballot=ballot, subject=subject, channel=Channel.PAPER,
                        choices=choices, actor=actor, paper_entry_id=entry.id)
    entry.cast_id = cast.id
    session.add(entry)
    session.flush()
    return entry


def reject_paper(session: Session, *, ballot: Ballot, entry_id: int, reason: str, actor: Actor) -> PaperEntry:
    entry, _ = _pending_paper(session, ballot, entry_id)
    _reject(session, ballot=ballot, record=entry, reason=reason, actor=actor,
            action="paper.rejected", object_type="paper_entry")
    return entry


# --- conflicts -------------------------------------------------------------------------------


def resolve_conflict(
    session: Session, *, ballot: Ballot, conflict_id: int, accept_incoming: bool, note: str, actor: Actor,
) -> VoteConflict:
    """The committee decides which vote stands; the decision and its reason are on record."""
    _require_not_closed(ballot)
    conflict = session.get(VoteConflict, conflict_id)
    if conflict is None or conflict.ballot_id != ballot.id:
        raise NotFound("冲突记录不存在", code="conflict_not_found")
    if conflict.resolved_at is not None:
        raise Conflict("该冲突已处理", code="conflict_already_resolved")
    if not note.strip():
        raise Invalid("请填写处理说明（例如已与业主核实）", code="reason_missing")
    subject = _lock_subject(session, ballot, conflict.subject_id)
    if accept_incoming:
        cast = _record_cast(
            session, ballot=ballot, subject=subject, channel=Channel(conflict.incoming_channel),
            choices=json.loads(conflict.incoming_choices_json), actor=actor,
            proxy_id=conflict.incoming_proxy_id, paper_entry_id=conflict.incoming_paper_entry_id,
        )
        if conflict.incoming_paper_entry_id:
            entry = session.get(PaperEntry, conflict.incoming_paper_entry_id)
            if entry:
                entry.cast_id = cast.id
                session.add(entry)
    conflict.resolved_at, conflict.resolved_by = now(), actor.user_id
    conflict.resolution = "accept_incoming" if accept_incoming else "keep_existing"
    conflict.note = note.strip()
    session.add(conflict)
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="vote.conflict_resolved",
        object_type="vote_conflict", object_id=conflict.id or 0,
        payload={"ballot_id": ballot.id, "subject_id": conflict.subject_id,
                 "resolution": conflict.resolution, "note": conflict.note},
    )
    return conflict


def list_conflicts(session: Session, *, ballot: Ballot) -> list[VoteConflict]:
    return list(session.execute(
        select(VoteConflict).where(VoteConflict.ballot_id == ballot.id).order_by(VoteConflict.id)
    ).scalars())


def live_proxy_ballot_ids(session: Session, *, compound_id: int, phone: str | None) -> set[int]:
    """Ballots of the compound for which this phone holds an accepted proxy and that are not yet
    closed: a proxy's standing is that ballot's, and it ends when the ballot closes."""
    if not phone:
        return set()
    return set(session.execute(
        select(ProxyAuthorization.ballot_id)
        .join(Ballot, Ballot.id == ProxyAuthorization.ballot_id)
        .where(ProxyAuthorization.compound_id == compound_id, ProxyAuthorization.proxy_phone == phone,
               ProxyAuthorization.accepted_at.is_not(None), ProxyAuthorization.rejected_at.is_(None),
               Ballot.closed_at.is_(None), Ballot.cancelled_at.is_(None))
    ).scalars())
