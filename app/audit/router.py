"""Reading, verifying and exporting a compound's audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from app.audit import presenting, service, vocabulary
from app.audit.canonical import format_time
from app.audit.models import AuditCheckpoint
from app.audit.schemas import (
    CheckpointOut,
    EventOut,
    EventPage,
    EventQuery,
    GroupOut,
    ObjectTypeOut,
    VerifyOut,
    VocabularyOut,
)
from app.audit.signing import public_key_pem
from app.auth.roles import MANAGERS, WATCHERS
from app.calendar import end_of_day, start_of_day
from app.db import new_session
from app.deps import CompoundAccess, SessionDep, compound_access
from app.errors import Invalid

router = APIRouter(tags=["audit"])

AuditReader = Annotated[
    CompoundAccess,
    Depends(compound_access(*WATCHERS)),
]
CheckpointSigner = Annotated[
    CompoundAccess, Depends(compound_access(*MANAGERS))
]


@router.get("/compounds/{compound_id}/audit/events", response_model=EventPage)
def list_events(
    access: AuditReader,
    session: SessionDep,
    query: Annotated[EventQuery, Query()],
) -> EventPage:
    """The compound's events, each with its reading (sentence, actor, object, labelled payload)
    next to the fields the chain hashes. Filters combine: `kind` (an action group, see
    `…/audit/vocabulary`), `since`/`until` (days in Asia/Shanghai, both included), and
    `object_type` + `object_id` (the events about that object and those naming it in their
    payload, e.g. a paper ballot's entry and the vote its confirmation cast). Pages: ascending
    after `after_seq`, or newest first below `before_seq`; `has_more` says whether another
    page follows."""
    if (query.object_type is None) != (query.object_id is None):
        raise Invalid("按对象筛选须同时给出对象类型（object_type）和编号（object_id）",
                      code="audit_filter_object_incomplete")
    if query.since is not None and query.until is not None and query.since > query.until:
        raise Invalid("开始日期不能晚于结束日期", code="audit_filter_dates_reversed")
    if query.before_seq is not None and query.after_seq:
        raise Invalid("after_seq 与 before_seq 只能给出一个", code="audit_filter_page_ambiguous")
    where = service.EventFilter(
        actions=vocabulary.actions_of_group(query.kind) if query.kind else None,
        since=format_time(start_of_day(query.since)) if query.since else None,
        until=format_time(end_of_day(query.until)) if query.until else None,
        object_type=query.object_type,
        object_id=str(query.object_id) if query.object_id is not None else None,
        referring_fields=vocabulary.referring_fields(query.object_type) if query.object_type else (),
    )
    seq, digest = service.chain_head(session, compound_id=access.compound_id)
    events = service.find_events(
        session, compound_id=access.compound_id, where=where, after_seq=query.after_seq,
        before_seq=query.before_seq, limit=query.limit + 1,
    )
    # Only what the head covers: an append committing meanwhile shows on the next read.
    events = [e for e in events if e.seq <= seq]
    page = events[: query.limit]
    return EventPage(
        head_seq=seq, head_hash=digest, has_more=len(events) > query.limit,
        items=[EventOut.model_validate(item)
               for item in presenting.present(session, page, compound_id=access.compound_id)],
    )


@router.get("/compounds/{compound_id}/audit/vocabulary", response_model=VocabularyOut)
def audit_vocabulary(access: AuditReader) -> VocabularyOut:
    """The trail filter's choices: action groups (`kind`) and object types, in Chinese."""
    return VocabularyOut(
        groups=[GroupOut(key=k, label=v) for k, v in vocabulary.GROUPS.items()],
        object_types=[ObjectTypeOut(key=k, label=o.noun) for k, o in vocabulary.OBJECTS.items()],
    )


@router.get("/compounds/{compound_id}/audit/verify", response_model=VerifyOut)
def verify(access: AuditReader, session: SessionDep) -> VerifyOut:
    return VerifyOut.model_validate(service.verify_compound(session, compound_id=access.compound_id))


def _checkpoint(cp: AuditCheckpoint) -> CheckpointOut:
    return CheckpointOut(id=cp.id or 0, seq=cp.seq, head_hash=cp.head_hash, signed_at=cp.signed_at,
                         reason=cp.reason, reason_label=vocabulary.checkpoint_reason(cp.reason),
                         key_id=cp.key_id, signature=cp.signature)


@router.get("/compounds/{compound_id}/audit/checkpoints", response_model=list[CheckpointOut])
def checkpoints(access: AuditReader, session: SessionDep) -> list[CheckpointOut]:
    return [_checkpoint(c) for c in service.list_checkpoints(session, compound_id=access.compound_id)]


@router.post("/compounds/{compound_id}/audit/checkpoints", response_model=CheckpointOut,
             status_code=201)
def sign_checkpoint(access: CheckpointSigner, session: SessionDep) -> CheckpointOut:
    cp = service.sign_checkpoint(
        session, compound_id=access.compound_id, reason="manual", actor=access.actor
    )
    return _checkpoint(cp)


@router.get("/compounds/{compound_id}/audit/export",
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export(access: AuditReader) -> StreamingResponse:
    """JSON Lines export for offline verification with `python -m app.audit verify --file`."""
    compound_id = access.compound_id

    def lines():
        # Its own read transaction: the stream outlives the request's session.
        session = new_session(write=False)
        try:
            for line in service.export_lines(session, compound_id=compound_id):
                yield line + "\n"
        finally:
            session.close()

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="audit-{compound_id}.jsonl"'},
    )


@router.get("/audit/public-key", response_class=PlainTextResponse)
def public_key() -> str:
    """The deployment's checkpoint verification key (public)."""
    return public_key_pem()
