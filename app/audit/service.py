"""Appending to a compound's chain, signing checkpoints, reading and exporting the chain."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BindParameter,
    Executable,
    Text,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql import visitors
from sqlmodel import Session

from app.audit.canonical import (
    GENESIS_HASH,
    canonical_json,
    checkpoint_message,
    event_hash,
    event_hash_prefix,
    format_time,
)
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from app.audit.signing import key_id, public_key_pem, signing_key
from app.audit.verify import CheckpointView, EventView, verify_chain
from app.clock import now
from app.db import is_postgres

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass(frozen=True)
class Actor:
    """Who did it: a user id (None for the system) and the role they acted in."""

    user_id: int | None
    role: str


SYSTEM = Actor(user_id=None, role="system")


_EVENTS = AuditEvent.__table__
_HEADS = AuditChainHead.__table__

# Statements built once (their cache keys are memoized): every state change runs them.
_HEAD = select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.compound_id == bindparam("a_compound"))
_HEAD_LOCKED = _HEAD.with_for_update()
_EVENT_INSERT = insert(_EVENTS).values(
    compound_id=bindparam("a_compound"), seq=bindparam("a_seq"), occurred_at=bindparam("a_at"),
    actor_user_id=bindparam("a_user"), actor_role=bindparam("a_role"),
    action=bindparam("a_action"), object_type=bindparam("a_type"), object_id=bindparam("a_object"),
    payload=bindparam("a_payload"), prev_hash=bindparam("a_prev"), hash=bindparam("a_hash"),
)
_HEAD_UPDATE = (update(_HEADS).where(_HEADS.c.compound_id == bindparam("a_compound"))
                .values(seq=bindparam("a_seq"), hash=bindparam("a_hash"), prev_hash=bindparam("a_prev")))
_COMBINED: dict[tuple[Any, ...], Any] = {}

# Statements to run with the event, given as (statement, parameters); they may use the bound
# parameters "a_seq" and "a_hash" (the new event's sequence number and hash). Their parameters
# share one namespace: a name two of them use must have the same value in both, and no name may
# be a column of a table one of them updates (SQLAlchemy would add it to that UPDATE's SET). On
# PostgreSQL they are data-modifying CTEs of the append's statement: no two may write one row.
Also = Sequence[tuple[Executable, dict[str, Any]]]


def _with_new_head(extra: Any, new_seq: Any, new_hash: Any) -> Any:
    """`extra` with its "a_seq"/"a_hash" parameters replaced by the new head's values."""

    def replace(element: Any) -> Any:
        if isinstance(element, BindParameter):
            return {"a_seq": new_seq, "a_hash": new_hash}.get(element.key)
        return None

    return visitors.replacement_traverse(extra, {}, replace)


_NEW_HEAD_USERS: dict[Any, bool] = {}


def _uses_new_head(extra: Any) -> bool:
    """Whether a statement of `also` reads the new event's seq or hash ("a_seq", "a_hash")."""
    uses = _NEW_HEAD_USERS.get(extra)
    if uses is None:
        uses = _NEW_HEAD_USERS[extra] = any(
            isinstance(e, BindParameter) and e.key in ("a_seq", "a_hash") for e in visitors.iterate(extra))
    return uses


