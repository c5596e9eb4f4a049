"""Compounds, the roster's totals, units and voting subjects."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.roles import MANAGERS, OWNERS, ROSTER_EXPORTERS, ROSTER_KEEPERS, STAFF
from app.db import transaction
from app.deps import CompoundAccess, CurrentPrincipal, PlatformAdmin, SessionDep, compound_access
from app.roster import editing, export, importer, removals, service, template
from app.roster.models import Compound, UnitStatus
from app.roster.schemas import (
    CompoundIn,
    CompoundOut,
    OwnerDetail,
    OwnerEditIn,
    RemovalIn,
    RemovalOut,
    RemovalPending,
    RepresentativeIn,
    RepresentativeOut,
    RosterImportOut,
    RosterImportPage,
    RosterSettingsIn,
    RosterSettingsOut,
    RosterSummary,
    SubjectPage,
    UnitDetail,
    UnitEditIn,
    UnitPage,
)
from app.schemas import only_form_fields

router = APIRouter(tags=["roster"])

UNIT_SORT_PATTERN = "^-?(" + "|".join(service.UNIT_SORTS) + ")$"

RosterReader = Annotated[
    CompoundAccess,
    Depends(compound_access(*STAFF)),
]
RosterKeeper = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
AnyMember = Annotated[CompoundAccess, Depends(compound_access(*STAFF, *OWNERS))]
PersonalDataReader = Annotated[
    CompoundAccess, Depends(compound_access(*ROSTER_KEEPERS))
]
# The full roster in clear (names, phones): the owners' committee only (PIPL: least access).
RosterExporter = Annotated[CompoundAccess, Depends(compound_access(*ROSTER_EXPORTERS))]


def _out(c: Compound) -> CompoundOut:
    return CompoundOut.model_validate(c, from_attributes=True)


@router.post("/compounds", response_model=CompoundOut, status_code=201)
def create_compound(body: CompoundIn, admin: PlatformAdmin, session: SessionDep) -> CompoundOut:
    compound = service.create_compound(
        session, **body.model_dump(), actor=admin.actor_as(Role.PLATFORM_ADMIN)
    )
    return _out(compound)


@router.get("/compounds", response_model=list[CompoundOut])
def list_compounds(principal: CurrentPrincipal, session: SessionDep) -> list[CompoundOut]:
    """Compounds the caller belongs to (all of them for a platform admin)."""
    if principal.user.is_platform_admin and principal.password_verified:
        return [_out(c) for c in service.list_compounds(session)]
    # Staff grants count only in a password session (a code session stands as an owner).
    ids = set(auth_service.compounds_with_grants(session, user=principal.user)
              if principal.password_verified else ())
    if principal.user.phone:
        ids |= set(service.compound_ids_for_phone(session, phone=principal.user.phone))
    return [_out(c) for c in service.list_compounds(session, ids=sorted(ids))]


@router.get("/compounds/{compound_id}", response_model=CompoundOut)
def get_compound(access: AnyMember, session: SessionDep) -> CompoundOut:
    return _out(service.get_compound(session, compound_id=access.compound_id))


@router.get("/compounds/{compound_id}/roster/summary", response_model=RosterSummary)
def roster_summary(access: RosterReader, session: SessionDep) -> RosterSummary:
    t = service.roster_totals(session, compound_id=access.compound_id)
    return RosterSummary(
        compound_id=access.compound_id, unit_count=t.unit_count,
        voting_unit_count=t.voting_unit_count, owner_count=t.owner_count,
        subject_count=t.subject_count, total_area_hundredths=t.total_area_hundredths,
        total_area=service.format_area(t.total_area_hundredths),
        developer_unit_count=t.developer_unit_count, co_owned_unit_count=t.co_owned_unit_count,
        by_building=t.by_building,
    )


def _settings_out(session, compound_id: int) -> RosterSettingsOut:
    compound = service.get_compound(session, compound_id=compound_id)
    area, subjects = service.subject_totals(session, compound_id=compound_id)
    return RosterSettingsOut(
        parking_counts_as_area=compound.parking_counts_as_area, subject_count=subjects,
        total_area_hundredths=area, total_area=service.format_area(area),
        parking_unit_count=service.parking_unit_count(session, compound_id=compound_id))


@router.get("/compounds/{compound_id}/roster/settings", response_model=RosterSettingsOut)
def roster_settings(access: RosterReader, session: SessionDep) -> RosterSettingsOut:
    """Whether parking spaces carry area and a vote, with the roster's totals under that rule."""
    return _settings_out(session, access.compound_id)


