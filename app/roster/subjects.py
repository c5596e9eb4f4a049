"""Derivation of voting subjects from units and owners (法释〔2009〕7号 Art. 8–9), pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

DEVELOPER_KEY = "developer"
PARKING_USAGES = frozenset({"车位", "车库"})  # carry no vote unless the compound counts them


class UnitFacts(NamedTuple):
    """A unit as derivation sees it (named tuples: a roster import derives 50,000 at once)."""

    unit_id: int
    area_hundredths: int
    owner_ids: frozenset[int]
    held_by_developer: bool  # unsold, or sold but not yet delivered


class DerivedSubject(NamedTuple):
    key: str
    is_developer: bool
    unit_ids: tuple[int, ...]
    owner_ids: tuple[int, ...]
    area_hundredths: int


def subject_key(owner_ids: Iterable[int]) -> str:
    return "o:" + ",".join(map(str, sorted(owner_ids)))


def derive_subjects(units: Iterable[UnitFacts]) -> list[DerivedSubject]:
    """Units with an identical owner set form one subject; all developer-held units form one.

    The caller leaves out units that carry no vote (parking spaces, unless the compound counts
    them).
    """
    developer: list[UnitFacts] = []
    groups: dict[frozenset[int], list[UnitFacts]] = {}  # by owner set; its key is made once
    for unit in units:
        if unit.held_by_developer:
            developer.append(unit)
        elif not unit.owner_ids:
            raise ValueError(f"unit {unit.unit_id} has no owner")
        else:
            owners = unit.owner_ids
            if type(owners) is not frozenset:
                owners = frozenset(owners)
            members = groups.get(owners)
            if members is None:
                groups[owners] = [unit]
            else:
                members.append(unit)
    subjects = [
        DerivedSubject(
            key=subject_key(owners), is_developer=False,
            unit_ids=tuple(sorted(u.unit_id for u in members)), owner_ids=tuple(sorted(owners)),
            area_hundredths=sum(u.area_hundredths for u in members),
        )
        for owners, members in groups.items()
    ]
    if developer:
        subjects.append(DerivedSubject(
            key=DEVELOPER_KEY, is_developer=True,
            unit_ids=tuple(sorted(u.unit_id for u in developer)), owner_ids=(),
            area_hundredths=sum(u.area_hundredths for u in developer),
        ))
    subjects.sort(key=lambda s: (s.is_developer, s.unit_ids[0]))
    return subjects


def subject_totals(units: Iterable[tuple[int, frozenset[int], bool]]) -> tuple[int, int]:
    """`totals(derive_subjects(units))` without building the subjects, for units given as
    (area in hundredths, owner ids, held by the developer): every unit belongs to exactly one
    subject, so the total area is the units' sum and the headcount the number of distinct
    groups (the developer's units, or one identical owner set). A preview of a 50,000-unit
    roster needs only these two numbers."""
    area = 0
    groups: set[object] = set()
    add = groups.add
    for unit_area, owner_ids, held_by_developer in units:
        if held_by_developer:
            add(DEVELOPER_KEY)
        elif not owner_ids:
            raise ValueError("a unit has no owner")
        else:
            add(owner_ids)
        area += unit_area
    return area, len(groups)


def totals(subjects: Iterable[DerivedSubject]) -> tuple[int, int]:
    """Total area (hundredths of m²) and total headcount."""
    subjects = list(subjects)
    return sum(s.area_hundredths for s in subjects), len(subjects)
