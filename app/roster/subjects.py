"""Derivation of voting subjects from units and owners (法释〔2009〕7号 Art. 8–9), pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEVELOPER_KEY = "developer"
PARKING_USAGES = frozenset({"车位", "车库"})  # carry no vote unless the compound counts them


@dataclass(frozen=True)
class UnitFacts:
    unit_id: int
    area_hundredths: int
    owner_ids: frozenset[int]
    held_by_developer: bool  # unsold, or sold but not yet delivered


@dataclass(frozen=True)
class DerivedSubject:
    key: str
    is_developer: bool
    unit_ids: tuple[int, ...]
    owner_ids: tuple[int, ...]
    area_hundredths: int


def subject_key(owner_ids: Iterable[int]) -> str:
    return "o:" + ",".join(str(i) for i in sorted(owner_ids))


def derive_subjects(units: Iterable[UnitFacts]) -> list[DerivedSubject]:
    """Units with an identical owner set form one subject; all developer-held units form one.

    The caller leaves out units that carry no vote (parking spaces, unless the compound counts
    them).
    """
    groups: dict[str, list[UnitFacts]] = {}
    for unit in units:
        if unit.held_by_developer:
            key = DEVELOPER_KEY
        elif not unit.owner_ids:
            raise ValueError(f"unit {unit.unit_id} has no owner")
        else:
            key = subject_key(unit.owner_ids)
        groups.setdefault(key, []).append(unit)
    subjects = []
    for key, members in groups.items():
        owners = frozenset().union(*(u.owner_ids for u in members)) if key != DEVELOPER_KEY else frozenset()
        subjects.append(
            DerivedSubject(
                key=key,
                is_developer=key == DEVELOPER_KEY,
                unit_ids=tuple(sorted(u.unit_id for u in members)),
                owner_ids=tuple(sorted(owners)),
                area_hundredths=sum(u.area_hundredths for u in members),
            )
        )
    subjects.sort(key=lambda s: (s.is_developer, s.unit_ids[0]))
    return subjects


def totals(subjects: Iterable[DerivedSubject]) -> tuple[int, int]:
    """Total area (hundredths of m²) and total headcount."""
    subjects = list(subjects)
    return sum(s.area_hundredths for s in subjects), len(subjects)
