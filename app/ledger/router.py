"""HTTP for the public-revenue ledger (公共收益). There is no route that edits or deletes an entry."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import FileResponse, Response

from app.auth.models import Role
from app.auth.roles import LEDGER_APPROVERS, LEDGER_RECORDERS, OWNERS, STAFF
from app.deps import CompoundAccess, SessionDep, compound_access
from app.files import service as files_service
from app.ledger import exports, importer, policy, rules, service, views
from app.ledger.exceptions import LedgerInvalid, PeriodNotFound
from app.ledger.schemas import (
    AcceptIn,
    AuditReportIn,
    EntryIn,
    LedgerDecisionOut,
    LedgerEntryOut,
    LedgerImportOut,
    LedgerImportSummaryOut,
    LedgerPeriodDetailOut,
    LedgerPeriodOut,
    LedgerSettingsIn,
    LedgerSettingsOut,
    LedgerStatusOut,
    ReasonIn,
)
from app.roster import service as roster_service
from app.schemas import only_form_fields

router = APIRouter(tags=["ledger"])

Reader = Annotated[CompoundAccess, Depends(compound_access(*STAFF, *OWNERS))]
StaffReader = Annotated[CompoundAccess, Depends(compound_access(*STAFF))]
Recorder = Annotated[CompoundAccess, Depends(compound_access(*LEDGER_RECORDERS))]
Committee = Annotated[CompoundAccess, Depends(compound_access(*LEDGER_APPROVERS))]
L = "/compounds/{compound_id}/ledger"
P = L + "/periods/{start_date}"
E = L + "/entries/{entry_id}"


def _fen(fen: int | None, text: str | None, what: str, *, required: bool) -> int:
    if fen is not None and text not in (None, ""):
        raise LedgerInvalid(f"{what}请只填一种写法（元或分）", code="ledger_amount_invalid")
    if fen is not None:
        return fen
    if text in (None, ""):
        if required:
            raise LedgerInvalid(f"请填写{what}", code="ledger_amount_invalid")
        return 0
    try:
        return rules.parse_yuan(text or "")
    except ValueError as exc:
        raise LedgerInvalid(str(exc).replace("金额", what, 1), code="ledger_amount_invalid") from exc


def _entries(session: SessionDep, access: CompoundAccess, entries: list[Any]) -> list[LedgerEntryOut]:
    return views.entries_view(session, compound_id=access.compound_id, entries=entries)


def _download(content: bytes, media_type: str, file_name: str) -> Response:
    return Response(content=content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"ledger.{file_name.rsplit('.', 1)[-1]}\"; "
                               f"filename*=UTF-8''{quote(file_name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})


def _file(record: Any) -> FileResponse:
    return FileResponse(files_service.file_path(record), media_type=record.content_type, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(record.file_name)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


# --- settings and status ---------------------------------------------------------------------


@router.get(L + "/settings")
def get_settings(access: Reader, session: SessionDep) -> LedgerSettingsOut:
    return views.settings_view(service.get_settings(session, compound_id=access.compound_id))


@router.put(L + "/settings")
def put_settings(body: LedgerSettingsIn, access: Committee, session: SessionDep) -> LedgerSettingsOut:
    setting = service.update_settings(session, compound_id=access.compound_id,
                                      changes=body.model_dump(exclude_unset=True), actor=access.actor)
    return views.settings_view(setting)


@router.get(L + "/status")
def status(access: Reader, session: SessionDep) -> LedgerStatusOut:
    """For the compound page: quarters ended without a published statement, the latest balance."""
    return views.status_view(session, access=access)


@router.get(L + "/decisions")
def decisions(access: StaffReader, session: SessionDep) -> list[LedgerDecisionOut]:
    """Matters the owners passed (published, whole compound) that an expense may rely on."""
    return views.decisions_view(session, compound_id=access.compound_id)


# --- entries ---------------------------------------------------------------------------------


@router.post(L + "/entries", status_code=201)
def record_entry(body: EntryIn, access: Recorder, session: SessionDep) -> LedgerEntryOut:
    """Record an entry (pending until another committee member approves it)."""
    entry = service.record_entry(
        session, compound_id=access.compound_id, actor=access.actor, direction=body.direction,
        category=body.category, entry_date=body.entry_date,
        amount_fen=_fen(body.amount_fen, body.amount, "金额", required=True),
        cost_fen=_fen(body.cost_fen, body.cost, "扣除成本", required=False),
        cost_note=body.cost_note, counterparty=body.counterparty, description=body.description,
        voucher_file_ids=body.voucher_file_ids, cost_evidence_file_ids=body.cost_evidence_file_ids,
        matter_id=body.matter_id, late_for_period_start=body.late_for_period_start)
    return _entries(session, access, [entry])[0]


@router.get(L + "/entries")
def list_entries(access: StaffReader, session: SessionDep,
                 status: Literal["all", "pending", "approved", "rejected"] = "all",
                 period_start: date | None = None) -> list[LedgerEntryOut]:
    """Staff: entries by status (pending = the approval queue), optionally of one period."""
    period_id = None
    if period_start is not None:
        slot = service.find_slot(session, compound_id=access.compound_id, start_date=period_start)
        if slot.row is None:
            return []
        period_id = slot.row.id
    entries = service.list_entries(session, compound_id=access.compound_id, status=status,
                                   period_id=period_id)
    return _entries(session, access, entries)


@router.get(E)
def get_entry(entry_id: int, access: Reader, session: SessionDep) -> LedgerEntryOut:
    entry = service.get_entry(session, compound_id=access.compound_id, entry_id=entry_id)
    policy.check_entry_visible(session, entry=entry, access=access)
    return _entries(session, access, [entry])[0]


@router.post(E + "/approve")
def approve_entry(entry_id: int, access: Committee, session: SessionDep) -> LedgerEntryOut:
    entry = service.approve_entry(session, compound_id=access.compound_id, entry_id=entry_id,
                                  actor=access.actor)
    return _entries(session, access, [entry])[0]


@router.post(E + "/reject")
def reject_entry(entry_id: int, body: ReasonIn, access: Recorder, session: SessionDep) -> LedgerEntryOut:
    """Reject (committee) or withdraw (the recorder) a pending entry; it stays on record."""
    entry = service.reject_entry(session, compound_id=access.compound_id, entry_id=entry_id,
                                 actor=access.actor, reason=body.reason,
                                 is_committee=Role.COMMITTEE in access.roles)
    return _entries(session, access, [entry])[0]


@router.post(E + "/reverse", status_code=201)
def reverse_entry(entry_id: int, body: ReasonIn, access: Recorder, session: SessionDep) -> LedgerEntryOut:
    """Record the reversing entry of an approved entry (pending until approved)."""
    entry = service.reverse_entry(session, compound_id=access.compound_id, entry_id=entry_id,
                                  actor=access.actor, reason=body.reason)
    return _entries(session, access, [entry])[0]


@router.get(E + "/files/{file_id}",
            responses={200: {"content": {t: {} for t in files_service.ALLOWED_TYPES}}})
def entry_file(entry_id: int, file_id: int, access: Reader, session: SessionDep) -> FileResponse:
    """A voucher of an entry, for whoever may see the entry."""
    entry = service.get_entry(session, compound_id=access.compound_id, entry_id=entry_id)
    policy.check_entry_visible(session, entry=entry, access=access)
    return _file(service.check_file_of_entry(session, entry=entry, file_id=file_id))


# --- periods ---------------------------------------------------------------------------------


@router.get(L + "/periods")
def list_periods(access: Reader, session: SessionDep) -> list[LedgerPeriodOut]:
    """Periods with their statements, oldest first (owners: published ones only)."""
    return [views.period_view(session, compound_id=access.compound_id, slot=slot)
            for slot in policy.visible_slots(session, access=access)]


@router.get(P)
def get_period(start_date: date, access: Reader, session: SessionDep) -> LedgerPeriodDetailOut:
    """A period's statement and entries (owners: published periods, approved entries)."""
    slot = policy.visible_slot(session, access=access, start_date=start_date)
    view = views.period_view(session, compound_id=access.compound_id, slot=slot)
    entries: list[LedgerEntryOut] = []
    if slot.row is not None:
        status_filter = "all" if policy.is_staff(access) else "approved"
        entries = _entries(session, access, service.list_entries(
            session, compound_id=access.compound_id, status=status_filter, period_id=slot.row.id,
            limit=5000))
    return LedgerPeriodDetailOut(**dict(view), entries=entries)


