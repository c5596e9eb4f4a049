"""Refusals of quarterly reports and appraisals, each with a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import Conflict, Invalid, NotFound


class ReportNotFound(NotFound):
    code = "quarterly_report_not_found"

    def __init__(self) -> None:
        super().__init__("季度报告不存在")


class AppraisalNotFound(NotFound):
    code = "appraisal_not_found"

    def __init__(self) -> None:
        super().__init__("该年度的述职评议不存在")


class RectificationNotFound(NotFound):
    code = "rectification_not_found"

    def __init__(self) -> None:
        super().__init__("整改事项不存在")


class AppraisalInvalid(Invalid):
    code = "appraisal_invalid"


class AppraisalState(Conflict):
    """The record is not in the stage the action needs."""

    code = "appraisal_state"