def _pg_append(extras: tuple[Any, ...], check: Any) -> Any:
    """PostgreSQL: the whole append as one statement, so the chain lock is never held while the
    application computes or waits for its turn to run.

    The head row's UPDATE takes the compound's lock (waiting for earlier appends to commit, then
    reading their head), moves the head on and computes the new hash in SQL: the body's prefix
    comes from Python (canonical.event_hash_prefix), the previous hash and the sequence number
    from the locked row, so the hash is the one `event_hash` gives. The event insert and the
    extras read the head's output (data-modifying CTEs); the final SELECT returns the new head and
    `check`, evaluated after the lock was granted. Only the commit follows.
    """
    key = (extras, check)
    stmt = _COMBINED.get(key)
    if stmt is None:
        # The constant pieces are named parameters: SQLAlchemy (2.1) loses the values of anonymous
        # literals in a statement that holds two or more UPDATE CTEs.
        body = (bindparam("a_prefix", type_=Text) + _HEADS.c.hash + bindparam("a_seq_key", type_=Text)
                + cast(_HEADS.c.seq + 1, Text) + bindparam("a_close", type_=Text))
        head = (update(_HEADS).where(_HEADS.c.compound_id == bindparam("a_compound"))
                .values(seq=_HEADS.c.seq + 1, prev_hash=_HEADS.c.hash,
                        hash=func.encode(func.sha256(func.convert_to(body, "UTF8")), "hex"))
                .returning(_HEADS.c.seq, _HEADS.c.hash, _HEADS.c.prev_hash)
                .cte("audit_head"))
        event = insert(_EVENTS).from_select(
            ["compound_id", "seq", "occurred_at", "actor_user_id", "actor_role", "action",
             "object_type", "object_id", "payload", "prev_hash", "hash"],
            select(bindparam("a_compound"), head.c.seq, bindparam("a_at"), bindparam("a_user"),
                   bindparam("a_role"), bindparam("a_action"), bindparam("a_type"),
                   bindparam("a_object"), bindparam("a_payload"), head.c.prev_hash, head.c.hash))
        columns: list[Any] = [head.c.seq, head.c.hash, head.c.prev_hash]
        if check is not None:
            columns.append(check.label("audit_check"))
        stmt = select(*columns).add_cte(head).add_cte(event.cte("audit_new_event"))
        new_seq, new_hash = select(head.c.seq).scalar_subquery(), select(head.c.hash).scalar_subquery()
        for i, extra in enumerate(extras):
            stmt = stmt.add_cte(_with_new_head(extra, new_seq, new_hash).cte(f"audit_also_{i}"))
        _COMBINED[key] = stmt
    return stmt


def _lock_head(session: Session, compound_id: int) -> tuple[int, str]:
    """The chain head's (seq, hash), locked until the transaction ends.

    FOR UPDATE serializes appends per compound on PostgreSQL; on SQLite the write transaction
    already holds the database's single write lock (BEGIN IMMEDIATE). Core statements: the head
    is never an ORM object, so no stale copy can sit in a session's identity map.
    """
    postgres = is_postgres(session)
    conn = session.connection()
    params = {"a_compound": compound_id}
    row = conn.execute(_HEAD_LOCKED if postgres else _HEAD, params).first()
    if row is None:
        if postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(pg_insert(_HEADS).values(compound_id=compound_id, seq=0, hash=GENESIS_HASH)
                         .on_conflict_do_nothing())
        else:
            conn.execute(insert(_HEADS).values(compound_id=compound_id, seq=0, hash=GENESIS_HASH))
        row = conn.execute(_HEAD_LOCKED if postgres else _HEAD, params).one()
    return int(row.seq), str(row.hash)


def append_event(
    session: Session,
    *,
    compound_id: int,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: dict[str, Any] | None = None,
    also: Also = (),
) -> AuditEvent:
    """Append one event to the compound's chain inside the caller's transaction.

    The caller's pending ORM changes are flushed first (they come before the event). `also` gives
    statements that need the event's seq and hash (e.g. a receipt's copy of them), or that the
    caller wants written in the same round trip (a vote's other rows). On PostgreSQL
    the head's lock, the hash, the event, the new head and `also` are one statement (`_pg_append`),
    so the lock is held for that statement and the commit only; on SQLite (one writer, no network)
    the same rows are written one statement after the other.
    """
    appended, _, params = _append(session, compound_id=compound_id, actor=actor, action=action,
                                  object_type=object_type, object_id=object_id, payload=payload,
                                  also=also, check=None)
    # As stored (not attached to the session).
    return AuditEvent(compound_id=compound_id, seq=appended.seq, occurred_at=params["a_at"],
                      actor_user_id=actor.user_id, actor_role=actor.role, action=action,
                      object_type=object_type, object_id=params["a_object"],
                      payload=params["a_payload"], prev_hash=appended.prev_hash, hash=appended.hash)


@dataclass(frozen=True)
class Appended:
    """Where an appended event landed in its compound's chain."""

    seq: int
    hash: str
    prev_hash: str


def append_event_checked(
    session: Session,
    *,
    compound_id: int,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: dict[str, Any] | None = None,
    also: Also = (),
    check: tuple[Any, dict[str, Any]] | None = None,
) -> tuple[Appended, Any]:
    """`append_event`, plus a scalar SQL expression read once this append holds the chain lock.

    Returns where the event landed (no ORM object is built: the vote path needs only that).

    On PostgreSQL the expression is evaluated by the appending statement once it holds the lock;
    it must be VOLATILE (a PL/pgSQL function such as `gongjue_ballot_closed_at`), whose query takes
    a fresh snapshot then and so sees every transaction that appended before this one (e.g. a
    ballot's close); a plain subquery would see the statement's snapshot, taken before the wait.
    On SQLite the write lock is held from the transaction's first statement, so the caller's
    earlier reads are already current: None is returned.
    """
    appended, checked, _ = _append(session, compound_id=compound_id, actor=actor, action=action,
                                   object_type=object_type, object_id=object_id, payload=payload,
                                   also=also, check=check)
    return appended, checked