@router.post(P + "/close")
def close_period(start_date: date, access: Committee, session: SessionDep) -> LedgerPeriodOut:
    service.close_period(session, compound_id=access.compound_id, start_date=start_date,
                         actor=access.actor)
    slot = service.find_slot(session, compound_id=access.compound_id, start_date=start_date)
    return views.period_view(session, compound_id=access.compound_id, slot=slot)


@router.post(P + "/audit-report")
def attach_audit_report(start_date: date, body: AuditReportIn, access: Committee,
                        session: SessionDep) -> LedgerPeriodOut:
    service.attach_audit_report(session, compound_id=access.compound_id, start_date=start_date,
                                file_id=body.file_id, actor=access.actor)
    slot = service.find_slot(session, compound_id=access.compound_id, start_date=start_date)
    return views.period_view(session, compound_id=access.compound_id, slot=slot)


@router.get(P + "/audit-report", response_class=FileResponse,
            responses={200: {"description": "the audit report as filed",
                             "content": {t: {} for t in files_service.ALLOWED_TYPES}}})
def audit_report(start_date: date, access: Reader, session: SessionDep) -> FileResponse:
    slot = policy.visible_slot(session, access=access, start_date=start_date)
    if slot.row is None or slot.row.audit_report_file_id is None:
        raise PeriodNotFound("该期间没有审计报告", code="ledger_audit_report_not_found")
    return _file(files_service.get_file(session, compound_id=access.compound_id,
                                        file_id=slot.row.audit_report_file_id))


