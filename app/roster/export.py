"""The roster exported in the import template's own columns, so that importing it changes nothing.

Personal data (PIPL): the committee only may export (see the router); the export is audited. ID
numbers were never stored, so never exported: a registered one is written as its last four and
keyed hash (`importer.id_on_file`), which the importer reads back as the same owner.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.clock import now
from app.roster import importer as imp
from app.roster import template
from app.roster.labels import format_area
from app.roster.models import Building, Owner, OwnerKind, Unit, UnitOwner
from app.spreadsheets import neutralize_formulas, sheet_row
from app.timefmt import format_date


def roster_rows(session: Session, *, compound_id: int) -> list[list[object]]:
    """One template row per unit, ordered by building, entrance and room."""
    owners: dict[int, list[Owner]] = defaultdict(list)
    for unit_id, owner in session.execute(
        select(UnitOwner.unit_id, Owner)
        .join(Owner, Owner.id == UnitOwner.owner_id)
        .where(UnitOwner.compound_id == compound_id, Owner.compound_id == compound_id)
        .order_by(Owner.id)
    ):
        owners[unit_id].append(owner)
    area_index = imp.COLUMNS.index(imp.COL_AREA)
    rows: list[list[object]] = []
    for unit, building in session.execute(
        select(Unit, Building.name)
        .join(Building, Building.id == Unit.building_id)
        .where(Unit.compound_id == compound_id)
        .order_by(Building.id, Unit.entrance, func.length(Unit.room), Unit.room)
    ):
        people = owners[unit.id or 0]
        kinds = [imp.OWNER_KIND_LABELS[OwnerKind(o.kind)] for o in people]
        values: dict[str, object] = {
            imp.COL_BUILDING: building, imp.COL_ENTRANCE: unit.entrance, imp.COL_ROOM: unit.room,
            imp.COL_AREA: float(Decimal(format_area(unit.area_hundredths))),
            imp.COL_AREA_SOURCE: imp.AREA_SOURCE_LABELS[unit.area_source],
            imp.COL_USAGE: unit.usage, imp.COL_STATUS: imp.STATUS_LABELS[unit.status],
            imp.COL_OWNER_KIND: kinds[0] if len(set(kinds)) == 1 else "；".join(kinds),
            imp.COL_OWNER_NAME: "；".join(o.name for o in people),
            imp.COL_ID_NUMBER: "；".join(imp.id_on_file(o.id_last4, o.id_hash) if o.id_hash else ""
                                        for o in people) if any(o.id_hash for o in people) else "",
            imp.COL_PHONE: "；".join(o.phone or "" for o in people)
            if any(o.phone for o in people) else "",
        }
        row = [values[c] for c in imp.COLUMNS]
        row[area_index] = values[imp.COL_AREA]
        rows.append(row)
    return rows


def export_xlsx(session: Session, *, compound_id: int, actor: Actor) -> tuple[bytes, str]:
    """The roster as an XLSX in the import template, and its file name; the export is audited."""
    from openpyxl import load_workbook

    rows = roster_rows(session, compound_id=compound_id)
    book = load_workbook(io.BytesIO(template.template_xlsx()))
    sheet = book[template.SHEET_NAME]
    sheet.delete_rows(2, sheet.max_row)
    text_columns = {imp.COLUMNS.index(c) for c in
                    (imp.COL_ENTRANCE, imp.COL_ROOM, imp.COL_ID_NUMBER, imp.COL_PHONE)}
    area_index = imp.COLUMNS.index(imp.COL_AREA)
    for values in rows:
        sheet.append(sheet_row(values))
        for index, cell in enumerate(sheet[sheet.max_row]):
            if index in text_columns:
                cell.number_format = "@"
            elif index == area_index:
                cell.number_format = "0.00"
    neutralize_formulas(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    append_event(
        session, compound_id=compound_id, actor=actor, action="roster.exported",
        object_type="compound", object_id=compound_id, payload={"unit_count": len(rows)},
    )
    return buffer.getvalue(), f"业主名册-{format_date(now())}.xlsx"
