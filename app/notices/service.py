"""Notice rules: drafts, publication, corrections, audience and reading.

Board postings are in `postings`, delivery (送达) records in `delivery`, the print in `printing`.

Other domains publish through `publish_notice` and link their object with source_type/source_id;
this module imports nothing from them.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session

from app import calendar
from app.audit.canonical import canonical_json, format_time
from app.audit.service import Actor, append_event
from app.clock import now
from app.db import is_postgres
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.files import service as files_service
from app.files.models import StoredFile
from app.notices import pdf
from app.notices.audience import SYSTEM_VIEWER as SYSTEM_VIEWER
from app.notices.audience import Viewer as Viewer
from app.notices.audience import audience_building_ids as audience_building_ids
from app.notices.audience import audience_payload, set_audience, visible_conditions
from app.notices.audience import audience_scope as audience_scope
from app.notices.audience import viewer_for as viewer_for
from app.notices.models import (
    KIND_LABELS,
    AudienceScope,
    Notice,
    NoticeAttachment,
    NoticeBuilding,
    NoticeEntrance,
    NoticeImmutable,
    NoticeKind,
)
from app.notices.schemas import StructuredContent
from app.notify import service as notify_service
from app.roster import service as roster_service
from app.roster.scope import Place, Scope, entrance_label

DEFAULT_DISPLAY_DAYS = 15
MAX_DISPLAY_DAYS = 365
StatusFilter = Literal["published", "draft", "all"]


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # "leave this field as it is" in update_draft and supersede


class NoticeNotFound(NotFound):
    code = "notice_not_found"


class NoticeNotPublished(Conflict):
    code = "notice_not_published"


class NoticeInvalid(DomainError):
    code = "notice_invalid"
    status = 422


# --- reading ----------------------------------------------------------------------------------


def get_notice(
    session: Session, *, compound_id: int, notice_id: int, viewer: Viewer = SYSTEM_VIEWER
) -> Notice:
    """One notice of the compound, if the viewer may see it (else "not found", revealing nothing)."""
    notice = session.execute(
        select(Notice).where(
            Notice.id == notice_id, Notice.compound_id == compound_id, *visible_conditions(viewer)
        )
    ).scalar_one_or_none()
    if notice is None:
        raise NoticeNotFound("公告不存在")
    return notice


def list_notices(
    session: Session, *, compound_id: int, viewer: Viewer = SYSTEM_VIEWER,
    kind: NoticeKind | None = None, status: StatusFilter = "published",
    source_type: str | None = None, source_id: str | int | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[int, list[Notice]]:
    """A page of the compound's notices the viewer may see, newest first, with the total."""
    if status != "published" and not viewer.can_see_drafts:
        raise Forbidden("仅业委会可查看公告草稿", code="notice_drafts_forbidden")
    conditions = [Notice.compound_id == compound_id, *visible_conditions(viewer)]
    if status == "published":
        conditions.append(Notice.published_at.is_not(None))
    elif status == "draft":
        conditions.append(Notice.published_at.is_(None))
    if kind is not None:
        conditions.append(Notice.kind == kind)
    if source_type is not None:
        conditions.append(Notice.source_type == source_type)
    if source_id is not None:
        conditions.append(Notice.source_id == str(source_id))
    total = session.execute(select(func.count()).select_from(Notice).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Notice)
        .where(*conditions)
        .order_by(Notice.published_at.desc().nulls_first(), Notice.id.desc())
        .offset(offset)
        .limit(limit)
    ).scalars()
    return total, list(rows)


def notices_for_source(
    session: Session, *, compound_id: int, source_type: str, source_id: str | int,
    published_only: bool = True,
) -> list[Notice]:
    """Every notice another domain published about one of its objects, newest first."""
    _, rows = list_notices(
        session, compound_id=compound_id, status="published" if published_only else "all",
        source_type=source_type, source_id=source_id, limit=1000,
    )
    return rows


def superseding_notice(session: Session, *, notice: Notice) -> Notice | None:
    """The correction that superseded this notice, if any."""
    return session.execute(
        select(Notice).where(Notice.supersedes_id == notice.id, Notice.compound_id == notice.compound_id)
    ).scalar_one_or_none()


def effective_notice(session: Session, *, compound_id: int, notice_id: int) -> Notice:
    """Follow corrections from a notice to the one now in force (itself when never corrected)."""
    notice = get_notice(session, compound_id=compound_id, notice_id=notice_id)
    seen = {notice.id}
    while (newer := superseding_notice(session, notice=notice)) is not None and newer.id not in seen:
        seen.add(newer.id)
        notice = newer
    return notice


