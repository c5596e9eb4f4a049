"""Board postings: a published notice put up on a board, with the photo proving it."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app import calendar
from app.audit.service import Actor, append_event
from app.clock import now
from app.files import service as files_service
from app.notices.models import (
    NoticePosting,
)
from app.notices.service import NoticeInvalid, published_date, published_notice


def record_posting(
    session: Session, *, compound_id: int, notice_id: int, posted_on: date, location: str,
    photo_file_id: int, actor: Actor,
) -> NoticePosting:
    """Record that a published notice was put on a board, with the photo proving it."""
    notice = published_notice(session, compound_id=compound_id, notice_id=notice_id, lock=True)
    if actor.user_id is None:
        raise NoticeInvalid("张贴记录须由具体人员登记", code="notice_recorder_required")
    location = location.strip()
    if not location:
        raise NoticeInvalid("请填写张贴位置", code="notice_posting_location_required")
    first_day = published_date(notice)
    today = calendar.today()
    if first_day is None or not first_day <= posted_on <= today:
        raise NoticeInvalid(f"张贴日期应在公告发布日（{first_day}）至今天之间",
                            code="notice_posting_date_invalid")
    photo = files_service.get_file(session, compound_id=compound_id, file_id=photo_file_id)
    if not photo.content_type.startswith("image/"):
        raise NoticeInvalid("张贴照片须为图片文件", code="notice_posting_photo_invalid")
    posting = NoticePosting(
        compound_id=compound_id, notice_id=notice_id, posted_on=posted_on, location=location,
        photo_file_id=photo_file_id, recorded_by=actor.user_id, recorded_at=now(),
    )
    session.add(posting)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="notice.posted",
        object_type="notice", object_id=notice_id,
        payload={"posting_id": posting.id, "posted_on": posted_on.isoformat(),
                 "location": location, "photo_file_id": photo_file_id,
                 "photo_sha256": photo.sha256},
    )
    return posting
