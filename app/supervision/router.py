"""HTTP for 属地监管: GET /supervision (JSON or ?format=xlsx), read-only, across compounds."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.clock import now
from app.deps import CurrentPrincipal, SessionDep
from app.errors import Forbidden
from app.supervision import exports, service
from app.supervision.schemas import SupervisionOut
from app.timefmt import format_moment

router = APIRouter(tags=["supervision"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _supervised(principal: CurrentPrincipal, session: SessionDep) -> list[int]:
    """The compounds the caller supervises; refused when there are none and the caller is not
    the platform administrator (a password session is needed for either standing)."""
    if not principal.password_verified:
        raise Forbidden("仅街道/社区监管人员和平台管理员可查看属地监管", code="forbidden")
    platform = principal.user.is_platform_admin
    ids = service.supervised_compound_ids(session, user=principal.user, platform=platform)
    if not platform and not ids:
        raise Forbidden("仅街道/社区监管人员和平台管理员可查看属地监管", code="forbidden")
    return ids


Supervised = Annotated[list[int], Depends(_supervised)]


@router.get("/supervision", response_model=SupervisionOut,
            responses={200: {"content": {XLSX: {}}}})
def supervision(
    compound_ids: Supervised, session: SessionDep,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> SupervisionOut | Response:
    """One row per supervised compound: reviews, ballots, ledger statements, satisfaction, work
    orders and the appraisal (figures only)."""
    rows = service.supervision_rows(session, compound_ids=compound_ids)
    if format == "xlsx":
        content = exports.supervision_xlsx(rows, generated_at=format_moment(now()))
        file_name = "属地监管一览.xlsx"
        return Response(content=content, media_type=XLSX, headers={
            "Content-Disposition": f"attachment; filename=\"supervision.xlsx\"; "
                                   f"filename*=UTF-8''{quote(file_name)}",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})
    return SupervisionOut(satisfaction_line_tenths=service.SATISFACTION_LINE_TENTHS,
                          rows=rows)



