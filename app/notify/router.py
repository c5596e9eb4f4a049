"""An owner's own messages (我的消息) and their opt-out switch; the ballot's delivery counts and
reminder live with the ballot (app/voting/router.py), which calls this domain's service."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import CurrentPrincipal, SessionDep
from app.notify import service
from app.notify.messages import KIND_LABELS
from app.notify.models import STATUS_LABELS
from app.notify.schemas import MyMessageOut, MyMessagesOut, OptOutIn

router = APIRouter(tags=["notify"])


def _mine(session: SessionDep, phone: str | None) -> MyMessagesOut:
    if not phone:  # a staff account without a phone receives nothing
        return MyMessagesOut(opted_out=False, items=[])
    return MyMessagesOut(
        opted_out=service.is_opted_out(session, phone=phone),
        items=[MyMessageOut(id=m.id, kind=m.kind, kind_label=KIND_LABELS.get(m.kind, m.kind),
                            text=m.text, created_at=m.created_at, status=m.status.value,
                            status_label=STATUS_LABELS[m.status], finished_at=m.finished_at)
               for m in service.messages_to(session, phone=phone)],
    )


@router.get("/me/messages", response_model=MyMessagesOut)
def my_messages(principal: CurrentPrincipal, session: SessionDep) -> MyMessagesOut:
    """我的消息: what was sent (or tried) to the caller's phone, newest first (codes hidden)."""
    return _mine(session, principal.user.phone)


@router.put("/me/messages/opt-out", response_model=MyMessagesOut)
def set_opt_out(body: OptOutIn, principal: CurrentPrincipal, session: SessionDep) -> MyMessagesOut:
    """Stop (or resume) notifications to the caller's phone; login codes are always sent."""
    phone = principal.user.phone
    if phone:
        service.set_opt_out(session, phone=phone, opted_out=body.opted_out)
    return _mine(session, phone)