def published_date(notice: Notice) -> date | None:
    """The day of publication in Asia/Shanghai."""
    return calendar.local_day(notice.published_at) if notice.published_at else None


def display_until(notice: Notice) -> date | None:
    """Last day of the display period: the day of publication does not count, a last day on a
    statutory holiday moves to the next working day (Civil Code Art. 201, 203)."""
    day = published_date(notice)
    return calendar.period_last_day(day, notice.display_days) if day else None


# --- the full picture of notices, loaded in batches -------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    """A notice with its audience, attachments and correction links."""

    notice: Notice
    buildings: tuple[roster_service.BuildingRef, ...]
    attachments: tuple[StoredFile, ...]
    supersedes: Notice | None
    superseded_by: Notice | None
    entrances: tuple[tuple[roster_service.BuildingRef, str], ...] = ()  # single entrances (单元)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[NoticeKind(self.notice.kind)]

    @property
    def audience(self) -> Literal["compound"] | list[int]:
        if self.notice.audience_scope == AudienceScope.COMPOUND:
            return "compound"
        return [b.id or 0 for b in self.buildings]

    @property
    def audience_entrances(self) -> list[dict[str, Any]]:
        """The single entrances addressed besides the whole buildings in `audience`."""
        return [{"building_id": b.id, "entrance": e} for b, e in self.entrances]

    @property
    def scope(self) -> Scope | None:
        """The audience as a scope (None: the whole compound)."""
        if self.notice.audience_scope == AudienceScope.COMPOUND:
            return None
        return Scope.of([b.id for b in self.buildings], [(b.id, e) for b, e in self.entrances])

    @property
    def audience_label(self) -> str:
        if self.notice.audience_scope == AudienceScope.COMPOUND:
            return "全体业主"
        parts = sorted([((b.id, ""), b.name) for b in self.buildings]
                       + [((b.id, e), entrance_label(b.name, e)) for b, e in self.entrances])
        return "、".join(text for _, text in parts) + "业主"

    @property
    def display_until(self) -> date | None:
        return display_until(self.notice)

    @property
    def status(self) -> Literal["draft", "on_display", "display_ended", "superseded"]:
        until = self.display_until
        if until is None:
            return "draft"
        if self.superseded_by is not None:
            return "superseded"
        return "display_ended" if calendar.today() > until else "on_display"

    @property
    def status_label(self) -> str:
        return {"draft": "草稿", "on_display": "公示中", "display_ended": "公示期满",
                "superseded": "已被更正"}[self.status]

    @property
    def structured(self) -> dict[str, Any] | None:
        return json.loads(self.notice.structured) if self.notice.structured else None

    @property
    def content_sha256(self) -> str | None:
        """Fingerprint of what was published, as recorded in the audit trail."""
        if self.notice.published_at is None:
            return None
        return content_digest(self.notice, building_ids=self._building_ids(),
                              attachment_sha256s=[f.sha256 for f in self.attachments],
                              entrances=[(b.id, e) for b, e in self.entrances])

    @property
    def public_url(self) -> str:
        return pdf.notice_url(self.notice.compound_id, self.notice.id or 0)

    def _building_ids(self) -> list[int]:
        return [b.id or 0 for b in self.buildings]


