"""HTTP for credit scores and the red and black list (红黑榜): the supervisors' district lists
(not compound-scoped: a list spans the compounds it names, and each is checked against the
caller's grants), and each compound's company, findings, place and dismissal prompt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.appraisals.rules import Quarter
from app.audit.service import Actor
from app.auth.models import Role
from app.auth.roles import COMMITTEE, MANAGERS, OWNERS, STAFF, SUPERVISION_READERS, SUPERVISORS
from app.clock import now
from app.credit import exports, lists, prompts, rules, service, views
from app.credit.exceptions import CreditDistrictForbidden, CreditListForbidden
from app.credit.schemas import (
    CompanyRecordIn,
    CompanyRecordOut,
    CompoundCreditOut,
    CreditListIn,
    CreditListOut,
    CreditOverviewOut,
    CreditPreviewOut,
    DismissalDraftIn,
    DismissalPromptOut,
    FindingIn,
    FindingOut,
    FindingWithdrawIn,
    PromptDismissIn,
)
from app.deps import CompoundAccess, CurrentPrincipal, Principal, SessionDep, compound_access
from app.errors import Forbidden
from app.procedures.dependencies import caller_of
from app.supervision import service as supervision_service
from app.timefmt import format_moment

router = APIRouter(tags=["credit"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
C = "/compounds/{compound_id}/credit"

Member = Annotated[CompoundAccess, Depends(compound_access(*STAFF, *OWNERS))]
Manager = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
Committee = Annotated[CompoundAccess, Depends(compound_access(*COMMITTEE))]
Supervisor = Annotated[CompoundAccess, Depends(compound_access(*SUPERVISION_READERS))]
FindingReader = Annotated[CompoundAccess, Depends(compound_access(*SUPERVISORS, *MANAGERS))]


@dataclass(frozen=True)
class Supervised:
    """The caller standing as a supervisor (or the platform administrator) and its compounds."""

    principal: Principal
    compound_ids: list[int]
    platform: bool

    @property
    def actor(self) -> Actor:
        role = Role.PLATFORM_ADMIN if self.platform else Role.SUPERVISOR
        return self.principal.actor_as(role)


def _supervised(principal: CurrentPrincipal, session: SessionDep) -> Supervised:
    refusal = Forbidden("仅街道/社区监管人员和平台管理员可使用红黑榜", code="forbidden")
    if not principal.password_verified:
        raise refusal
    platform = principal.user.is_platform_admin
    ids = supervision_service.supervised_compound_ids(session, user=principal.user, platform=platform)
    if not platform and not ids:
        raise refusal
    return Supervised(principal, ids, platform)


SupervisorDep = Annotated[Supervised, Depends(_supervised)]


def _district_ids(session: SessionDep, who: Supervised, district: str) -> list[int]:
    ids = lists.district_compound_ids(session, district=district, compound_ids=who.compound_ids)
    if not ids:
        raise CreditDistrictForbidden()
    return ids


def _readable(session: SessionDep, who: Supervised, list_id: int) -> lists.CreditList:
    listing = lists.get_list(session, list_id=list_id)
    if not who.platform and not set(lists.compound_ids_of(listing)) <= set(who.compound_ids):
        raise CreditListForbidden()
    return listing


# --- the supervisors' district lists ------------------------------------------------------------------


@router.get("/credit/lists")
def overview(who: SupervisorDep, session: SessionDep) -> CreditOverviewOut:
    """The districts and ended quarters the caller may compute, and the lists it may read."""
    readable = lists.readable_lists(session, compound_ids=None if who.platform else who.compound_ids)
    return views.overview(session, districts=lists.districts_of(session, compound_ids=who.compound_ids),
                          readable=readable)


@router.get("/credit/preview")
def preview(
    who: SupervisorDep, session: SessionDep,
    district: Annotated[str, Query(min_length=1, max_length=50)],
    year: Annotated[int, Query(ge=2000, le=2100)],
    quarter: Annotated[int, Query(ge=1, le=4)],
    threshold_mode: Annotated[Literal["score", "rank"] | None, Query()] = None,
    red: Annotated[int | None, Query(ge=0, le=100)] = None,
    black: Annotated[int | None, Query(ge=0, le=100)] = None,
) -> CreditPreviewOut:
    """Every compound's score and basis for the quarter, the companies ranked (with their places
    when thresholds are given), and the digest that publishing must quote. Nothing is stored."""
    thresholds = (rules.Thresholds(threshold_mode, red if red is not None else 0, black if black is not None else 0)
                  if threshold_mode else None)
    computed = lists.compute(session, district=district, period=Quarter(year, quarter),
                             compound_ids=_district_ids(session, who, district), thresholds=thresholds)
    return views.preview_out(session, computed, thresholds)


@router.post("/credit/lists", status_code=201)
def publish(body: CreditListIn, who: SupervisorDep, session: SessionDep) -> CreditListOut:
    """Publish the district's list for the quarter as computed (irreversible; a correction is the
    next version)."""
    listing = lists.publish(
        session, district=body.district, period=Quarter(body.year, body.quarter),
        compound_ids=_district_ids(session, who, body.district),
        thresholds=rules.Thresholds(body.threshold_mode, body.red, body.black), digest=body.digest,
        correction_reason=body.correction_reason, actor=who.actor)
    return views.list_out(session, listing)


@router.get("/credit/lists/{list_id}", response_model=CreditListOut,
            responses={200: {"content": {XLSX: {}}}})
def read_list(list_id: int, who: SupervisorDep, session: SessionDep,
              format: Annotated[Literal["json", "xlsx"], Query()] = "json") -> CreditListOut | Response:
    """A published list with every compound's frozen basis; `format=xlsx` for the workbook."""
    data = views.list_out(session, _readable(session, who, list_id))
    if format == "xlsx":
        file_name = f"{data.summary.district}{data.summary.period_label}红黑榜（第{data.summary.version}版）.xlsx"
        return Response(content=exports.list_xlsx(data, generated_at=format_moment(now())), media_type=XLSX,
                        headers={"Content-Disposition": f"attachment; filename=\"credit-list-{list_id}.xlsx\"; "
                                                        f"filename*=UTF-8''{quote(file_name)}",
                                 "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})
    return data


# --- one compound ---------------------------------------------------------------------------------------


@router.get(C)
def compound_credit(access: Member, session: SessionDep) -> CompoundCreditOut:
    """The company serving the compound (and its history), its place on the latest list and the
    basis of the compound's score, and the published criteria."""
    return views.compound_credit(session, compound_id=access.compound_id)


@router.post(C + "/company", status_code=201)
def record_company(body: CompanyRecordIn, access: Manager, session: SessionDep) -> CompanyRecordOut:
    """Record the company now serving the compound: a new record, the earlier ones kept."""
    record = service.record_company(
        session, compound_id=access.compound_id, actor=access.actor, name=body.name,
        credit_code=body.credit_code, contract_starts_on=body.contract_starts_on,
        contract_ends_on=body.contract_ends_on, note=body.note)
    return views.company_out(record)


@router.get(C + "/findings")
def list_findings(access: FindingReader, session: SessionDep) -> list[FindingOut]:
    return [views.finding_out(f) for f in service.findings(session, compound_id=access.compound_id)]


@router.post(C + "/findings", status_code=201)
def record_finding(body: FindingIn, access: Supervisor, session: SessionDep) -> FindingOut:
    """A 负面清单 finding against the company serving the compound (seed 004)."""
    return views.finding_out(service.record_finding(
        session, compound_id=access.compound_id, actor=access.actor, found_on=body.found_on, text=body.text))


@router.post(C + "/findings/{finding_id}/withdraw")
def withdraw_finding(finding_id: int, body: FindingWithdrawIn, access: Supervisor,
                     session: SessionDep) -> FindingOut:
    return views.finding_out(service.withdraw_finding(
        session, compound_id=access.compound_id, finding_id=finding_id, actor=access.actor, reason=body.reason))


@router.get(C + "/dismissal-prompt")
def dismissal_prompt(access: Manager, session: SessionDep) -> DismissalPromptOut:
    """The committee's prompt: its company on the latest black list and rectification overdue."""
    return views.prompt_out(session, prompts.state(session, compound_id=access.compound_id))


@router.post(C + "/dismissal-prompt/shown")
def dismissal_prompt_shown(access: Manager, session: SessionDep) -> DismissalPromptOut:
    """Record that the prompt's causes were shown to the committee (once per cause)."""
    return views.prompt_out(session, prompts.record_shown(session, compound_id=access.compound_id,
                                                          actor=access.actor))


@router.post(C + "/dismissal-prompt/dismiss")
def dismiss_prompt(body: PromptDismissIn, access: Committee, session: SessionDep) -> DismissalPromptOut:
    return views.prompt_out(session, prompts.dismiss(session, compound_id=access.compound_id,
                                                     actor=access.actor, reason=body.reason))


@router.post(C + "/dismissal-prompt/proposal", status_code=201)
def propose_dismissal(body: DismissalDraftIn, access: Committee, session: SessionDep) -> DismissalPromptOut:
    """Propose the dismissal (解聘, Art. 278 (四)) as an agenda item through the compound's
    procedure, at its first step; the owners decide by ballot after the party review."""
    prompts.propose_dismissal(session, compound_id=access.compound_id, actor=access.actor,
                              caller=caller_of(access), title=body.title, text=body.text)
    return views.prompt_out(session, prompts.state(session, compound_id=access.compound_id))
