"""Who reads which work order: the staff of 三单一访 every order of their compound; an owner only
the orders reported by or for their own phone. Refusals read as "not found"."""

from __future__ import annotations

from sqlmodel import Session

from app.auth.roles import WORK_ORDER_STAFF
from app.deps import CompoundAccess
from app.workorders import service
from app.workorders.exceptions import WorkOrderNotFound
from app.workorders.models import WorkOrder


def order_visible(order: WorkOrder, *, access: CompoundAccess) -> bool:
    if order.compound_id != access.compound_id:
        return False
    if access.roles & WORK_ORDER_STAFF:
        return True
    phone = access.principal.user.phone
    return bool(access.owner_ids) and phone is not None and order.owner_phone == phone


def check_visible(order: WorkOrder, *, access: CompoundAccess) -> None:
    if not order_visible(order, access=access):
        raise WorkOrderNotFound()


def file_readable(session: Session, *, file_id: int, access: CompoundAccess) -> bool | None:
    """Report and completion photos: readable by whoever reads the order. None: no order has it."""
    orders = service.order_holding_file(session, compound_id=access.compound_id, file_id=file_id)
    if not orders:
        return None
    return any(order_visible(o, access=access) for o in orders)