@router.post(P + "/publish")
def publish_period(start_date: date, access: Committee, session: SessionDep) -> LedgerPeriodOut:
    """Publish the closed period's statement as a 公共收益公示 notice."""
    service.publish_period(session, compound_id=access.compound_id, start_date=start_date,
                           actor=access.actor)
    slot = service.find_slot(session, compound_id=access.compound_id, start_date=start_date)
    return views.period_view(session, compound_id=access.compound_id, slot=slot)


def _export_args(session: SessionDep, access: CompoundAccess, start_date: date) -> dict[str, Any]:
    slot = policy.visible_slot(session, access=access, start_date=start_date)
    statement = views.require_closed(slot)
    compound = roster_service.get_compound(session, compound_id=access.compound_id)
    return {"compound_name": compound.name, "statement": statement,
            "statement_sha256": slot.row.statement_sha256 if slot.row else "",
            "status_label": service.STATUS_LABELS[slot.status(service.today())]}


@router.get(P + "/statement.xlsx", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument"
                                         ".spreadsheetml.sheet": {}}}})
def statement_xlsx(start_date: date, access: Reader, session: SessionDep) -> Response:
    args = _export_args(session, access, start_date)
    content = exports.statement_xlsx(**args)
    return _download(content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"公共收益收支表-{args['statement']['period']['label']}.xlsx")


@router.get(P + "/statement.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def statement_pdf(start_date: date, access: Reader, session: SessionDep) -> Response:
    args = _export_args(session, access, start_date)
    slot = service.find_slot(session, compound_id=access.compound_id, start_date=start_date)
    report = None
    if slot.row is not None and slot.row.audit_report_file_id:
        report = files_service.get_file(session, compound_id=access.compound_id,
                                        file_id=slot.row.audit_report_file_id).file_name
    content = exports.statement_pdf(**args, audit_report_name=report)
    return _download(content, "application/pdf",
                     f"公共收益收支表-{args['statement']['period']['label']}.pdf")


# --- CSV import ------------------------------------------------------------------------------


@router.get(L + "/import-template", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def import_template(access: StaffReader) -> Response:
    return _download(("\ufeff" + importer.TEMPLATE).encode("utf-8"), "text/csv; charset=utf-8",
                     "公共收益导入模板.csv")


@router.post(L + "/imports", status_code=201)
def create_import(access: Recorder, session: SessionDep,
                  file: Annotated[UploadFile, File()],
                  _form: Annotated[None, Depends(only_form_fields("file"))] = None) -> LedgerImportOut:
    """Upload a CSV: checked row by row; a good file becomes draft rows for review."""
    content = file.file.read(importer.MAX_BYTES + 1)
    record = importer.create_import(session, compound_id=access.compound_id, content=content,
                                    file_name=file.filename or "import.csv", actor=access.actor)
    rows = importer.import_rows(session, import_id=record.id or 0)
    names = service.user_names(session, [record.imported_by])
    return views.import_view(record, rows=rows, names=names)


@router.get(L + "/imports")
def list_imports(access: StaffReader, session: SessionDep) -> list[LedgerImportSummaryOut]:
    found = importer.list_imports(session, compound_id=access.compound_id)
    names = service.user_names(session, [r.imported_by for r, _ in found])
    return [views.import_summary_view(r, undecided=n, names=names) for r, n in found]


@router.get(L + "/imports/{import_id}")
def get_import(import_id: int, access: StaffReader, session: SessionDep) -> LedgerImportOut:
    record = importer.get_import(session, compound_id=access.compound_id, import_id=import_id)
    rows = importer.import_rows(session, import_id=import_id)
    names = service.user_names(session, [record.imported_by, *(r.decided_by for r in rows)])
    return views.import_view(record, rows=rows, names=names)


@router.post(L + "/imports/{import_id}/rows/{row_id}/accept", status_code=201)
def accept_row(import_id: int, row_id: int, body: AcceptIn, access: Committee,
               session: SessionDep) -> LedgerEntryOut:
    """Record the draft row as a pending entry (another committee member approves it)."""
    entry = importer.accept_row(
        session, compound_id=access.compound_id, import_id=import_id, row_id=row_id,
        actor=access.actor, voucher_file_ids=body.voucher_file_ids,
        cost_evidence_file_ids=body.cost_evidence_file_ids, matter_id=body.matter_id,
        late=body.late)
    return _entries(session, access, [entry])[0]


@router.post(L + "/imports/{import_id}/rows/{row_id}/discard")
def discard_row(import_id: int, row_id: int, body: ReasonIn, access: Committee,
                session: SessionDep) -> LedgerImportOut:
    importer.discard_row(session, compound_id=access.compound_id, import_id=import_id,
                         row_id=row_id, actor=access.actor, reason=body.reason)
    record = importer.get_import(session, compound_id=access.compound_id, import_id=import_id)
    rows = importer.import_rows(session, import_id=import_id)
    names = service.user_names(session, [record.imported_by, *(r.decided_by for r in rows)])
    return views.import_view(record, rows=rows, names=names)
