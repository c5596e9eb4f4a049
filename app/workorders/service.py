"""三单一访 (seed 001 §4.7.1): report, 网格派单, 物业接单 (accept, record the work), 群众评单,
支部回访. Each step writes its timestamp on the order, one `WorkOrderStep` row and one audit event,
in the caller's transaction (flush, never commit)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.audit.service import Actor, append_event
from app.clock import now
from app.files import service as files_service
from app.roster import service as roster_service
from app.workorders import rules
from app.workorders.exceptions import WorkOrderInvalid, WorkOrderNotFound, WorkOrderState
from app.workorders.models import WorkOrder, WorkOrderStep

MAX_PHOTOS = 3


def status_of(order: WorkOrder) -> str:
    return rules.status_of(dispatched_at=order.dispatched_at, accepted_at=order.accepted_at,
                           done_at=order.done_at, rated_at=order.rated_at,
                           visited_at=order.visited_at)


def is_overdue(order: WorkOrder, *, at: datetime | None = None) -> bool:
    return rules.is_overdue(status=status_of(order), due_at=order.due_at, at=at or now())


def _photos(session: Session, *, compound_id: int, actor: Actor, file_ids: Sequence[int]) -> list[int]:
    """Up to three images of this compound, uploaded by the caller."""
    ids = list(dict.fromkeys(file_ids))
    if len(ids) > MAX_PHOTOS:
        raise WorkOrderInvalid(f"最多上传{MAX_PHOTOS}张照片", code="work_order_too_many_photos")
    found = files_service.files_by_id(session, compound_id=compound_id, file_ids=ids)
    for fid in ids:
        record = found.get(fid)
        if record is None or record.uploaded_by != actor.user_id:
            raise WorkOrderInvalid("照片不存在或不是您上传的", code="work_order_photo_invalid")
        if not record.content_type.startswith("image/"):
            raise WorkOrderInvalid("照片须为 JPG、PNG 或 WEBP 图片", code="work_order_photo_invalid")
    return ids


def _step(session: Session, *, order: WorkOrder, kind: str, action: str, actor: Actor,
          at: datetime, note: str = "", rating: str | None = None, file_ids: Sequence[int] = (),
          payload: dict | None = None) -> None:
    assert order.id is not None
    session.add(WorkOrderStep(
        compound_id=order.compound_id, work_order_id=order.id, kind=kind, at=at,
        actor_id=actor.user_id, actor_role=actor.role, note=note, rating=rating,
        due_at=order.due_at, file_ids=list(file_ids)))
    session.add(order)
    session.flush()
    # No names, phones or free text in the chain: the category, the deadline, the rating.
    append_event(session, compound_id=order.compound_id, actor=actor,
                 action=action, object_type="work_order", object_id=order.id,
                 payload={"category": rules.CATEGORIES[order.category], **(payload or {})})


def report(session: Session, *, compound_id: int, actor: Actor, owner_phone: str, category: str,
           text: str, location: str, photo_file_ids: Sequence[int]) -> WorkOrder:
    if category not in rules.CATEGORIES:
        raise WorkOrderInvalid("问题类别不正确", code="work_order_category_invalid")
    if not text.strip() or not location.strip():
        raise WorkOrderInvalid("请填写问题描述和位置", code="work_order_text_required")
    if not roster_service.owner_ids_for_phone(session, compound_id=compound_id, phone=owner_phone):
        raise WorkOrderInvalid("该手机号不是本小区名册中的业主", code="work_order_owner_unknown")
    photos = _photos(session, compound_id=compound_id, actor=actor, file_ids=photo_file_ids)
    at = now()
    order = WorkOrder(compound_id=compound_id, category=category, text=text.strip(),
                      location=location.strip(), photo_file_ids=photos, owner_phone=owner_phone,
                      reported_by=actor.user_id or 0, reported_role=actor.role, reported_at=at,
                      due_at=rules.dispatch_due(at))
    session.add(order)
    session.flush()
    _step(session, order=order, kind="reported", action="work_order.reported",
          actor=actor, at=at, note=order.text,
          file_ids=photos, payload={"due_at": order.due_at, "photo_count": len(photos)})
    return order


def get(session: Session, *, compound_id: int, work_order_id: int) -> WorkOrder:
    order = session.get(WorkOrder, work_order_id)
    if order is None or order.compound_id != compound_id:
        raise WorkOrderNotFound()
    return order


def _need(order: WorkOrder, status: str, message: str) -> None:
    if status_of(order) != status:
        raise WorkOrderState(message)


def dispatch(session: Session, *, compound_id: int, work_order_id: int, actor: Actor,
             due_at: datetime | None, note: str) -> WorkOrder:
    order = get(session, compound_id=compound_id, work_order_id=work_order_id)
    _need(order, "reported", "该工单已派单")
    at = now()
    due = (due_at or rules.default_handling_due(order.category, at)).astimezone(UTC)
    if due <= at:
        raise WorkOrderInvalid("办理期限须晚于现在", code="work_order_due_past")
    order.dispatched_at, order.due_at, order.dispatch_note = at, due, note.strip()
    _step(session, order=order, kind="dispatched", action="work_order.dispatched",
          actor=actor, at=at, note=order.dispatch_note,
          payload={"due_at": due})
    return order


def accept(session: Session, *, compound_id: int, work_order_id: int, actor: Actor) -> WorkOrder:
    order = get(session, compound_id=compound_id, work_order_id=work_order_id)
    _need(order, "dispatched", "该工单不在待接单状态")
    order.accepted_at = now()
    _step(session, order=order, kind="accepted", action="work_order.accepted",
          actor=actor, at=order.accepted_at,
          payload={"due_at": order.due_at})
    return order


def record_done(session: Session, *, compound_id: int, work_order_id: int, actor: Actor,
                note: str, photo_file_ids: Sequence[int]) -> WorkOrder:
    order = get(session, compound_id=compound_id, work_order_id=work_order_id)
    _need(order, "accepted", "请先接单，再登记处理结果")
    if not note.strip():
        raise WorkOrderInvalid("请填写处理情况", code="work_order_text_required")
    photos = _photos(session, compound_id=compound_id, actor=actor, file_ids=photo_file_ids)
    at = now()
    late = order.due_at is not None and at > order.due_at
    order.done_at, order.done_note, order.done_photo_file_ids = at, note.strip(), photos
    order.due_at = None  # the owner's rating has no deadline
    _step(session, order=order, kind="done", action="work_order.done",
          actor=actor, at=at, note=order.done_note,
          file_ids=photos, payload={"late": late, "photo_count": len(photos)})
    return order


def rate(session: Session, *, compound_id: int, work_order_id: int, actor: Actor, phone: str,
         rating: str, comment: str) -> WorkOrder:
    order = get(session, compound_id=compound_id, work_order_id=work_order_id)
    if order.owner_phone != phone:
        raise WorkOrderNotFound()
    _need(order, "done", "该工单不在待评价状态")
    if rating not in rules.RATINGS:
        raise WorkOrderInvalid("评价须为满意、基本满意或不满意", code="work_order_rating_invalid")
    at = now()
    comment = comment.strip()
    if rating == "unsatisfied" and order.reopened_at is None:
        # 不满意 the first time: back to the property company, once, with a new deadline.
        _step_rated(session, order=order, actor=actor, at=at, rating=rating, comment=comment)
        order.reopened_at = at
        order.done_at = None
        order.done_note = ""
        order.done_photo_file_ids = []
        order.due_at = rules.default_handling_due(order.category, at)
        _step(session, order=order, kind="reopened", action="work_order.reopened",
          actor=actor, at=at,
              payload={"due_at": order.due_at})
        return order
    order.rated_at, order.rating, order.rating_comment = at, rating, comment
    order.due_at = rules.visit_due(at)
    _step(session, order=order, kind="rated", action="work_order.rated",
          actor=actor, at=at, note=comment, rating=rating,
          payload={"rating": rules.RATINGS[rating], "due_at": order.due_at})
    return order


def _step_rated(session: Session, *, order: WorkOrder, actor: Actor, at: datetime, rating: str,
                comment: str) -> None:
    _step(session, order=order, kind="rated", action="work_order.rated",
          actor=actor, at=at, note=comment, rating=rating,
          payload={"rating": rules.RATINGS[rating]})


def visit(session: Session, *, compound_id: int, work_order_id: int, actor: Actor,
          note: str) -> WorkOrder:
    order = get(session, compound_id=compound_id, work_order_id=work_order_id)
    _need(order, "rated", "业主评价后才能回访")
    if not note.strip():
        raise WorkOrderInvalid("请填写回访情况", code="work_order_text_required")
    at = now()
    late = order.due_at is not None and at > order.due_at
    order.visited_at, order.visit_note, order.due_at = at, note.strip(), None
    _step(session, order=order, kind="visited", action="work_order.visited",
          actor=actor, at=at, note=order.visit_note,
          payload={"late": late})
    return order


def steps(session: Session, *, order: WorkOrder) -> list[WorkOrderStep]:
    return list(session.execute(
        select(WorkOrderStep).where(WorkOrderStep.compound_id == order.compound_id,
                                    WorkOrderStep.work_order_id == order.id)
        .order_by(WorkOrderStep.id)).scalars())


def list_orders(session: Session, *, compound_id: int, owner_phone: str | None = None,
                status: str | None = None, overdue: bool | None = None) -> list[WorkOrder]:
    query = select(WorkOrder).where(WorkOrder.compound_id == compound_id)
    if owner_phone is not None:
        query = query.where(WorkOrder.owner_phone == owner_phone)
    orders = list(session.execute(query.order_by(WorkOrder.id.desc())).scalars())
    at = now()
    if status is not None:
        orders = [o for o in orders if status_of(o) == status]
    if overdue is not None:
        orders = [o for o in orders if is_overdue(o, at=at) == overdue]
    return orders


@dataclass(frozen=True)
class Stats:
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    overdue: int
    average_handling_hours: float | None  # report to the last recorded completion
    rated: int
    satisfied_share: float | None  # 满意 among the final ratings


def stats(session: Session, *, compound_id: int) -> Stats:
    """Anonymous aggregates of the compound's orders: no names, phones or text."""
    orders = list_orders(session, compound_id=compound_id)
    at = now()
    by_status = Counter(status_of(o) for o in orders)
    by_category = Counter(o.category for o in orders)
    hours = [(o.done_at - o.reported_at).total_seconds() / 3600 for o in orders if o.done_at]
    ratings = [o.rating for o in orders if o.rating]
    return Stats(
        total=len(orders),
        by_status={k: by_status.get(k, 0) for k in rules.STATUS_LABELS},
        by_category={k: by_category.get(k, 0) for k in rules.CATEGORIES},
        overdue=sum(1 for o in orders if is_overdue(o, at=at)),
        average_handling_hours=round(sum(hours) / len(hours), 1) if hours else None,
        rated=len(ratings),
        satisfied_share=(round(ratings.count("satisfied") / len(ratings), 4) if ratings else None),
    )


