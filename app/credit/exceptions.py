"""Refusals of the credit domain, each with a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import Conflict, Forbidden, Invalid, NotFound


class CreditInvalid(Invalid):
    code = "credit_invalid"


class CreditState(Conflict):
    """The record is not in the state the action needs."""

    code = "credit_state"


class FindingNotFound(NotFound):
    code = "credit_finding_not_found"

    def __init__(self) -> None:
        super().__init__("负面清单记录不存在")


class CreditListNotFound(NotFound):
    code = "credit_list_not_found"

    def __init__(self) -> None:
        super().__init__("红黑榜不存在")


class CreditListForbidden(Forbidden):
    """A list naming a compound the caller does not supervise."""

    code = "credit_list_forbidden"

    def __init__(self) -> None:
        super().__init__("该红黑榜包含您未获授权监管的小区，不能查看")


class CreditDistrictForbidden(Forbidden):
    code = "credit_district_forbidden"

    def __init__(self) -> None:
        super().__init__("您没有获授权监管该区的任何小区")
