"""Response views of the ledger, and who may see what (owners: published periods only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.auth.models import ROLE_LABELS, Role
from app.deps import CompoundAccess
from app.files import service as files_service
from app.ledger import policy, rules, service
from app.ledger.exceptions import LedgerConflict
from app.ledger.models import (
    LedgerEntry,
    LedgerImport,
    LedgerImportRow,
    LedgerPeriod,
    LedgerSetting,
)
from app.ledger.schemas import (
    LedgerDecisionOut,
    LedgerEntryOut,
    LedgerImportOut,
    LedgerImportSummaryOut,
    LedgerPeriodOut,
    LedgerSettingsOut,
    LedgerStatusOut,
)
from app.voting import service as voting_service

API = "/api/v1/compounds/{cid}/ledger"
VOUCHER_KIND_LABELS = {"voucher": "凭证", "cost_evidence": "成本凭证"}
ENTRY_STATUS_LABELS = {"pending": "待审核", "approved": "已审核", "rejected": "已驳回",
                       "withdrawn": "已撤回"}


# --- settings --------------------------------------------------------------------------------


def settings_view(setting: LedgerSetting) -> LedgerSettingsOut:
    snapshot = service.settings_snapshot(setting)
    return LedgerSettingsOut.model_validate({
        **snapshot,
        "period_kind_label": rules.PERIOD_KIND_LABELS[setting.period_kind],
        "decision_rules_text": rules.decision_rule_text(snapshot["decision_rules"]),
        "income_categories": list(rules.INCOME_CATEGORIES),
        "expense_categories": list(rules.EXPENSE_CATEGORIES),
        "always_decided": list(rules.ALWAYS_DECIDED),
    })


def decisions_view(session: Session, *, compound_id: int) -> list[LedgerDecisionOut]:
    return [LedgerDecisionOut.model_validate(d.__dict__)
            for d in service.passed_decisions(session, compound_id=compound_id)]


# --- entries ---------------------------------------------------------------------------------


def _role_label(code: str) -> str:
    try:
        return ROLE_LABELS[Role(code)]
    except (ValueError, KeyError):
        return code


def entry_status(entry: LedgerEntry) -> str:
    if entry.approved_at is not None:
        return "approved"
    if entry.rejected_at is not None:
        return "withdrawn" if entry.rejected_by == entry.recorded_by else "rejected"
    return "pending"


def entries_view(session: Session, *, compound_id: int, entries: Sequence[LedgerEntry]) -> list[LedgerEntryOut]:
    """Entries with their vouchers, people, decision and links, loaded in a few queries."""
    ids = [e.id or 0 for e in entries]
    vouchers = service.vouchers_by_entry(session, compound_id=compound_id, entry_ids=ids)
    reversals = service.reversals_by_entry(session, entry_ids=ids)
    names = service.user_names(session, [u for e in entries
                                         for u in (e.recorded_by, e.approved_by, e.rejected_by)])
    period_ids = {e.period_id for e in entries} | {e.late_for_period_id for e in entries
                                                   if e.late_for_period_id}
    periods = {p.id: p for p in session.execute(
        select(LedgerPeriod).where(LedgerPeriod.id.in_(sorted(period_ids)))).scalars()} if period_ids else {}
    matters = voting_service.matters_with_ballots(
        session, matter_ids=[e.matter_id for e in entries if e.matter_id])
    base = API.format(cid=compound_id)
    out = []
    for e in entries:
        period = periods[e.period_id]
        late = periods.get(e.late_for_period_id) if e.late_for_period_id else None
        status = entry_status(e)
        net = e.amount_fen - e.cost_fen if e.direction == rules.INCOME else -e.amount_fen
        matter = matters.get(e.matter_id) if e.matter_id else None
        out.append(LedgerEntryOut.model_validate({
            "id": e.id, "period_start": period.start_date,
            "period_label": rules.period_label(period.start_date, period.end_date),
            "period_published": period.published_at is not None,
            "entry_date": e.entry_date, "direction": e.direction,
            "direction_label": rules.DIRECTION_LABELS[e.direction], "category": e.category,
            "amount_fen": e.amount_fen, "cost_fen": e.cost_fen, "net_fen": net,
            "amount": rules.format_yuan(e.amount_fen), "cost": rules.format_yuan(e.cost_fen),
            "net": rules.format_yuan(net), "cost_note": e.cost_note,
            "counterparty": e.counterparty, "description": e.description,
            "matter": {"id": matter[0].id, "title": matter[0].title, "ballot_id": matter[1].id,
                       "ballot_title": matter[1].title} if matter else None,
            "reverses_id": e.reverses_id,
            "reversed_by_id": reversals[e.id].id if e.id in reversals else None,
            "late_for_period_start": late.start_date if late else None,
            "late_for_period_label": rules.period_label(late.start_date, late.end_date) if late else None,
            "status": status, "status_label": ENTRY_STATUS_LABELS[status],
            "recorded_by": e.recorded_by, "recorded_by_name": names.get(e.recorded_by, ""),
            "recorded_role_label": _role_label(e.recorded_role),
            "recorded_at": e.recorded_at,
            "approved_by_name": names.get(e.approved_by or 0, ""), "approved_at": e.approved_at,
            "rejected_by_name": names.get(e.rejected_by or 0, ""), "rejected_at": e.rejected_at,
            "rejection_reason": e.rejection_reason,
            "vouchers": [{"file_id": f.id, "file_name": f.file_name, "content_type": f.content_type,
                          "size_bytes": f.size_bytes, "kind": v.kind,
                          "kind_label": VOUCHER_KIND_LABELS.get(v.kind, v.kind),
                          "url": f"{base}/entries/{e.id}/files/{f.id}"}
                         for v, f in vouchers.get(e.id or 0, [])],
        }))
    return out


# --- periods ---------------------------------------------------------------------------------


def statement_of(session: Session, *, compound_id: int, slot: service.Slot) -> tuple[dict[str, Any], bool]:
    """The stored statement of a closed period, or a live one (not yet fixed) for an open one."""
    if slot.row is not None and slot.row.statement_json:
        stored = service.stored_statement(slot.row)
        assert stored is not None
        return stored, False
    return service.recompute_statement(session, compound_id=compound_id, slot=slot), True


def period_view(session: Session, *, compound_id: int, slot: service.Slot) -> LedgerPeriodOut:
    day = service.today()
    status = slot.status(day)
    row = slot.row
    view: dict[str, Any] = {
        "start_date": slot.start, "end_date": slot.end, "kind": slot.kind, "label": slot.label,
        "status": status, "status_label": service.STATUS_LABELS[status],
        "year_end": rules.is_year_end(slot.end),
        "closed_at": row.closed_at if row else None,
        "published_at": row.published_at if row else None,
        "notice_id": row.notice_id if row else None,
        "statement_sha256": row.statement_sha256 if row else None,
        "audit_report": None,
    }
    if row is not None and row.audit_report_file_id:
        stored = files_service.get_file(session, compound_id=compound_id,
                                        file_id=row.audit_report_file_id)
        view["audit_report"] = {
            "file_id": stored.id, "file_name": stored.file_name, "content_type": stored.content_type,
            "url": f"{API.format(cid=compound_id)}/periods/{slot.start.isoformat()}/audit-report"}
    view["statement"], view["live"] = statement_of(session, compound_id=compound_id, slot=slot)
    return LedgerPeriodOut.model_validate(view)


def require_closed(slot: service.Slot) -> dict[str, Any]:
    if slot.row is None or not slot.row.statement_json:
        raise LedgerConflict("该期间结账后才能导出报表", code="ledger_period_not_closed")
    statement = service.stored_statement(slot.row)
    assert statement is not None
    return statement


# --- status ----------------------------------------------------------------------------------


def status_view(session: Session, *, access: CompoundAccess) -> LedgerStatusOut:
    """What the compound page shows: quarters without a published statement, the last balance."""
    setting = service.get_settings(session, compound_id=access.compound_id)
    slots = service.timeline(session, compound_id=access.compound_id, setting=setting)
    published = [s for s in slots if s.published]
    latest = published[-1] if published else None
    latest_statement = service.stored_statement(latest.row) if latest and latest.row else None
    missing = service.missing_statements(session, compound_id=access.compound_id, setting=setting)
    return LedgerStatusOut.model_validate({
        "started": setting.starts_on is not None,
        "starts_on": setting.starts_on,
        "period_kind": setting.period_kind,
        "published_count": len(published),
        "latest": {
            "start_date": latest.start, "label": latest.label,
            "closing_balance_fen": latest_statement["closing_balance_fen"],
            "closing_balance": rules.format_yuan(latest_statement["closing_balance_fen"]),
            "published_at": latest.row.published_at if latest.row else None,
            "notice_id": latest.row.notice_id if latest.row else None,
        } if latest and latest_statement else None,
        "missing": [{
            "label": m.quarter.label, "start_date": m.quarter.start, "end_date": m.quarter.end,
            "due_date": m.quarter.due, "overdue": m.overdue,
        } for m in missing],
        "pending_count": service.pending_count(session, compound_id=access.compound_id)
        if policy.is_staff(access) else None,
    })


# --- imports ---------------------------------------------------------------------------------


def _import_fields(record: LedgerImport, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": record.id, "file_id": record.file_id, "file_name": record.file_name,
        "row_count": record.row_count, "imported_at": record.imported_at,
        "imported_by_name": names.get(record.imported_by, ""),
    }


def import_summary_view(record: LedgerImport, *, undecided: int,
                        names: dict[int, str]) -> LedgerImportSummaryOut:
    return LedgerImportSummaryOut.model_validate({**_import_fields(record, names), "undecided": undecided})


def import_view(record: LedgerImport, *, rows: Sequence[LedgerImportRow],
                names: dict[int, str]) -> LedgerImportOut:
    return LedgerImportOut.model_validate({
        **_import_fields(record, names),
        "undecided": sum(1 for r in rows if r.decided_at is None),
        "rows": [{
            "id": r.id, "row_number": r.row_number, "entry_date": r.entry_date,
            "direction": r.direction, "direction_label": rules.DIRECTION_LABELS[r.direction],
            "category": r.category, "amount_fen": r.amount_fen,
            "amount": rules.format_yuan(r.amount_fen), "cost_fen": r.cost_fen,
            "cost": rules.format_yuan(r.cost_fen), "counterparty": r.counterparty,
            "description": r.description,
            "status": "draft" if r.decided_at is None else ("accepted" if r.entry_id else "discarded"),
            "status_label": "待审核" if r.decided_at is None else ("已接受" if r.entry_id else "已舍弃"),
            "decided_by_name": names.get(r.decided_by or 0, ""), "decided_at": r.decided_at,
            "entry_id": r.entry_id, "discard_reason": r.discard_reason,
        } for r in rows],
    })