@dataclass(frozen=True)
class HandlingRound:
    """One time the property company was handed an order to handle (the dispatch, or a
    reopening after 不满意), its deadline, and when it recorded the work done (None: not yet)."""

    work_order_id: int
    due_at: datetime
    done_at: datetime | None

    @property
    def on_time(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due_at


@dataclass(frozen=True)
class GivenRating:
    work_order_id: int
    rated_at: datetime
    rating: str


def handling_rounds(session: Session, *, compound_id: int, due_from: datetime,
                    due_before: datetime) -> list[HandlingRound]:
    """Every handling round whose deadline falls in [due_from, due_before), from the orders'
    step history (credit scores count the rounds finished by their deadline)."""
    lo, hi = due_from.astimezone(UTC), due_before.astimezone(UTC)
    starts = (WorkOrderStep.kind.in_(("dispatched", "reopened")), col(WorkOrderStep.due_at) >= lo,
              col(WorkOrderStep.due_at) < hi)
    order_ids = select(WorkOrderStep.work_order_id).where(WorkOrderStep.compound_id == compound_id, *starts)
    steps = session.execute(
        select(WorkOrderStep).where(WorkOrderStep.compound_id == compound_id,
                                    WorkOrderStep.work_order_id.in_(order_ids),
                                    WorkOrderStep.kind.in_(("dispatched", "reopened", "done")))
        .order_by(WorkOrderStep.work_order_id, WorkOrderStep.id)).scalars()
    rounds: list[HandlingRound] = []
    open_round: dict[int, WorkOrderStep] = {}
    for step in steps:
        if step.kind != "done":
            open_round[step.work_order_id] = step
            continue
        start = open_round.pop(step.work_order_id, None)
        if start is not None and start.due_at is not None:
            rounds.append(HandlingRound(step.work_order_id, start.due_at.astimezone(UTC), step.at.astimezone(UTC)))
    rounds += [HandlingRound(oid, s.due_at.astimezone(UTC), None) for oid, s in open_round.items() if s.due_at]
    return sorted((r for r in rounds if lo <= r.due_at < hi), key=lambda r: (r.due_at, r.work_order_id))


def ratings_given(session: Session, *, compound_id: int, rated_from: datetime,
                  rated_before: datetime) -> list[GivenRating]:
    """Every rating owners gave in [rated_from, rated_before), a 不满意 that reopened an order
    included (it judged the company's work of that round)."""
    lo, hi = rated_from.astimezone(UTC), rated_before.astimezone(UTC)
    steps = session.execute(
        select(WorkOrderStep).where(WorkOrderStep.compound_id == compound_id, WorkOrderStep.kind == "rated",
                                    WorkOrderStep.rating.is_not(None), WorkOrderStep.at >= lo,
                                    WorkOrderStep.at < hi)
        .order_by(WorkOrderStep.at, WorkOrderStep.id)).scalars()
    return [GivenRating(s.work_order_id, s.at.astimezone(UTC), s.rating or "") for s in steps]


def order_holding_file(session: Session, *, compound_id: int, file_id: int) -> list[WorkOrder]:
    """The orders whose report or completion shows the file (for the file read policy)."""
    steps_with = session.execute(
        select(WorkOrderStep.work_order_id, WorkOrderStep.file_ids)
        .where(WorkOrderStep.compound_id == compound_id)).all()
    ids = {oid for oid, files in steps_with if file_id in (files or [])}
    if not ids:
        return []
    return list(session.execute(
        select(WorkOrder).where(WorkOrder.compound_id == compound_id, WorkOrder.id.in_(sorted(ids)))
        .order_by(WorkOrder.id)).scalars())
