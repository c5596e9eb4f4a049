"""Who may read a notice and the files attached to it or to its delivery record.

A notice's attachments follow the notice (drafts: the editors; published: every member in its
audience). Board photos and delivery evidence (signed receipts with names and ID numbers) are
the delivery record, which only the committee and the platform keep and read.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.auth.roles import MANAGERS as EDITOR_ROLES
from app.deps import CompoundAccess
from app.notices import service
from app.notices.models import NoticeAttachment, NoticeDelivery, NoticePosting

DELIVERY_READERS = EDITOR_ROLES


def viewer_of(session: Session, access: CompoundAccess) -> service.Viewer:
    return service.viewer_for(session, compound_id=access.compound_id, roles=access.roles,
                              owner_ids=access.owner_ids)


def notice_visible(session: Session, *, notice_id: int, access: CompoundAccess) -> bool:
    try:
        service.get_notice(session, compound_id=access.compound_id, notice_id=notice_id,
                           viewer=viewer_of(session, access))
    except service.NoticeNotFound:
        return False
    return True


def delivery_record_readable(access: CompoundAccess) -> bool:
    return bool(access.roles & DELIVERY_READERS)


def file_readable(session: Session, *, file_id: int, access: CompoundAccess) -> bool | None:
    """None if no notice, posting or delivery holds the file."""
    cid = access.compound_id
    attached = False
    if session.execute(select(NoticePosting.id).where(
            NoticePosting.compound_id == cid, NoticePosting.photo_file_id == file_id)).first() or \
            session.execute(select(NoticeDelivery.id).where(
                NoticeDelivery.compound_id == cid, NoticeDelivery.evidence_file_id == file_id)).first():
        attached = True
        if delivery_record_readable(access):
            return True
    for notice_id in session.execute(select(NoticeAttachment.notice_id).where(
            NoticeAttachment.compound_id == cid, NoticeAttachment.stored_file_id == file_id)).scalars():
        attached = True
        if notice_visible(session, notice_id=notice_id, access=access):
            return True
    return False if attached else None