def describe_notices(session: Session, *, notices: Sequence[Notice]) -> list[NoticeView]:
    """Load the audience, attachments and correction links of many notices in a few queries."""
    ids = [n.id for n in notices if n.id is not None]
    if not ids:
        return []
    audience = session.execute(
        select(NoticeBuilding.notice_id, NoticeBuilding.building_id)
        .where(NoticeBuilding.notice_id.in_(ids))
        .order_by(NoticeBuilding.building_id)
    ).all()
    single = session.execute(
        select(NoticeEntrance.notice_id, NoticeEntrance.building_id, NoticeEntrance.entrance)
        .where(NoticeEntrance.notice_id.in_(ids))
        .order_by(NoticeEntrance.building_id, NoticeEntrance.entrance)
    ).all()
    by_id = {b.id: b for compound_id in {n.compound_id for n in notices}
             for b in roster_service.buildings(
                 session, compound_id=compound_id,
                 building_ids={bid for _, bid in audience} | {bid for _, bid, _ in single})}
    buildings: dict[int, list[roster_service.BuildingRef]] = defaultdict(list)
    for notice_id, building_id in audience:
        if building_id in by_id:
            buildings[notice_id].append(by_id[building_id])
    entrances: dict[int, list[tuple[roster_service.BuildingRef, str]]] = defaultdict(list)
    for notice_id, building_id, entrance in single:
        if building_id in by_id:
            entrances[notice_id].append((by_id[building_id], entrance))
    attached = session.execute(
        select(NoticeAttachment.notice_id, NoticeAttachment.stored_file_id)
        .where(NoticeAttachment.notice_id.in_(ids))
        .order_by(NoticeAttachment.position, NoticeAttachment.id)
    ).all()
    by_file = {fid: f for cid in {n.compound_id for n in notices}
               for fid, f in files_service.files_by_id(
                   session, compound_id=cid, file_ids=[file_id for _, file_id in attached]).items()}
    files: dict[int, list[StoredFile]] = defaultdict(list)
    for notice_id, file_id in attached:
        if file_id in by_file:
            files[notice_id].append(by_file[file_id])
    superseded_by = {
        n.supersedes_id: n
        for n in session.execute(
            select(Notice).where(Notice.supersedes_id.in_(ids))
        ).scalars()
    }
    older_ids = [n.supersedes_id for n in notices if n.supersedes_id is not None]
    older = {
        n.id: n
        for n in session.execute(
            select(Notice).where(Notice.id.in_(older_ids))
        ).scalars()
    } if older_ids else {}
    return [
        NoticeView(
            notice=n, buildings=tuple(buildings[n.id or 0]), attachments=tuple(files[n.id or 0]),
            entrances=tuple(entrances[n.id or 0]),
            supersedes=older.get(n.supersedes_id) if n.supersedes_id else None,
            superseded_by=superseded_by.get(n.id),
        )
        for n in notices
    ]


def describe_notice(session: Session, *, notice: Notice) -> NoticeView:
    return describe_notices(session, notices=[notice])[0]


def content_digest(
    notice: Notice, *, building_ids: Sequence[int], attachment_sha256s: Sequence[str],
    entrances: Sequence[Place] = (),
) -> str:
    """SHA-256 over the canonical JSON of everything a reader of the notice is shown.

    Single entrances enter the content only when there are some, so the fingerprints of notices
    published before entrances existed stay what was recorded."""
    content = {
        "compound_id": notice.compound_id,
        "notice_id": notice.id,
        "kind": NoticeKind(notice.kind).value,
        "title": notice.title,
        "body": notice.body,
        "audience": "compound" if notice.audience_scope == AudienceScope.COMPOUND
        else sorted(building_ids),
        "display_days": notice.display_days,
        "structured": json.loads(notice.structured) if notice.structured else None,
        "attachments": list(attachment_sha256s),
        "supersedes_id": notice.supersedes_id,
        "published_at": notice.published_at,
    }
    if entrances:
        content["audience_entrances"] = [{"building_id": b, "entrance": e} for b, e in sorted(entrances)]
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


# --- drafting and publishing ------------------------------------------------------------------