def _append(
    session: Session, *, compound_id: int, actor: Actor, action: str, object_type: str,
    object_id: str | int, payload: dict[str, Any] | None, also: Also,
    check: tuple[Any, dict[str, Any]] | None,
) -> tuple[Appended, Any, dict[str, Any]]:
    session.flush()
    payload_json = canonical_json(payload or {})
    occurred_at = format_time(now())
    params: dict[str, Any] = {
        "a_compound": compound_id, "a_at": occurred_at, "a_user": actor.user_id,
        "a_role": actor.role, "a_action": action, "a_type": object_type,
        "a_object": str(object_id), "a_payload": payload_json,
    }
    for _stmt, extra_params in also:
        params.update(extra_params)
    if is_postgres(session):
        appended, checked = _append_postgres(session, params, also=also, check=check)
        return appended, checked, params
    seq, prev_hash = _lock_head(session, compound_id)
    fields: dict[str, Any] = {
        "compound_id": compound_id,
        "seq": seq + 1,
        "occurred_at": occurred_at,
        "actor_user_id": actor.user_id,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "prev_hash": prev_hash,
    }
    digest = event_hash(**fields, payload_json=payload_json)
    params.update({"a_seq": seq + 1, "a_prev": prev_hash, "a_hash": digest})
    conn = session.connection()
    conn.execute(_EVENT_INSERT, params)
    conn.execute(_HEAD_UPDATE, params)
    for stmt, extra_params in also:
        conn.execute(stmt, {"a_seq": seq + 1, "a_hash": digest, **extra_params})
    return Appended(seq=seq + 1, hash=digest, prev_hash=prev_hash), None, params


def _append_postgres(
    session: Session, params: dict[str, Any], *, also: Also, check: tuple[Any, dict[str, Any]] | None
) -> tuple[Appended, Any]:
    params["a_seq_key"], params["a_close"] = '","seq":', "}"
    params["a_prefix"] = event_hash_prefix(
        params["a_compound"], params["a_at"], params["a_user"], params["a_role"],
        params["a_action"], params["a_type"], params["a_object"], params["a_payload"])
    if check is not None:
        params.update(check[1])
    stmt = _pg_append(tuple(s for s, _ in also), check[0] if check is not None else None)
    conn = session.connection()
    row = conn.execute(stmt, params).first()
    if row is None:
        # The compound's first event: no head row, so nothing was appended, but the statements of
        # `also` that do not use the new head ran. Create the head, then append with the others.
        _lock_head(session, params["a_compound"])
        stmt = _pg_append(tuple(s for s, _ in also if _uses_new_head(s)),
                          check[0] if check is not None else None)
        row = conn.execute(stmt, params).one()
    return (Appended(seq=row.seq, hash=row.hash, prev_hash=row.prev_hash),
            row.audit_check if check is not None else None)


def sign_checkpoint(
    session: Session, *, compound_id: int, reason: str, actor: Actor = SYSTEM
) -> AuditCheckpoint:
    """Sign the current head with the deployment key, and record the signing in the chain."""
    head_seq, head_hash = _lock_head(session, compound_id)
    signed = now()
    key = signing_key()
    message = checkpoint_message(
        compound_id=compound_id,
        seq=head_seq,
        head_hash=head_hash,
        signed_at=format_time(signed),
        reason=reason,
    )
    checkpoint = AuditCheckpoint(
        compound_id=compound_id,
        seq=head_seq,
        head_hash=head_hash,
        signed_at=signed,
        reason=reason,
        key_id=key_id(key.public_key()),
        signature=key.sign(message).hex(),
    )
    session.add(checkpoint)
    session.flush()
    append_event(
        session,
        compound_id=compound_id,
        actor=actor,
        action="audit.checkpoint_signed",
        object_type="audit_checkpoint",
        object_id=checkpoint.id or 0,
        payload={"seq": checkpoint.seq, "head_hash": checkpoint.head_hash, "reason": reason},
    )
    return checkpoint


