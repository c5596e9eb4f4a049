"""Request and response shapes for compounds, units and subjects (personal data masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.roster.models import AreaSource, OwnerKind, UnitStatus
from app.schemas import FromText, InputModel


class EntranceIn(InputModel):
    """One entrance (单元) of a building, for a ballot's scope or a notice's audience."""

    building_id: int
    entrance: str = Field(min_length=1, max_length=20)


class EntranceOut(BaseModel):
    building_id: int
    entrance: str


class CompoundIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    district: str = Field(min_length=1, max_length=50)
    street: str = Field(min_length=1, max_length=50)
    community: str = Field(min_length=1, max_length=50)
    address: str = Field(default="", max_length=200)
    developer_name: str = Field(default="开发建设单位", max_length=100)


class RosterSettingsIn(InputModel):
    parking_counts_as_area: bool = Field(
        description="车位、车库是否计入专有部分面积并参与表决（默认不计入）")


class RosterSettingsOut(BaseModel):
    parking_counts_as_area: bool
    subject_count: int
    total_area_hundredths: int
    total_area: str  # exact, 2 decimals, m²
    parking_unit_count: int


class CompoundOut(BaseModel):
    id: int
    name: str
    district: str
    street: str
    community: str
    address: str
    developer_name: str
    parking_counts_as_area: bool
    created_at: datetime


class BuildingTotals(BaseModel):
    building_id: int
    building: str
    units: int
    area_hundredths: int
    entrances: list[str]  # the building's entrances (单元), in order; none when it has none


class RosterSummary(BaseModel):
    compound_id: int
    unit_count: int
    voting_unit_count: int
    owner_count: int
    subject_count: int
    total_area_hundredths: int
    total_area: str  # exact, 2 decimals, m²
    developer_unit_count: int
    co_owned_unit_count: int
    by_building: list[BuildingTotals]


class OwnerMasked(BaseModel):
    id: int
    name_masked: str
    phone_masked: str
    kind: str
    id_last4: str | None


class UnitOut(BaseModel):
    id: int
    building: str
    entrance: str
    room: str
    area_hundredths: int
    area: str
    area_source: str
    usage: str
    status: str
    subject_id: int | None
    owners: list[OwnerMasked]


class UnitPage(BaseModel):
    total: int
    items: list[UnitOut]
    entrances: list[str] = []  # the entrances to filter by (of the chosen building, if any)


class SubjectOut(BaseModel):
    id: int
    kind: str
    label: str
    unit_count: int
    area_hundredths: int
    area: str
    representative: OwnerMasked | None
    owners: list[OwnerMasked]


class SubjectPage(BaseModel):
    total: int
    items: list[SubjectOut]


class RepresentativeIn(InputModel):
    owner_id: int


class RepresentativeOut(BaseModel):
    """The voting subject and the co-owner who now votes for it."""

    subject_id: int
    representative_owner_id: int | None


# --- roster import -----------------------------------------------------------------------------


class ImportSummary(BaseModel):
    """Totals of the uploaded roster (headcount = number of voting subjects, DOMAIN §1)."""

    units: int
    voting_units: int
    developer_units: int
    co_owned_units: int
    parking_units: int
    buildings: int
    owners: int
    subjects: int
    headcount: int
    total_area: str  # exact, 2 decimals, m²
    total_area_hundredths: int


class ImportCounts(BaseModel):
    buildings_added: int
    units_added: int
    units_changed: int
    units_missing: int  # stored units the file lacks: NOT removed by the import
    units_unchanged: int
    owners_moved: int
    owners_added: int
    owners_updated: int
    owners_missing: int  # stored owners the file lacks: NOT removed by the import


class MaskedPerson(BaseModel):
    name_masked: str
    phone_masked: str
    kind: str  # person / organization


class ImportUnit(BaseModel):
    label: str
    building: str
    entrance: str
    room: str
    area: str
    area_hundredths: int
    area_source: str  # 不动产登记 / 测绘 / 合同
    usage: str
    status: str  # 已交付 / 未售 / 已售未交付
    owners: list[MaskedPerson]


class FieldChange(BaseModel):
    field: str
    field_label: str
    old: str
    new: str


class UnitChange(BaseModel):
    label: str
    changes: list[FieldChange]


class OwnersMoved(BaseModel):
    label: str
    old_owners: list[MaskedPerson]
    new_owners: list[MaskedPerson]


class OwnerUpdated(MaskedPerson):
    changes: list[FieldChange]


class ImportDiff(BaseModel):
    """What applying the file changes; each list holds at most `list_limit` entries."""

    buildings_added: list[str]
    units_added: list[ImportUnit]
    units_changed: list[UnitChange]
    units_missing: list[ImportUnit]
    owners_moved: list[OwnersMoved]
    owners_updated: list[OwnerUpdated]
    counts: ImportCounts
    list_limit: int
    truncated: bool


class ImportResult(BaseModel):
    """The roster's totals right after the import was applied."""

    units: int
    owners: int
    subjects: int
    headcount: int
    total_area: str
    total_area_hundredths: int
    audit_seq: int