def _lock(session: Session, *, compound_id: int, notice_id: int) -> Notice:
    # FOR UPDATE serializes publish/update/correct of one notice on PostgreSQL; SQLite writers
    # already hold the database's write lock (BEGIN IMMEDIATE).
    stmt = select(Notice).where(Notice.id == notice_id, Notice.compound_id == compound_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    notice = session.execute(stmt).scalar_one_or_none()
    if notice is None:
        raise NoticeNotFound("公告不存在")
    return notice


def _audience(
    session: Session, *, compound_id: int, building_ids: Iterable[int] | None,
    entrances: Iterable[Place] = (),
) -> Scope | None:
    """The audience checked against the roster: None for the whole compound, else buildings
    and single entrances (单元) that exist in the compound."""
    entrances = list(entrances)
    if building_ids is None:
        if entrances:
            raise NoticeInvalid("面向全体业主的公告不能再选择单元", code="notice_audience_conflict")
        return None
    scope = Scope.of(building_ids or (), entrances)
    if scope.whole_compound:
        raise NoticeInvalid("请选择公告面向的楼栋或单元，或面向全体业主", code="notice_audience_empty")
    missing = roster_service.scope_problems(session, compound_id=compound_id, scope=scope)
    if missing:
        raise NoticeInvalid(f"楼栋或单元不存在：{'、'.join(missing)}", code="notice_building_not_found")
    return scope


def _attachment_files(session: Session, *, compound_id: int, file_ids: Iterable[int]) -> list[StoredFile]:
    files: list[StoredFile] = []
    for file_id in dict.fromkeys(file_ids):  # keep order, drop repeats
        stored = files_service.get_file(session, compound_id=compound_id, file_id=file_id)
        # Owners read notices; signed authorizations and paper ballots must not reach them.
        if stored.purpose in files_service.PRIVATE_PURPOSES:
            raise NoticeInvalid(f"文件「{stored.file_name}」含个人信息，不能作为公告附件",
                                code="notice_attachment_private")
        files.append(stored)
    return files


def _structured_text(value: StructuredContent | Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    try:
        model = (
            value if isinstance(value, StructuredContent)
            else StructuredContent.model_validate(dict(value))
        )
        data = model.model_dump(mode="python")
        if data.get("data") is None:
            data.pop("data", None)
        return canonical_json(data)
    except (ValidationError, TypeError, ValueError) as exc:
        raise NoticeInvalid(f"公告的结构化内容格式不正确：{exc}",
                            code="notice_structured_invalid") from exc


def _kind(value: NoticeKind | str) -> NoticeKind:
    try:
        return NoticeKind(value)
    except ValueError as exc:
        raise NoticeInvalid(f"公告类型不正确：{value}", code="notice_kind_invalid") from exc


def _display_days(days: int) -> int:
    if not 1 <= days <= MAX_DISPLAY_DAYS:
        raise NoticeInvalid(f"公示期应为1至{MAX_DISPLAY_DAYS}日", code="notice_display_days_invalid")
    return days


def _set_attachments(session: Session, notice: Notice, files: list[StoredFile]) -> None:
    for link in session.execute(
        select(NoticeAttachment).where(NoticeAttachment.notice_id == notice.id)
    ).scalars():
        session.delete(link)
    session.flush()
    for position, stored in enumerate(files):
        session.add(NoticeAttachment(compound_id=notice.compound_id, notice_id=notice.id or 0,
                                     stored_file_id=stored.id or 0, position=position))


def _new_notice(
    session: Session, *, compound_id: int, kind: NoticeKind | str, title: str, body: str,
    audience_building_ids: Iterable[int] | None, display_days: int,
    attachment_file_ids: Iterable[int], source_type: str | None, source_id: str | int | None,
    structured: StructuredContent | Mapping[str, Any] | None, supersedes_id: int | None,
    actor: Actor, audience_entrances: Iterable[Place] = (),
) -> Notice:
    roster_service.get_compound(session, compound_id=compound_id)
    scope = _audience(session, compound_id=compound_id, building_ids=audience_building_ids,
                      entrances=audience_entrances)
    files = _attachment_files(session, compound_id=compound_id, file_ids=attachment_file_ids)
    notice = Notice(
        compound_id=compound_id, kind=_kind(kind), title=title.strip(), body=body,
        display_days=_display_days(display_days), created_at=now(), created_by=actor.user_id,
        supersedes_id=supersedes_id, source_type=source_type,
        source_id=None if source_id is None else str(source_id),
        structured=_structured_text(structured),
    )
    session.add(notice)
    session.flush()
    set_audience(session, notice, scope)
    _set_attachments(session, notice, files)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="notice.draft_created",
        object_type="notice", object_id=notice.id or 0,
        payload={"kind": notice.kind, "title": notice.title, "audience": audience_payload(scope),
                 "display_days": notice.display_days, "attachment_file_ids": [f.id for f in files],
                 "source_type": source_type, "source_id": notice.source_id,
                 "supersedes_id": supersedes_id},
    )
    return notice


def create_draft(
    session: Session, *, compound_id: int, kind: NoticeKind | str, title: str = "", body: str = "",
    audience_building_ids: Iterable[int] | None = None, display_days: int = DEFAULT_DISPLAY_DAYS,
    attachment_file_ids: Iterable[int] = (), source_type: str | None = None,
    source_id: str | int | None = None,
    structured: StructuredContent | Mapping[str, Any] | None = None, actor: Actor,
    audience_entrances: Iterable[Place] = (),
) -> Notice:
    """Create an unpublished notice (audience None and no entrances: the whole compound)."""
    return _new_notice(
        session, compound_id=compound_id, kind=kind, title=title, body=body,
        audience_building_ids=audience_building_ids, audience_entrances=audience_entrances,
        display_days=display_days,
        attachment_file_ids=attachment_file_ids, source_type=source_type, source_id=source_id,
        structured=structured, supersedes_id=None, actor=actor,
    )


SOURCE_LABELS = {"ballot": "表决", "agenda_item": "重大事项程序", "ledger_period": "公共收益公示"}


def is_generated(notice: Notice) -> bool:
    """Made by another domain's lifecycle (a ballot's meeting notice or result, a ledger statement)."""
    return notice.source_type is not None


def _refuse_generated(notice: Notice) -> None:
    """Generated notices change only through their own lifecycle, never by an editor's hand."""
    if is_generated(notice):
        origin = SOURCE_LABELS.get(notice.source_type or "", "业务流程")
        raise Conflict(
            f"该公告由{origin}流程自动生成，只能通过该{origin}本身的流程更正，不能在公告栏中修改或更正",
            code="notice_generated",
            extra={"source_type": notice.source_type, "source_id": notice.source_id},
        )


def update_draft(
    session: Session, *, compound_id: int, notice_id: int, actor: Actor,
    kind: NoticeKind | str | _Keep = KEEP, title: str | _Keep = KEEP, body: str | _Keep = KEEP,
    audience_building_ids: Iterable[int] | _Keep | None = KEEP,
    display_days: int | _Keep = KEEP, attachment_file_ids: Iterable[int] | _Keep = KEEP,
    structured: StructuredContent | Mapping[str, Any] | _Keep | None = KEEP,
    audience_entrances: Iterable[Place] = (),
) -> Notice:
    """Change a draft; a published notice is refused with "notice_immutable".

    A new audience is `audience_building_ids` (None: the whole compound) with `audience_entrances`."""
    notice = _lock(session, compound_id=compound_id, notice_id=notice_id)
    if notice.published_at is not None:
        raise NoticeImmutable()
    _refuse_generated(notice)
    changed: dict[str, Any] = {}
    if not isinstance(kind, _Keep):
        notice.kind = _kind(kind)
        changed["kind"] = notice.kind
    if not isinstance(title, _Keep):
        notice.title = title.strip()
        changed["title"] = notice.title
    if not isinstance(body, _Keep):
        notice.body = body
        changed["body_sha256"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if not isinstance(display_days, _Keep):
        notice.display_days = _display_days(display_days)
        changed["display_days"] = display_days
    if not isinstance(structured, _Keep):
        notice.structured = _structured_text(structured)
        changed["structured"] = notice.structured is not None
    if not isinstance(audience_building_ids, _Keep):
        scope = _audience(session, compound_id=compound_id, building_ids=audience_building_ids,
                          entrances=audience_entrances)
        set_audience(session, notice, scope)
        changed["audience"] = audience_payload(scope)
    if not isinstance(attachment_file_ids, _Keep):
        files = _attachment_files(session, compound_id=compound_id, file_ids=attachment_file_ids)
        _set_attachments(session, notice, files)
        changed["attachment_file_ids"] = [f.id for f in files]
    session.add(notice)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="notice.draft_updated",
        object_type="notice", object_id=notice_id, payload={"changed": changed},
    )
    return notice


def _publish(session: Session, notice: Notice, *, actor: Actor) -> Notice:
    if not notice.title.strip() or not notice.body.strip():
        raise NoticeInvalid("公告标题和正文不能为空", code="notice_incomplete")
    notice.published_at = now()
    notice.published_by = actor.user_id
    session.add(notice)
    session.flush()
    view = describe_notice(session, notice=notice)
    append_event(
        session, compound_id=notice.compound_id, actor=actor, action="notice.published",
        object_type="notice", object_id=notice.id or 0,
        payload={
            "kind": notice.kind, "title": notice.title, "audience": view.audience,
            "display_days": notice.display_days, "published_at": format_time(notice.published_at),
            "display_until": str(view.display_until), "supersedes_id": notice.supersedes_id,
            "source_type": notice.source_type, "source_id": notice.source_id,
            "attachments": [{"file_id": f.id, "sha256": f.sha256} for f in view.attachments],
            "content_sha256": view.content_sha256,
        },
    )
    if notice.source_type != "ballot":  # voting announces its own (the opening, the result)
        _announce(session, view)
    return notice


def _announce(session: Session, view: NoticeView) -> None:
    """Tell the audience's owners by SMS (notify's outbox, sent after the commit)."""
    notice = view.notice
    snapshot = roster_service.scope_snapshot(session, compound_id=notice.compound_id,
                                             scope=view.scope or Scope())
    compound = roster_service.get_compound(session, compound_id=notice.compound_id)
    notify_service.enqueue_many(
        session, kind="notice_published", phones=sorted({v.phone for v in snapshot.voters if v.phone}),
        params={"compound": compound.name, "title": notice.title},
        compound_id=notice.compound_id, topic=f"notice:{notice.id}",
    )


def publish(session: Session, *, compound_id: int, notice_id: int, actor: Actor) -> Notice:
    """Publish a draft: it is dated now and can never change again."""
    notice = _lock(session, compound_id=compound_id, notice_id=notice_id)
    if notice.published_at is not None:
        raise Conflict("公告已发布", code="notice_already_published")
    return _publish(session, notice, actor=actor)


def publish_notice(
    session: Session, *, compound_id: int, kind: NoticeKind | str, title: str, body: str,
    audience_building_ids: Iterable[int] | None = None, display_days: int = DEFAULT_DISPLAY_DAYS,
    attachments: Iterable[int] = (), source_type: str | None = None,
    source_id: str | int | None = None,
    structured: StructuredContent | Mapping[str, Any] | None = None, actor: Actor,
    audience_entrances: Iterable[Place] = (),
) -> Notice:
    """Create and publish a notice in one call (the API for other domains; attachments are file ids)."""
    notice = create_draft(
        session, compound_id=compound_id, kind=kind, title=title, body=body,
        audience_building_ids=audience_building_ids, audience_entrances=audience_entrances,
        display_days=display_days,
        attachment_file_ids=attachments, source_type=source_type, source_id=source_id,
        structured=structured, actor=actor,
    )
    return _publish(session, notice, actor=actor)


def supersede(
    session: Session, *, compound_id: int, notice_id: int, title: str, body: str,
    audience_building_ids: Iterable[int] | _Keep | None = KEEP,
    display_days: int | _Keep = KEEP, attachment_file_ids: Iterable[int] | _Keep = KEEP,
    structured: StructuredContent | Mapping[str, Any] | _Keep | None = KEEP, actor: Actor,
    by_lifecycle: bool = False, audience_entrances: Iterable[Place] = (),
) -> Notice:
    """Publish a correction of a published notice; both stay visible and are linked.

    A generated notice (see `is_generated`) is corrected only by its own domain's lifecycle,
    which says so with `by_lifecycle`; an editor's correction of it is refused.
    """
    original = _lock(session, compound_id=compound_id, notice_id=notice_id)
    if original.published_at is None:
        raise NoticeNotPublished("草稿尚未发布，无需更正，可直接修改", code="notice_not_published")
    if not by_lifecycle:
        _refuse_generated(original)
    newer = superseding_notice(session, notice=original)
    if newer is not None:
        raise Conflict(f"该公告已被更正（公告编号 {newer.id}），请对最新的更正公告再行更正",
                       code="notice_already_superseded", extra={"superseded_by_id": newer.id})
    view = describe_notice(session, notice=original)
    kept = isinstance(audience_building_ids, _Keep)
    kept_audience = None if view.audience == "compound" else list(view.audience)
    correction = _new_notice(
        session, compound_id=compound_id, kind=NoticeKind(original.kind), title=title, body=body,
        audience_building_ids=kept_audience if isinstance(audience_building_ids, _Keep)
        else audience_building_ids,
        audience_entrances=[(b.id, e) for b, e in view.entrances] if kept else audience_entrances,
        display_days=original.display_days if isinstance(display_days, _Keep) else display_days,
        attachment_file_ids=[f.id or 0 for f in view.attachments]
        if isinstance(attachment_file_ids, _Keep) else attachment_file_ids,
        source_type=original.source_type, source_id=original.source_id,
        structured=view.structured if isinstance(structured, _Keep) else structured,
        supersedes_id=original.id, actor=actor,
    )
    return _publish(session, correction, actor=actor)


# --- a published notice and its audience (for postings and delivery) -------------------------------------------------------


def published_notice(session: Session, *, compound_id: int, notice_id: int, lock: bool) -> Notice:
    """A published notice (409 for a draft), locked when the caller records against it."""
    notice = (
        _lock(session, compound_id=compound_id, notice_id=notice_id) if lock
        else get_notice(session, compound_id=compound_id, notice_id=notice_id)
    )
    if notice.published_at is None:
        raise NoticeNotPublished("公告尚未发布")
    return notice