@router.put("/compounds/{compound_id}/roster/settings", response_model=RosterSettingsOut)
def put_roster_settings(body: RosterSettingsIn, access: RosterKeeper,
                        session: SessionDep) -> RosterSettingsOut:
    service.set_parking_counts_as_area(session, compound_id=access.compound_id,
                                       counts=body.parking_counts_as_area, actor=access.actor)
    return _settings_out(session, access.compound_id)


@router.get("/compounds/{compound_id}/units", response_model=UnitPage)
def list_units(
    access: PersonalDataReader,
    session: SessionDep,
    building: str | None = None,
    q: Annotated[str | None, Query(max_length=30)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    entrance: Annotated[str | None, Query(max_length=20)] = None,
    status: UnitStatus | None = None,
    sort: Annotated[str, Query(pattern=UNIT_SORT_PATTERN)] = "building",
) -> UnitPage:
    total, items = service.list_units(
        session, compound_id=access.compound_id, building=building, query=q, offset=offset,
        limit=limit, entrance=entrance, status=status, sort=sort,
    )
    entrances = service.unit_entrances(session, compound_id=access.compound_id, building=building)
    return UnitPage.model_validate({"total": total, "items": items, "entrances": entrances})


@router.get("/compounds/{compound_id}/subjects", response_model=SubjectPage)
def list_subjects(
    access: PersonalDataReader,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SubjectPage:
    total, items = service.list_subjects(
        session, compound_id=access.compound_id, offset=offset, limit=limit
    )
    return SubjectPage.model_validate({"total": total, "items": items})


@router.put("/compounds/{compound_id}/subjects/{subject_id}/representative")
def set_representative(
    subject_id: int, body: RepresentativeIn, access: RosterKeeper, session: SessionDep
) -> RepresentativeOut:
    subject = service.set_representative(
        session, compound_id=access.compound_id, subject_id=subject_id, owner_id=body.owner_id,
        actor=access.actor,
    )
    return RepresentativeOut(subject_id=subject.id or 0,
                             representative_owner_id=subject.representative_owner_id)


# --- roster import ---------------------------------------------------------------------------


@router.post(
    "/compounds/{compound_id}/roster/imports", response_model=RosterImportOut, status_code=201
)
def upload_roster(
    access: RosterKeeper,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="名册文件（.xlsx、.xls 或 .csv）")],
    known_buildings_only: Annotated[bool, Form()] = False,
    _form: Annotated[None, Depends(only_form_fields("file", "known_buildings_only"))] = None,
) -> RosterImportOut:
    """Validate a roster file and store its preview (diff against the current roster)."""
    content = importer.read_limited(file.file)
    record = importer.create_preview(
        session, compound_id=access.compound_id, content=content, file_name=file.filename or "",
        known_buildings_only=known_buildings_only, uploaded_by=access.user_id,
    )
    return RosterImportOut.model_validate(importer.import_view(record))


