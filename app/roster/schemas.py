"""Request and response shapes for compounds, units and subjects (personal data masked)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CompoundIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    district: str = Field(min_length=1, max_length=50)
    street: str = Field(min_length=1, max_length=50)
    community: str = Field(min_length=1, max_length=50)
    address: str = Field(default="", max_length=200)
    developer_name: str = Field(default="开发建设单位", max_length=100)


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
    building: str
    units: int
    area_hundredths: int


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


class RepresentativeIn(BaseModel):
    owner_id: int