class RosterImportItem(BaseModel):
    id: int
    compound_id: int
    status: str  # previewed / applied
    file_name: str
    file_sha256: str
    row_count: int
    known_buildings_only: bool
    uploaded_by: int | None
    created_at: datetime
    applied_by: int | None
    applied_at: datetime | None
    summary: ImportSummary
    counts: ImportCounts
    result: ImportResult | None


class RosterImportOut(RosterImportItem):
    diff: ImportDiff


class RosterImportPage(BaseModel):
    total: int
    items: list[RosterImportItem]


# --- one unit or owner, corrected on a screen ----------------------------------------------------


class OwnerDetail(BaseModel):
    id: int
    kind: str
    name_masked: str
    phone_masked: str
    id_last4: str | None
    has_id_number: bool
    audit_seq: int | None = None  # set on the answer to an edit


class UnitDetail(BaseModel):
    id: int
    building_id: int
    building: str
    entrance: str
    room: str
    label: str
    area_hundredths: int
    area: str
    area_source: str
    usage: str
    status: str
    subject_id: int | None
    owners: list[OwnerDetail]
    audit_seq: int | None = None  # set on the answer to an edit


class UnitEditIn(InputModel):
    """The fields to change (left out: unchanged) and why."""

    entrance: str | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, min_length=1, max_length=30)
    area_hundredths: int | None = Field(default=None, gt=0)
    area_source: Annotated[AreaSource, FromText] | None = None
    usage: str | None = Field(default=None, max_length=20)
    status: Annotated[UnitStatus, FromText] | None = None
    reason: str = Field(min_length=1, max_length=500)


class OwnerEditIn(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: Annotated[OwnerKind, FromText] | None = None
    phone: str | None = Field(default=None, max_length=20)
    reason: str = Field(min_length=1, max_length=500)


# --- the explicit removal step ---------------------------------------------------------------------


class RemovalUnit(BaseModel):
    id: int
    label: str
    area: str
    area_source: str  # 不动产登记 / 测绘 / 合同
    usage: str
    status: str  # 已交付 / 未售 / 已售未交付
    owners: list[MaskedPerson]


class RemovalOwner(MaskedPerson):
    id: int


class RemovalPending(BaseModel):
    """What the latest applied roster file lacked and the roster still holds (not yet removed)."""

    import_id: int | None
    file_name: str | None
    applied_at: datetime | None
    unit_count: int
    owner_count: int
    confirm_count: int  # the number the member must type
    confirm_what: Literal["units", "owners"]
    units: list[RemovalUnit]
    owners: list[RemovalOwner]
    list_limit: int


class RemovalIn(InputModel):
    import_id: int
    typed_count: int = Field(ge=0)
    reason: str = Field(min_length=1, max_length=500)


class RemovalOut(BaseModel):
    units_removed: int
    owners_removed: int
    subject_count: int
    total_area: str
    audit_seq: int
