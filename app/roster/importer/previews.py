"""Previews: a validated upload stored with its plan until someone applies or discards it."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app.db import compress_large_values_quickly, is_postgres
from app.memory import collector_paused
from app.roster import service as roster_service
from app.roster.importer.columns import _ROWS_FORMAT, RosterImportConflict, RosterImportNotFound
from app.roster.importer.current import load_current, roster_fingerprint
from app.roster.importer.parsing import OwnerEntry, RosterRow, ValidatedRoster, validate_table
from app.roster.importer.planning import describe_diff, plan_changes, summarize
from app.roster.importer.reading import read_table
from app.roster.models import (
    AreaSource,
    OwnerKind,
    RosterImport,
    RosterImportStatus,
    UnitStatus,
)

# --- storing previews --------------------------------------------------------------------------


# Format 2 stores the validated roster by column: json decodes a column of strings or numbers
# in C, and the typed rows are built from the columns with one named-tuple call each, where
# format 1 (one list per row, an enum constructor per value) took longer to decode than the
# rows took to validate. A preview stored in format 1 before the change still applies.
_OWNER_KINDS = {k.value: k for k in OwnerKind}
_AREA_SOURCES = {s.value: s for s in AreaSource}
_STATUSES = {s.value: s for s in UnitStatus}


def _dump_roster(roster: ValidatedRoster) -> str:
    keys = list(roster.owners)
    index = {k: i for i, k in enumerate(keys)}
    owners = [roster.owners[k] for k in keys]
    rows = roster.rows
    data = {
        "format": _ROWS_FORMAT,
        "owners": [
            [e.kind.value for e in owners], [e.name for e in owners],
            [e.id_hash for e in owners], [e.id_last4 for e in owners], [e.phone for e in owners],
        ],
        "rows": [
            [r.row for r in rows], [r.building for r in rows], [r.entrance for r in rows],
            [r.room for r in rows], [r.area_hundredths for r in rows],
            [r.area_source.value for r in rows], [r.usage for r in rows],
            [r.status.value for r in rows],
            [[index[k] for k in r.owner_keys] for r in rows],
        ],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _load_roster(text: str) -> ValidatedRoster:
    data = json.loads(text)
    if data.get("format") == 1:
        return _load_rows_format_1(data)
    if data.get("format") != _ROWS_FORMAT:
        raise RosterImportConflict("该预览的格式已过期，请重新上传名册文件", code="roster_import_outdated")
    kinds, names, hashes, last4s, phones = data["owners"]
    entries = list(map(OwnerEntry._make, zip(map(_OWNER_KINDS.__getitem__, kinds), names,
                                             hashes, last4s, phones, strict=True)))
    keys = [e.key for e in entries]
    key_of = keys.__getitem__
    numbers, buildings, entrances, rooms, areas, sources, usages, statuses, owners = data["rows"]
    rows = list(map(RosterRow._make, zip(
        numbers, buildings, entrances, rooms, areas, map(_AREA_SOURCES.__getitem__, sources),
        usages, map(_STATUSES.__getitem__, statuses),
        [tuple(map(key_of, ix)) for ix in owners], strict=True)))
    return ValidatedRoster(rows=rows, owners=dict(zip(keys, entries, strict=True)))


def _load_rows_format_1(data: dict[str, Any]) -> ValidatedRoster:
    entries = [
        OwnerEntry(kind=OwnerKind(kind), name=name, id_hash=id_hash, id_last4=last4, phone=phone)
        for kind, name, id_hash, last4, phone in data["owners"]
    ]
    rows = [
        RosterRow(row=row, building=b, entrance=e, room=r, area_hundredths=area,
                  area_source=AreaSource(src), usage=usage, status=UnitStatus(status),
                  owner_keys=tuple(entries[i].key for i in owners))
        for row, b, e, r, area, src, usage, status, owners in data["rows"]
    ]
    return ValidatedRoster(rows=rows, owners={e.key: e for e in entries})


@collector_paused()  # builds ~10 objects per row, none in a cycle: see app/memory.py
def create_preview(
    session: Session, *, compound_id: int, content: bytes, file_name: str,
    known_buildings_only: bool = False, uploaded_by: int | None = None,
) -> RosterImport:
    """Validate a roster file completely, compare it with the roster and store the preview."""
    compound = roster_service.get_compound(session, compound_id=compound_id)
    # The file is read by a worker thread while the stored roster loads here: python-calamine
    # parses a sheet without holding the GIL (after the safety scan, which stays first), and a
    # re-import loads tens of thousands of stored units meanwhile. read_table uses no session.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="roster-read") as reader:
        reading = reader.submit(read_table, content, file_name)
        current = load_current(session, compound_id=compound_id)
        table = reading.result()
    roster = validate_table(
        table, known_buildings=set(current.buildings) if known_buildings_only else None
    )
    plan = plan_changes(current, roster)
    overview = {
        "summary": summarize(roster, parking_counts_as_area=compound.parking_counts_as_area,
                             plan=plan, current=current),
        "counts": plan.counts(),
        "result": None,
    }
    record = RosterImport(
        compound_id=compound_id, status=RosterImportStatus.PREVIEWED,
        file_name=PurePath((file_name or "roster").replace("\\", "/")).name[-255:],
        file_sha256=hashlib.sha256(content).hexdigest(), row_count=len(roster.rows),
        known_buildings_only=known_buildings_only, roster_fingerprint=roster_fingerprint(current),
        rows_json=_dump_roster(roster), summary_json=json.dumps(overview, ensure_ascii=False),
        diff_json=json.dumps(describe_diff(plan, current, roster), ensure_ascii=False),
        uploaded_by=uploaded_by,
    )
    compress_large_values_quickly(session)  # rows_json: several MB for a large roster
    session.add(record)
    session.flush()
    return record


def get_import(session: Session, *, compound_id: int, import_id: int,
               for_update: bool = False) -> RosterImport:
    """One stored import of this compound (404 for another compound's)."""
    stmt = select(RosterImport).where(
        RosterImport.id == import_id, RosterImport.compound_id == compound_id
    )
    if for_update and is_postgres(session):
        stmt = stmt.with_for_update()
    record = session.execute(stmt).scalar_one_or_none()
    if record is None:
        raise RosterImportNotFound("名册导入记录不存在")
    return record


def list_imports(
    session: Session, *, compound_id: int, offset: int = 0, limit: int = 20
) -> tuple[int, list[RosterImport]]:
    """A compound's imports, newest first, without their stored rows and diff."""
    from sqlalchemy.orm import defer

    total = session.execute(
        select(func.count()).select_from(RosterImport).where(RosterImport.compound_id == compound_id)
    ).scalar_one()
    records = session.execute(
        select(RosterImport)
        .where(RosterImport.compound_id == compound_id)
        .options(defer(RosterImport.rows_json), defer(RosterImport.diff_json))
        .order_by(RosterImport.id.desc())
        .offset(offset)
        .limit(limit)
    ).scalars()
    return total, list(records)


def import_view(record: RosterImport, *, with_diff: bool = True) -> dict[str, Any]:
    """The stored preview as the API returns it."""
    overview = json.loads(record.summary_json)
    view: dict[str, Any] = {
        "id": record.id, "compound_id": record.compound_id, "status": record.status.value
        if isinstance(record.status, RosterImportStatus) else record.status,
        "file_name": record.file_name, "file_sha256": record.file_sha256,
        "row_count": record.row_count, "known_buildings_only": record.known_buildings_only,
        "uploaded_by": record.uploaded_by, "created_at": record.created_at,
        "applied_by": record.applied_by, "applied_at": record.applied_at,
        "summary": overview["summary"], "counts": overview["counts"],
        "result": overview.get("result"),
    }
    if with_diff:
        view["diff"] = json.loads(record.diff_json)
    return view