@router.get("/compounds/{compound_id}/roster/imports", response_model=RosterImportPage)
def list_roster_imports(
    access: RosterKeeper,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RosterImportPage:
    total, records = importer.list_imports(
        session, compound_id=access.compound_id, offset=offset, limit=limit
    )
    items = [importer.import_view(r, with_diff=False) for r in records]
    return RosterImportPage.model_validate({"total": total, "items": items})


@router.get("/compounds/{compound_id}/roster/imports/{import_id}", response_model=RosterImportOut)
def get_roster_import(import_id: int, access: RosterKeeper, session: SessionDep) -> RosterImportOut:
    record = importer.get_import(session, compound_id=access.compound_id, import_id=import_id)
    return RosterImportOut.model_validate(importer.import_view(record))


@router.post(
    "/compounds/{compound_id}/roster/imports/{import_id}/apply", response_model=RosterImportOut
)
def apply_roster_import(
    import_id: int, access: RosterKeeper, session: SessionDep
) -> RosterImportOut:
    """Write a previewed roster; refused if the roster changed since the preview."""
    record = importer.apply_import(
        session, compound_id=access.compound_id, import_id=import_id, actor=access.actor
    )
    return RosterImportOut.model_validate(importer.import_view(record))


@router.get("/compounds/{compound_id}/roster/template", responses={200: {"content": {
    template.XLSX_MEDIA_TYPE: {}, "text/csv": {}}}})
def roster_template(
    access: RosterKeeper, format: Literal["xlsx", "csv"] = "xlsx"
) -> Response:
    """The roster template with example rows (and, for xlsx, a sheet of instructions)."""
    content, media_type, disposition = template.render_template(format)
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


# --- roster export, one unit or owner, the explicit removal step --------------------------------


@router.get("/compounds/{compound_id}/roster/export", responses={200: {"content": {
    template.XLSX_MEDIA_TYPE: {}}}})
def export_roster(access: RosterExporter) -> Response:
    """The whole roster as an XLSX in the import template (importing it back changes nothing)."""
    # A GET runs in a read transaction; the export and its audit event are written in their own
    # write transaction (BEGIN IMMEDIATE on SQLite), as an owner's notice read is.
    with transaction(write=True) as write_session:
        content, file_name = export.export_xlsx(
            write_session, compound_id=access.compound_id, actor=access.actor
        )
    return Response(content, media_type=template.XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": template.content_disposition(file_name, "roster.xlsx"),
        "Cache-Control": "no-store"})


@router.get("/compounds/{compound_id}/units/{unit_id}", response_model=UnitDetail)
def get_unit(unit_id: int, access: PersonalDataReader, session: SessionDep) -> UnitDetail:
    return UnitDetail.model_validate(
        editing.unit_detail(session, compound_id=access.compound_id, unit_id=unit_id)
    )


@router.patch("/compounds/{compound_id}/units/{unit_id}", response_model=UnitDetail)
def edit_unit(
    unit_id: int, body: UnitEditIn, access: RosterKeeper, session: SessionDep
) -> UnitDetail:
    """Correct one unit (entrance, room, area, area source, usage, status) with a reason."""
    changes = body.model_dump(exclude={"reason"}, exclude_none=True)
    return UnitDetail.model_validate(editing.edit_unit(
        session, compound_id=access.compound_id, unit_id=unit_id, changes=changes,
        reason=body.reason, actor=access.actor,
    ))


@router.patch("/compounds/{compound_id}/owners/{owner_id}", response_model=OwnerDetail)
def edit_owner(
    owner_id: int, body: OwnerEditIn, access: RosterKeeper, session: SessionDep
) -> OwnerDetail:
    """Correct one owner (name, kind, phone) with a reason."""
    changes = body.model_dump(exclude={"reason"}, exclude_none=True)
    return OwnerDetail.model_validate(editing.edit_owner(
        session, compound_id=access.compound_id, owner_id=owner_id, changes=changes,
        reason=body.reason, actor=access.actor,
    ))


@router.get("/compounds/{compound_id}/roster/removals", response_model=RemovalPending)
def pending_removals(access: RosterKeeper, session: SessionDep) -> RemovalPending:
    """Units and owners the latest applied file lacked: kept until removed explicitly."""
    return RemovalPending.model_validate(
        removals.pending_view(session, compound_id=access.compound_id)
    )


@router.post("/compounds/{compound_id}/roster/removals", response_model=RemovalOut)
def remove_pending(body: RemovalIn, access: RosterKeeper, session: SessionDep) -> RemovalOut:
    """Remove them, once the member typed their count and gave a reason (audited)."""
    return RemovalOut.model_validate(removals.remove_pending(
        session, compound_id=access.compound_id, import_id=body.import_id,
        typed_count=body.typed_count, reason=body.reason, actor=access.actor,
    ))
