"""Who may read the ledger's entries, periods and files, in each state of a period's life.

Staff read the whole ledger at any time (the committee and the property company keep it, the
reviewers and observers oversee it); owners read a period once its statement is published, with
its approved entries, their vouchers and its audit report. Refusals read as "not found".
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from app.auth import roles
from app.deps import CompoundAccess
from app.ledger import service
from app.ledger.exceptions import EntryNotFound, PeriodNotFound
from app.ledger.models import LedgerEntry, LedgerImport, LedgerPeriod, LedgerVoucher


def is_staff(access: CompoundAccess) -> bool:
    return roles.is_staff(access.roles)


def period_visible(period: LedgerPeriod | None, *, published: bool, access: CompoundAccess) -> bool:
    """A period (stored or only implied by the settings) and its statement and audit report."""
    if period is not None and period.compound_id != access.compound_id:
        return False
    return is_staff(access) or published


def entry_visible(entry: LedgerEntry, period: LedgerPeriod, *, access: CompoundAccess) -> bool:
    """An entry and its vouchers: owners only approved entries of published periods."""
    if entry.compound_id != access.compound_id:
        return False
    return is_staff(access) or (period.published_at is not None and entry.approved_at is not None)


def check_entry_visible(session: Session, *, entry: LedgerEntry, access: CompoundAccess) -> None:
    """Owners see approved entries of published periods only; anything else is "not found"."""
    if not entry_visible(entry, service.entry_period(session, entry), access=access):
        raise EntryNotFound("账目不存在")


def visible_slot(session: Session, *, access: CompoundAccess, start_date: date) -> service.Slot:
    slot = service.find_slot(session, compound_id=access.compound_id, start_date=start_date)
    if not period_visible(slot.row, published=slot.published, access=access):
        raise PeriodNotFound("该期间尚未公示")
    return slot


def visible_slots(session: Session, *, access: CompoundAccess) -> list[service.Slot]:
    setting = service.get_settings(session, compound_id=access.compound_id)
    slots = service.timeline(session, compound_id=access.compound_id, setting=setting)
    return [s for s in slots if period_visible(s.row, published=s.published, access=access)]


def file_readable(session: Session, *, file_id: int, access: CompoundAccess) -> bool | None:
    """None if no entry, period or import of the ledger holds the file."""
    cid = access.compound_id
    attached = False
    for entry, period in session.execute(
            select(LedgerEntry, LedgerPeriod)
            .join(LedgerVoucher, LedgerVoucher.entry_id == LedgerEntry.id)
            .join(LedgerPeriod, LedgerPeriod.id == LedgerEntry.period_id)
            .where(LedgerVoucher.compound_id == cid, LedgerVoucher.file_id == file_id)).all():
        attached = True
        if entry_visible(entry, period, access=access):
            return True
    for period in session.execute(select(LedgerPeriod).where(
            LedgerPeriod.compound_id == cid, LedgerPeriod.audit_report_file_id == file_id)).scalars():
        attached = True
        if period_visible(period, published=period.published_at is not None, access=access):
            return True
    # An imported bank or property-company file: its rows are drafts, for staff only.
    if session.execute(select(LedgerImport.id).where(
            LedgerImport.compound_id == cid, LedgerImport.file_id == file_id)).first():
        attached = True
        if is_staff(access):
            return True
    return False if attached else None
