"""The A4 board print of a published notice, resolved from the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.notices import pdf
from app.notices.models import (
    Notice,
)
from app.notices.schemas import StructuredContent
from app.notices.service import (
    SYSTEM_VIEWER,
    NoticeNotPublished,
    Viewer,
    describe_notice,
    get_notice,
)
from app.roster import service as roster_service


@dataclass(frozen=True)
class NoticePdf:
    file_name: str
    content: bytes


def notice_pdf(
    session: Session, *, compound_id: int, notice_id: int, viewer: Viewer = SYSTEM_VIEWER
) -> NoticePdf:
    """The A4 board print of a published notice (drafts are refused with 409), rendered once
    per notice version and kept (see pdf.notice_pdf_bytes)."""
    printable = printable_notice(session, compound_id=compound_id, notice_id=notice_id, viewer=viewer)
    return NoticePdf(file_name=f"公告{printable.notice_id}-{printable.title}.pdf",
                     content=pdf.notice_pdf_bytes(printable, compound_id=compound_id))


def printable_notice(
    session: Session, *, compound_id: int, notice_id: int, viewer: Viewer = SYSTEM_VIEWER
) -> pdf.PrintableNotice:
    """Everything the board print of a published notice shows, resolved from the database."""
    notice = get_notice(session, compound_id=compound_id, notice_id=notice_id, viewer=viewer)
    if notice.published_at is None:
        raise NoticeNotPublished("公告尚未发布，不能打印")
    view = describe_notice(session, notice=notice)
    compound = roster_service.get_compound(session, compound_id=compound_id)
    until = view.display_until
    assert until is not None

    def ref(other: Notice | None) -> pdf.NoticeRef | None:
        if other is None or other.published_at is None:
            return None
        return pdf.NoticeRef(notice_id=other.id or 0, title=other.title,
                             published_at=other.published_at)

    return pdf.PrintableNotice(
        compound_name=compound.name, issuer=pdf.issuer_of(compound.name), notice_id=notice.id or 0, kind_label=view.kind_label,
        title=notice.title, body=notice.body, audience_label=view.audience_label,
        published_at=notice.published_at, display_days=notice.display_days,
        display_until=until,
        structured=StructuredContent.model_validate(view.structured) if view.structured else None,
        attachment_names=tuple(f.file_name for f in view.attachments),
        corrects=ref(view.supersedes), corrected_by=ref(view.superseded_by),
        url=view.public_url, content_sha256=view.content_sha256 or "",
    )
