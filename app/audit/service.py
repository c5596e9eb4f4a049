"""Appending to a compound's chain, signing checkpoints, reading and exporting the chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.audit.canonical import GENESIS_HASH, canonical_json, event_hash, format_time
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from app.audit.signing import key_id, public_key_pem, signing_key
from app.clock import now
from app.db import is_postgres


@dataclass(frozen=True)
class Actor:
    """Who did it: a user id (None for the system) and the role they acted in."""

    user_id: int | None
    role: str


SYSTEM = Actor(user_id=None, role="system")


def _lock_head(session: Session, compound_id: int) -> AuditChainHead:
    # FOR UPDATE serializes appends per compound on PostgreSQL; on SQLite the write transaction
    # already holds the database's single write lock (BEGIN IMMEDIATE).
    stmt = select(AuditChainHead).where(AuditChainHead.compound_id == compound_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:
        if is_postgres(session):
            from sqlalchemy.dialects.postgresql import insert

            session.execute(
                insert(AuditChainHead)
                .values(compound_id=compound_id, seq=0, hash=GENESIS_HASH)
                .on_conflict_do_nothing()
            )
        else:
            session.add(AuditChainHead(compound_id=compound_id, seq=0, hash=GENESIS_HASH))
            session.flush()
        head = session.execute(stmt).scalar_one()
    return head


def append_event(
    session: Session,
    *,
    compound_id: int,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the compound's chain inside the caller's transaction."""
    head = _lock_head(session, compound_id)
    payload_json = canonical_json(payload or {})
    fields: dict[str, Any] = {
        "compound_id": compound_id,
        "seq": head.seq + 1,
        "occurred_at": format_time(now()),
        "actor_user_id": actor.user_id,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "prev_hash": head.hash,
    }
    digest = event_hash(**fields, payload_json=payload_json)
    event = AuditEvent(**fields, payload=payload_json, hash=digest)
    seq = fields["seq"]
    head.seq = seq
    head.hash = digest
    session.add(event)
    session.add(head)
    session.flush()
    return event


def checkpoint_message(
    *, compound_id: int, seq: int, head_hash: str, signed_at: str, reason: str
) -> bytes:
    return canonical_json(
        {
            "compound_id": compound_id,
            "seq": seq,
            "head_hash": head_hash,
            "signed_at": signed_at,
            "reason": reason,
        }
    ).encode("utf-8")


def sign_checkpoint(
    session: Session, *, compound_id: int, reason: str, actor: Actor = SYSTEM
) -> AuditCheckpoint:
    """Sign the current head with the deployment key, and record the signing in the chain."""
    head = _lock_head(session, compound_id)
    signed = now()
    key = signing_key()
    message = checkpoint_message(
        compound_id=compound_id,
        seq=head.seq,
        head_hash=head.hash,
        signed_at=format_time(signed),
        reason=reason,
    )
    checkpoint = AuditCheckpoint(
        compound_id=compound_id,
        seq=head.seq,
        head_hash=head.hash,
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
    head = session.get(AuditChainHead, compound_id)
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


def export_lines(session: Session, *, compound_id: int) -> Iterator[str]:
    """JSON Lines: a header with the public key, every event, then every checkpoint."""
    yield json.dumps(
        {
            "type": "header",
            "format": "gongjue-audit/1",
            "compound_id": compound_id,
            "public_key_pem": public_key_pem(),
        },
        ensure_ascii=False,
    )
    for event in iter_events(session, compound_id=compound_id):
        yield json.dumps(event_record(event), ensure_ascii=False)
    for cp in list_checkpoints(session, compound_id=compound_id):
        yield json.dumps(checkpoint_record(cp), ensure_ascii=False)


def verify_compound(session: Session, *, compound_id: int) -> dict[str, Any]:
    """Verify a compound's stored chain against its signed checkpoints."""
    from app.audit.verify import CheckpointView, EventView, verify_chain

    events = (
        EventView(
            compound_id=e.compound_id, seq=e.seq, occurred_at=e.occurred_at,
            actor_user_id=e.actor_user_id, actor_role=e.actor_role, action=e.action,
            object_type=e.object_type, object_id=e.object_id, payload_json=e.payload,
            prev_hash=e.prev_hash, hash=e.hash,
        )
        for e in iter_events(session, compound_id=compound_id)
    )
    checkpoints = [
        CheckpointView(
            compound_id=c.compound_id, seq=c.seq, head_hash=c.head_hash,
            signed_at=format_time(c.signed_at), reason=c.reason, key_id=c.key_id,
            signature=c.signature,
        )
        for c in list_checkpoints(session, compound_id=compound_id)
    ]
    report = verify_chain(events, checkpoints=checkpoints, public_key=signing_key().public_key())
    stored_seq, stored_hash = chain_head(session, compound_id=compound_id)
    result = report.as_dict()
    if report.first_problem is None and (stored_seq, stored_hash) != (report.head_seq, report.head_hash):
        result["ok"] = False
        result["first_problem"] = {
            "position": report.events, "seq": report.head_seq, "kind": "head_mismatch",
            "message": "链尾与记录的链头不符：最后的事件被删除或改动",
        }
    return result