def event_record(event: AuditEvent) -> dict[str, Any]:
    """The exported form of an event (payload as JSON, as hashed)."""
    return {
        "type": "event",
        "compound_id": event.compound_id,
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor_user_id": event.actor_user_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "payload": json.loads(event.payload),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def checkpoint_record(cp: AuditCheckpoint) -> dict[str, Any]:
    return {
        "type": "checkpoint",
        "compound_id": cp.compound_id,
        "seq": cp.seq,
        "head_hash": cp.head_hash,
        "signed_at": format_time(cp.signed_at),
        "reason": cp.reason,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def list_events(
    session: Session, *, compound_id: int, after_seq: int = 0, limit: int = 100
) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.compound_id == compound_id, AuditEvent.seq > after_seq)
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


@dataclass(frozen=True)
class EventFilter:
    """Which events of a compound to read: actions (a group's codes), a time range (canonical
    UTC text, as stored), and an object with the payload fields that name it."""

    actions: Sequence[str] | None = None
    since: str | None = None  # occurred_at >= since
    until: str | None = None  # occurred_at < until
    object_type: str | None = None
    object_id: str | None = None
    referring_fields: Sequence[str] = ()


def _payload_names(field: str, object_id: str) -> Any:
    """The canonical payload holds `"field":id` followed by `,` or `}` (no spaces, sorted keys)."""
    name = field.replace("_", "\\_")  # `_` is LIKE's one-character wildcard
    return or_(AuditEvent.payload.like(f'%"{name}":{object_id},%', escape="\\"),
               AuditEvent.payload.like(f'%"{name}":{object_id}}}%', escape="\\"))


def find_events(
    session: Session, *, compound_id: int, where: EventFilter, after_seq: int = 0,
    before_seq: int | None = None, limit: int = 100,
) -> list[AuditEvent]:
    """One page of the compound's events matching `where`: ascending after `after_seq`, or,
    with `before_seq`, newest first below it."""
    conditions: list[Any] = [AuditEvent.compound_id == compound_id, AuditEvent.seq > after_seq]
    if before_seq is not None:
        conditions.append(AuditEvent.seq < before_seq)
    if where.actions is not None:
        conditions.append(AuditEvent.action.in_(list(where.actions)))
    if where.since is not None:
        conditions.append(AuditEvent.occurred_at >= where.since)
    if where.until is not None:
        conditions.append(AuditEvent.occurred_at < where.until)
    if where.object_type is not None and where.object_id is not None:
        if not where.object_id.isdigit():
            raise ValueError("object ids in payload filters are integers")
        conditions.append(or_(
            (AuditEvent.object_type == where.object_type) & (AuditEvent.object_id == where.object_id),
            *(_payload_names(f, where.object_id) for f in where.referring_fields),
        ))
    order = AuditEvent.seq.desc() if before_seq is not None else AuditEvent.seq
    stmt = select(AuditEvent).where(*conditions).order_by(order).limit(limit)
    return list(session.execute(stmt).scalars())


def events_about(
    session: Session, *, compound_id: int, objects: Sequence[tuple[str, str]]
) -> list[AuditEvent]:
    """The compound's events about any of the (object_type, object_id) pairs, in chain order."""
    if not objects:
        return []
    about = or_(*((AuditEvent.object_type == t) & (AuditEvent.object_id == i) for t, i in objects))
    return list(session.execute(
        select(AuditEvent).where(AuditEvent.compound_id == compound_id, about).order_by(AuditEvent.seq)
    ).scalars())


def iter_events(session: Session, *, compound_id: int, batch: int = 5000) -> Iterator[AuditEvent]:
    """Stream a compound's whole chain in sequence order, in batches."""
    last = 0
    while True:
        rows = list_events(session, compound_id=compound_id, after_seq=last, limit=batch)
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def list_checkpoints(session: Session, *, compound_id: int) -> list[AuditCheckpoint]:
    stmt = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.compound_id == compound_id)
        .order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
    )
    return list(session.execute(stmt).scalars())


def chain_head(session: Session, *, compound_id: int) -> tuple[int, str]:
    row = session.connection().execute(_HEAD, {"a_compound": compound_id}).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS_HASH)


