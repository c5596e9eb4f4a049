"""Reading, verifying and exporting a compound's audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from app.audit import service
from app.audit.schemas import CheckpointOut, EventOut, EventPage, VerifyOut
from app.audit.signing import public_key_pem
from app.auth.roles import MANAGERS, WATCHERS
from app.db import new_session
from app.deps import CompoundAccess, SessionDep, compound_access

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
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    events = service.list_events(
        session, compound_id=access.compound_id, after_seq=after_seq, limit=limit
    )
    seq, digest = service.chain_head(session, compound_id=access.compound_id)
    return EventPage(
        head_seq=seq, head_hash=digest,
        items=[EventOut.model_validate(service.event_record(e)) for e in events],
    )


@router.get("/compounds/{compound_id}/audit/verify", response_model=VerifyOut)
def verify(access: AuditReader, session: SessionDep) -> VerifyOut:
    return VerifyOut.model_validate(service.verify_compound(session, compound_id=access.compound_id))


@router.get("/compounds/{compound_id}/audit/checkpoints", response_model=list[CheckpointOut])
def checkpoints(access: AuditReader, session: SessionDep) -> list[CheckpointOut]:
    return [
        CheckpointOut.model_validate(c, from_attributes=True)
        for c in service.list_checkpoints(session, compound_id=access.compound_id)
    ]


@router.post("/compounds/{compound_id}/audit/checkpoints", response_model=CheckpointOut,
             status_code=201)
def sign_checkpoint(access: CheckpointSigner, session: SessionDep) -> CheckpointOut:
    cp = service.sign_checkpoint(
        session, compound_id=access.compound_id, reason="manual", actor=access.actor
    )
    return CheckpointOut.model_validate(cp, from_attributes=True)


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
