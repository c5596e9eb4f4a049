"""Who may read a file attached to a quarterly report, an account or a rectification item.

Quarterly reports are the property company's reports to the community party organization: the
compound's staff read them. Accounts and rectification evidence are published to the owners with
the result: staff always, owners once the year's result is published.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from app.appraisals.models import Appraisal, AppraisalAccount, QuarterlyReport, RectificationItem
from app.auth.roles import STAFF
from app.deps import CompoundAccess


def _holds(value: str, file_id: int) -> bool:
    return file_id in json.loads(value or "[]")


def file_readable(session: Session, *, file_id: int, access: CompoundAccess) -> bool | None:
    cid = access.compound_id
    staff = bool(access.roles & STAFF)
    needle = f"%{file_id}%"  # narrows the rows; _holds decides exactly
    reports = session.execute(select(QuarterlyReport.file_ids).where(
        QuarterlyReport.compound_id == cid, QuarterlyReport.file_ids.like(needle))).scalars()
    verdict: bool | None = None
    if any(_holds(v, file_id) for v in reports):
        verdict = staff
    published = {a.id for a in session.execute(select(Appraisal).where(
        Appraisal.compound_id == cid, Appraisal.published_at.is_not(None))).scalars()}
    for appraisal_id, value in list(session.execute(select(
            AppraisalAccount.appraisal_id, AppraisalAccount.file_ids).where(
            AppraisalAccount.compound_id == cid, AppraisalAccount.file_ids.like(needle)))) + list(
            session.execute(select(RectificationItem.appraisal_id, RectificationItem.done_file_ids).where(
                RectificationItem.compound_id == cid, RectificationItem.done_file_ids.like(needle)))):
        if _holds(value, file_id):
            verdict = bool(verdict) or staff or appraisal_id in published
    return verdict