def _events_to_head(session: Session, *, compound_id: int, head_seq: int,
                    batch: int = 5000) -> Iterator[AuditEvent]:
    """The events up to a head read beforehand, then any row stored past the current head.

    Appends commit in sequence order together with the head, so this is a consistent view even
    under READ COMMITTED while others append; a row past the head is one no append wrote.
    """
    last = 0
    while True:
        rows = list(session.execute(
            select(AuditEvent)
            .where(AuditEvent.compound_id == compound_id, AuditEvent.seq > last,
                   AuditEvent.seq <= head_seq)
            .order_by(AuditEvent.seq).limit(batch)
        ).scalars())
        if not rows:
            break
        yield from rows
        last = rows[-1].seq
    current = func.coalesce(AuditChainHead.seq, 0)  # one statement: the head and the rows agree
    yield from session.execute(
        select(AuditEvent)
        .outerjoin(AuditChainHead, AuditChainHead.compound_id == AuditEvent.compound_id)
        .where(AuditEvent.compound_id == compound_id, AuditEvent.seq > head_seq,
               AuditEvent.seq > current)
        .order_by(AuditEvent.seq)
    ).scalars()


def _checkpoints_to_head(session: Session, *, compound_id: int,
                         head_seq: int) -> list[AuditCheckpoint]:
    """Checkpoints within the head read beforehand, and any at or past the current head (which
    no signing writes: a signing appends its own event after the checkpointed head)."""
    current = func.coalesce(AuditChainHead.seq, 0)
    stmt = (
        select(AuditCheckpoint)
        .outerjoin(AuditChainHead, AuditChainHead.compound_id == AuditCheckpoint.compound_id)
        .where(AuditCheckpoint.compound_id == compound_id,
               or_(AuditCheckpoint.seq <= head_seq, AuditCheckpoint.seq >= current))
        .order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
    )
    return list(session.execute(stmt).scalars())


def signed_head_record(*, compound_id: int, seq: int, head_hash: str) -> dict[str, Any]:
    """A checkpoint of the head signed now and not stored: it makes an export's end provable."""
    key = signing_key()
    signed_at = format_time(now())
    message = checkpoint_message(compound_id=compound_id, seq=seq, head_hash=head_hash,
                                 signed_at=signed_at, reason="export")
    return {"seq": seq, "head_hash": head_hash, "signed_at": signed_at, "reason": "export",
            "key_id": key_id(key.public_key()), "signature": key.sign(message).hex()}


def export_lines(session: Session, *, compound_id: int) -> Iterator[str]:
    """JSON Lines: a header with the public key and the signed head, the events up to that
    head, then the checkpoints."""
    head_seq, head_hash = chain_head(session, compound_id=compound_id)
    yield json.dumps(
        {
            "type": "header",
            "format": "gongjue-audit/1",
            "compound_id": compound_id,
            "public_key_pem": public_key_pem(),
            "head": signed_head_record(compound_id=compound_id, seq=head_seq, head_hash=head_hash),
        },
        ensure_ascii=False,
    )
    for event in _events_to_head(session, compound_id=compound_id, head_seq=head_seq):
        yield json.dumps(event_record(event), ensure_ascii=False)
    for cp in _checkpoints_to_head(session, compound_id=compound_id, head_seq=head_seq):
        yield json.dumps(checkpoint_record(cp), ensure_ascii=False)


def verify_compound(
    session: Session, *, compound_id: int, public_key: Ed25519PublicKey | None = None
) -> dict[str, Any]:
    """Verify a compound's stored chain against its recorded head and signed checkpoints."""
    head = chain_head(session, compound_id=compound_id)
    events = (
        EventView(
            compound_id=e.compound_id, seq=e.seq, occurred_at=e.occurred_at,
            actor_user_id=e.actor_user_id, actor_role=e.actor_role, action=e.action,
            object_type=e.object_type, object_id=e.object_id, payload_json=e.payload,
            prev_hash=e.prev_hash, hash=e.hash,
        )
        for e in _events_to_head(session, compound_id=compound_id, head_seq=head[0])
    )
    checkpoints = [
        CheckpointView(
            compound_id=c.compound_id, seq=c.seq, head_hash=c.head_hash,
            signed_at=format_time(c.signed_at), reason=c.reason, key_id=c.key_id,
            signature=c.signature,
        )
        for c in _checkpoints_to_head(session, compound_id=compound_id, head_seq=head[0])
    ]
    key = public_key or signing_key().public_key()
    return verify_chain(events, checkpoints=checkpoints, public_key=key, head=head).as_dict()
