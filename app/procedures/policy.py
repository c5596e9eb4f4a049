"""Who may read an agenda item (议题) and the files of its record, in each state of its life.

Staff (the committee, reviewers, observers, the property company, the platform) read the whole
procedure record from the proposal on; owners read an item once it passed review (public_at),
the point from which it appears on their timeline. Refusals read as "not found".
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from app.auth.roles import STAFF
from app.deps import CompoundAccess
from app.procedures.models import AgendaItem, AgendaStepRecord, AgendaVersion


def item_visible(item: AgendaItem, *, access: CompoundAccess) -> bool:
    if item.compound_id != access.compound_id:
        return False
    return bool(access.roles & STAFF) or item.public_at is not None


def file_readable(session: Session, *, file_id: int, access: CompoundAccess) -> bool | None:
    """Proposal documents and step attachments (minutes, opinions, publications) follow their
    item: None if no item's record holds the file."""
    needle = f"%{file_id}%"  # the ids are a JSON list: match as text first, then exactly
    versions = session.execute(
        select(AgendaVersion.document_file_ids, AgendaItem)
        .join(AgendaItem, AgendaItem.id == AgendaVersion.item_id)
        .where(AgendaVersion.compound_id == access.compound_id,
               AgendaVersion.document_file_ids.like(needle))
    ).all()
    steps = session.execute(
        select(AgendaStepRecord.file_ids, AgendaItem)
        .join(AgendaItem, AgendaItem.id == AgendaStepRecord.item_id)
        .where(AgendaStepRecord.compound_id == access.compound_id,
               AgendaStepRecord.file_ids.like(needle))
    ).all()
    attached = False
    for ids, item in [*versions, *steps]:
        if file_id not in json.loads(ids):
            continue
        attached = True
        if item_visible(item, access=access):
            return True
    return False if attached else None
