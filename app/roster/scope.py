"""A scope: the part of a compound a ballot or notice is put to (whole buildings and entrances).

Empty means the whole compound. A unit is in scope when its building is listed whole, or its
(building, entrance) pair is listed. Art. 278 totals over a scope count only the units in it
(DOMAIN.md §9: a subject with flats inside and outside counts with its flats inside only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from app.roster.models import Unit

Place = tuple[int, str]  # (building id, entrance); entrance "" for a building without entrances


@dataclass(frozen=True)
class Scope:
    building_ids: frozenset[int] = field(default_factory=frozenset)
    entrances: frozenset[Place] = field(default_factory=frozenset)

    @classmethod
    def of(cls, building_ids: Iterable[int] = (), entrances: Iterable[Place] = ()) -> Scope:
        """A scope with its entrances of whole-listed buildings dropped (they add nothing)."""
        whole = frozenset(int(b) for b in building_ids)
        return cls(building_ids=whole,
                   entrances=frozenset((int(b), str(e)) for b, e in entrances if int(b) not in whole))

    @classmethod
    def from_json(cls, building_ids_json: str | None, entrances_json: str | None) -> Scope:
        """A scope as stored: a JSON list of building ids and one of {building_id, entrance}."""
        return cls.of(json.loads(building_ids_json or "[]"),
                      [(e["building_id"], e["entrance"]) for e in json.loads(entrances_json or "[]")])

    @property
    def whole_compound(self) -> bool:
        return not self.building_ids and not self.entrances

    @property
    def touched_building_ids(self) -> frozenset[int]:
        """Every building with at least one unit in scope."""
        return self.building_ids | {b for b, _ in self.entrances}

    def covers(self, building_id: int, entrance: str) -> bool:
        return (self.whole_compound or building_id in self.building_ids
                or (building_id, entrance) in self.entrances)

    def covers_any(self, places: Iterable[Place]) -> bool:
        return any(self.covers(b, e) for b, e in places)

    def entrance_list(self) -> list[dict[str, Any]]:
        """The entrances as the API and storage carry them, in a stable order."""
        return [{"building_id": b, "entrance": e} for b, e in sorted(self.entrances)]

    def entrances_json(self) -> str:
        return json.dumps(self.entrance_list(), ensure_ascii=False)

    def unit_clause(self) -> ColumnElement[bool]:
        """SQL: the unit rows in scope (callers skip it for the whole compound)."""
        parts: list[ColumnElement[bool]] = []
        if self.building_ids:
            parts.append(Unit.building_id.in_(sorted(self.building_ids)))
        for b, e in sorted(self.entrances):
            parts.append(and_(Unit.building_id == b, Unit.entrance == e))
        return or_(*parts) if parts else false()


def entrance_label(building: str, entrance: str) -> str:
    """An entrance as owners write it: 3号楼2单元."""
    return f"{building}{entrance}单元" if entrance else building


def scope_words(scope: Scope, building_names: Mapping[int, str]) -> str:
    """The scope in words: 全体业主, or 3号楼2单元、5号楼 (buildings and entrances by building)."""
    if scope.whole_compound:
        return "全体业主"
    parts = sorted([((b, ""), building_names.get(b, f"楼栋{b}")) for b in scope.building_ids]
                   + [((b, e), entrance_label(building_names.get(b, f"楼栋{b}"), e))
                      for b, e in scope.entrances])
    return "、".join(text for _, text in parts)
