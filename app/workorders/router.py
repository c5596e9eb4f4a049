"""HTTP for 三单一访 work orders (seed 001 §4.7.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.models import ROLE_LABELS, Role
from app.auth.roles import (
    OWNERS,
    WORK_ORDER_DISPATCHERS,
    WORK_ORDER_HANDLERS,
    WORK_ORDER_READERS,
    WORK_ORDER_REPORTERS,
    WORK_ORDER_STAFF,
    WORK_ORDER_VISITORS,
)
from app.deps import CompoundAccess, SessionDep, compound_access
from app.privacy import mask_phone, normalize_phone
from app.workorders import policy, rules, service
from app.workorders.exceptions import WorkOrderInvalid
from app.workorders.models import WorkOrder
from app.workorders.schemas import (
    CategoryOut,
    CountOut,
    DispatchIn,
    DoneIn,
    RateIn,
    Status,
    VisitIn,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderStatsOut,
    WorkOrderStepOut,
)

router = APIRouter(tags=["workorders"])

Reader = Annotated[CompoundAccess, Depends(compound_access(*WORK_ORDER_READERS))]
Lister = Annotated[CompoundAccess, Depends(compound_access(*WORK_ORDER_STAFF, *OWNERS))]
Reporter = Annotated[CompoundAccess, Depends(compound_access(*WORK_ORDER_REPORTERS))]
Dispatcher = Annotated[CompoundAccess, Depends(compound_access(*WORK_ORDER_DISPATCHERS))]
Handler = Annotated[CompoundAccess, Depends(compound_access(*WORK_ORDER_HANDLERS))]
Owner = Annotated[CompoundAccess, Depends(compound_access(*OWNERS))]
Visitor = Annotated[CompoundAccess, Depends(compound_access(*WORK_ORDER_VISITORS))]
W = "/compounds/{compound_id}/work-orders"
ONE = W + "/{work_order_id}"

_STEP_LABELS = {"reported": "报事", "dispatched": "派单", "accepted": "接单", "done": "办结",
                "rated": "评单", "reopened": "不满意，退回物业重新处理", "visited": "回访"}


def _role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def _actions(order: WorkOrder, status: str, access: CompoundAccess) -> list[str]:
    """The next step the caller may take on the order (the screens show only these buttons)."""
    roles = access.roles
    phone = access.principal.user.phone
    steps = {
        "reported": ("dispatch", bool(roles & WORK_ORDER_DISPATCHERS)),
        "dispatched": ("accept", bool(roles & WORK_ORDER_HANDLERS)),
        "accepted": ("done", bool(roles & WORK_ORDER_HANDLERS)),
        "done": ("rate", Role.OWNER in roles and phone is not None and phone == order.owner_phone),
        "rated": ("visit", bool(roles & WORK_ORDER_VISITORS)),
    }
    step, may = steps.get(status, ("", False))
    return [step] if may else []


def _view(session: SessionDep, order: WorkOrder, access: CompoundAccess) -> WorkOrderOut:
    status = service.status_of(order)
    return WorkOrderOut(
        id=order.id or 0, category=order.category, category_label=rules.CATEGORIES[order.category],
        text=order.text, location=order.location, photo_file_ids=order.photo_file_ids,
        owner_phone_masked=mask_phone(order.owner_phone),
        reported_role_label=_role_label(order.reported_role), status=status,
        status_label=rules.STATUS_LABELS[status], overdue=service.is_overdue(order),
        due_at=order.due_at, reported_at=order.reported_at, dispatched_at=order.dispatched_at,
        accepted_at=order.accepted_at, done_at=order.done_at, rated_at=order.rated_at,
        reopened_at=order.reopened_at, visited_at=order.visited_at,
        dispatch_note=order.dispatch_note, done_note=order.done_note,
        done_photo_file_ids=order.done_photo_file_ids, rating=order.rating,
        rating_label=rules.RATINGS.get(order.rating or ""), rating_comment=order.rating_comment,
        visit_note=order.visit_note, actions=_actions(order, status, access),
        steps=[WorkOrderStepOut(
            kind=s.kind, kind_label=_STEP_LABELS.get(s.kind, s.kind), at=s.at,
            actor_role_label=_role_label(s.actor_role), note=s.note, rating=s.rating,
            rating_label=rules.RATINGS.get(s.rating or ""), due_at=s.due_at, file_ids=s.file_ids)
            for s in service.steps(session, order=order)])


@router.get(W + "/categories")
def categories(access: Reader) -> list[CategoryOut]:
    return [CategoryOut(key=k, label=v) for k, v in rules.CATEGORIES.items()]


@router.get(W + "/stats")
def stats(access: Reader, session: SessionDep) -> WorkOrderStatsOut:
    """Anonymous aggregates for everyone in the compound: counts, handling time, satisfaction."""
    s = service.stats(session, compound_id=access.compound_id)
    return WorkOrderStatsOut(
        total=s.total, overdue=s.overdue, average_handling_hours=s.average_handling_hours,
        rated=s.rated, satisfied_share=s.satisfied_share,
        by_status=[CountOut(key=k, label=rules.STATUS_LABELS[k], count=v)
                   for k, v in s.by_status.items()],
        by_category=[CountOut(key=k, label=rules.CATEGORIES[k], count=v)
                     for k, v in s.by_category.items()])


@router.get(W)
def list_orders(access: Lister, session: SessionDep, status: Status | None = None,
                overdue: bool | None = None) -> list[WorkOrderOut]:
    """Staff of 三单一访: every order (filters: status, overdue). An owner: their own orders."""
    own = None if access.roles & WORK_ORDER_STAFF else (access.principal.user.phone or "")
    orders = service.list_orders(session, compound_id=access.compound_id, owner_phone=own,
                                 status=status, overdue=overdue)
    return [_view(session, o, access) for o in orders]


@router.post(W, status_code=201)
def report(body: WorkOrderIn, access: Reporter, session: SessionDep) -> WorkOrderOut:
    """An owner reports a problem; a grid worker reports one for an owner (their roster phone)."""
    if access.role == Role.GRID_WORKER:
        phone = normalize_phone(body.owner_phone or "")
        if phone is None:
            raise WorkOrderInvalid("请填写业主在名册中的手机号", code="work_order_owner_unknown")
    else:
        phone = access.principal.user.phone or ""
    order = service.report(
        session, compound_id=access.compound_id, actor=access.actor, owner_phone=phone,
        category=body.category, text=body.text, location=body.location,
        photo_file_ids=body.photo_file_ids)
    return _view(session, order, access)


@router.get(ONE)
def get_order(work_order_id: int, access: Lister, session: SessionDep) -> WorkOrderOut:
    order = service.get(session, compound_id=access.compound_id, work_order_id=work_order_id)
    policy.check_visible(order, access=access)
    return _view(session, order, access)


@router.post(ONE + "/dispatch")
def dispatch(work_order_id: int, body: DispatchIn, access: Dispatcher,
             session: SessionDep) -> WorkOrderOut:
    order = service.dispatch(session, compound_id=access.compound_id, work_order_id=work_order_id,
                             actor=access.actor, due_at=body.due_at, note=body.note)
    return _view(session, order, access)


@router.post(ONE + "/accept")
def accept(work_order_id: int, access: Handler, session: SessionDep) -> WorkOrderOut:
    order = service.accept(session, compound_id=access.compound_id, work_order_id=work_order_id,
                           actor=access.actor)
    return _view(session, order, access)


@router.post(ONE + "/done")
def record_done(work_order_id: int, body: DoneIn, access: Handler,
                session: SessionDep) -> WorkOrderOut:
    order = service.record_done(session, compound_id=access.compound_id,
                                work_order_id=work_order_id, actor=access.actor, note=body.note,
                                photo_file_ids=body.photo_file_ids)
    return _view(session, order, access)


@router.post(ONE + "/rating")
def rate(work_order_id: int, body: RateIn, access: Owner, session: SessionDep) -> WorkOrderOut:
    """The owner the order is for rates the result; 不满意 the first time reopens it."""
    order = service.rate(session, compound_id=access.compound_id, work_order_id=work_order_id,
                         actor=access.actor, phone=access.principal.user.phone or "",
                         rating=body.rating, comment=body.comment)
    return _view(session, order, access)


@router.post(ONE + "/visit")
def visit(work_order_id: int, body: VisitIn, access: Visitor, session: SessionDep) -> WorkOrderOut:
    order = service.visit(session, compound_id=access.compound_id, work_order_id=work_order_id,
                          actor=access.actor, note=body.note)
    return _view(session, order, access)
