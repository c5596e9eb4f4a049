"""Refusals of work orders, each with a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import Conflict, DomainError, NotFound


class WorkOrderNotFound(NotFound):
    code = "work_order_not_found"

    def __init__(self) -> None:
        super().__init__("工单不存在")


class WorkOrderInvalid(DomainError):
    code = "work_order_invalid"
    status = 422


class WorkOrderState(Conflict):
    """The order is not at the step the action needs."""

    code = "work_order_state"
