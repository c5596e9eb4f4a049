"""Delivery (送达) records: paper deliveries with receipts, online reads, who was reached."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app import calendar
from app.audit.canonical import format_time
from app.audit.service import Actor, append_event
from app.auth.models import Role, UserAccount
from app.clock import now
from app.db import is_postgres
from app.errors import Conflict, NotFound
from app.files import service as files_service
from app.notices.audience import audience_scope
from app.notices.models import (
    DeliveryMethod,
    NoticeDelivery,
    NoticePosting,
)
from app.notices.service import (
    NoticeInvalid,
    NoticeView,
    describe_notice,
    get_notice,
    published_notice,
)
from app.roster import service as roster_service
from app.roster.scope import Scope


def _subjects(
    session: Session, *, compound_id: int, subject_ids: Collection[int] | None = None
) -> dict[int, roster_service.SubjectSummary]:
    """The compound's current subjects (or some of them) with roster's labels."""
    return roster_service.subject_summaries(session, compound_id=compound_id, subject_ids=subject_ids)


def _in_audience(subject: roster_service.SubjectSummary, audience: Scope | None) -> bool:
    """Whether one of the subject's units lies in the audience's buildings or entrances."""
    return audience is None or audience.covers_any(subject.places)


def record_paper_delivery(
    session: Session, *, compound_id: int, notice_id: int, subject_id: int,
    evidence_file_id: int | None = None, delivered_at: datetime | None = None, actor: Actor,
) -> NoticeDelivery:
    """Record a paper delivery to one voting subject, with an optional signed receipt."""
    notice = published_notice(session, compound_id=compound_id, notice_id=notice_id, lock=True)
    if actor.user_id is None:
        raise NoticeInvalid("纸质送达须由具体人员登记", code="notice_recorder_required")
    subject = _subjects(session, compound_id=compound_id, subject_ids=[subject_id]).get(subject_id)
    if subject is None:
        raise NotFound("表决主体不存在", code="subject_not_found")
    if not _in_audience(subject, audience_scope(session, notice)):
        raise NoticeInvalid("该业主不在本公告的发布范围内", code="notice_subject_not_in_audience")
    when = now() if delivered_at is None else (
        delivered_at.replace(tzinfo=calendar.SHANGHAI) if delivered_at.tzinfo is None else delivered_at
    )
    assert notice.published_at is not None
    if not notice.published_at <= when <= now():
        raise NoticeInvalid("送达时间应在公告发布之后、当前时间之前",
                            code="notice_delivery_time_invalid")
    evidence = (
        files_service.get_file(session, compound_id=compound_id, file_id=evidence_file_id)
        if evidence_file_id is not None else None
    )
    duplicate = session.execute(
        select(NoticeDelivery.id).where(
            NoticeDelivery.notice_id == notice_id, NoticeDelivery.subject_id == subject_id,
            NoticeDelivery.method == DeliveryMethod.PAPER,
        )
    ).first()
    if duplicate is not None:
        raise Conflict("已登记过该业主的纸质送达", code="notice_delivery_exists")
    delivery = NoticeDelivery(
        compound_id=compound_id, notice_id=notice_id, subject_id=subject_id,
        subject_key=subject.key, subject_label=subject.label,
        method=DeliveryMethod.PAPER, delivered_at=when, evidence_file_id=evidence_file_id,
        recorded_by=actor.user_id,
    )
    session.add(delivery)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="notice.delivered_paper",
        object_type="notice", object_id=notice_id,
        payload={"delivery_id": delivery.id, "subject_id": subject_id,
                 "subject_label": subject.label, "delivered_at": format_time(when),
                 "evidence_file_id": evidence_file_id,
                 "evidence_sha256": evidence.sha256 if evidence else None},
    )
    return delivery


def record_online_read(
    session: Session, *, compound_id: int, notice_id: int, user: UserAccount
) -> list[int]:
    """Record that an owner opened a published notice, once per subject; returns newly reached subjects."""
    notice = published_notice(session, compound_id=compound_id, notice_id=notice_id, lock=False)
    if not user.phone:
        return []
    audience = audience_scope(session, notice)
    subjects = {
        sid: subject
        for sid, subject in _subjects(
            session, compound_id=compound_id,
            subject_ids=roster_service.owner_subject_ids(session, compound_id=compound_id, phone=user.phone),
        ).items()
        if _in_audience(subject, audience)
    }
    if not subjects:
        return []
    read_at = now()
    rows = [
        {"compound_id": compound_id, "notice_id": notice_id, "subject_id": sid,
         "subject_key": subject.key, "subject_label": subject.label,
         "method": DeliveryMethod.ONLINE_READ, "delivered_at": read_at}
        for sid, subject in sorted(subjects.items())
    ]
    # ON CONFLICT DO NOTHING keeps two simultaneous openings from failing or double-recording.
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    stmt = (
        insert(NoticeDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["notice_id", "subject_id", "method"])
        .returning(NoticeDelivery.subject_id)
    )
    added = sorted(session.execute(stmt).scalars())
    if added:
        append_event(
            session, compound_id=compound_id, actor=Actor(user_id=user.id, role=Role.OWNER.value),
            action="notice.read_online", object_type="notice", object_id=notice_id,
            payload={"subject_ids": added, "read_at": format_time(read_at)},
        )
    return added


@dataclass(frozen=True)
class SubjectReach:
    method: DeliveryMethod
    delivered_at: datetime
    evidence_file_id: int | None


@dataclass(frozen=True)
class AudienceSubject:
    subject_id: int
    label: str  # building/room of its units; never names or phones
    reached_by: tuple[SubjectReach, ...]


@dataclass(frozen=True)
class DeliveryStatus:
    """Who in the audience was reached and how, who was not, and the board postings."""

    view: NoticeView
    subjects: tuple[AudienceSubject, ...]
    postings: tuple[NoticePosting, ...]

    @property
    def reached(self) -> list[AudienceSubject]:
        return [s for s in self.subjects if s.reached_by]

    @property
    def not_reached(self) -> list[AudienceSubject]:
        return [s for s in self.subjects if not s.reached_by]

    def count_by(self, method: DeliveryMethod) -> int:
        return sum(1 for s in self.subjects if any(r.method == method for r in s.reached_by))


def delivery_status(session: Session, *, compound_id: int, notice_id: int) -> DeliveryStatus:
    """Every subject in the notice's audience with how it was reached, in building/room order."""
    notice = get_notice(session, compound_id=compound_id, notice_id=notice_id)
    view = describe_notice(session, notice=notice)
    audience = view.scope
    current = {
        sid: subject
        for sid, subject in _subjects(session, compound_id=compound_id).items()
        if _in_audience(subject, audience)
    }
    reaches: dict[int, list[SubjectReach]] = defaultdict(list)
    for d in session.execute(
        select(NoticeDelivery)
        .where(NoticeDelivery.notice_id == notice_id)
        .order_by(NoticeDelivery.delivered_at, NoticeDelivery.id)
    ).scalars():
        subject = current.get(d.subject_id)
        # A subject whose owner set changed since (a title transfer) is a new person to reach.
        if subject is not None and subject.key == d.subject_key:
            reaches[d.subject_id].append(
                SubjectReach(method=DeliveryMethod(d.method), delivered_at=d.delivered_at,
                             evidence_file_id=d.evidence_file_id)
            )
    subjects = tuple(
        AudienceSubject(subject_id=sid, label=subject.label, reached_by=tuple(reaches[sid]))
        for sid, subject in sorted(current.items(), key=lambda item: item[1].first_unit)
    )
    postings = session.execute(
        select(NoticePosting)
        .where(NoticePosting.notice_id == notice_id)
        .order_by(NoticePosting.posted_on, NoticePosting.id)
    ).scalars()
    return DeliveryStatus(view=view, subjects=subjects, postings=tuple(postings))
