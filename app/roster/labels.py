"""How roster facts read to people: unit and subject labels, areas. Pure, one wording each.

Every domain that shows a unit, a voting subject or an area calls these (through
`app.roster.service`, or directly where the caller must stay free of the database, as
`app/voting/rules.py` must).
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_DEVELOPER_NAME = "开发建设单位"
LABEL_UNITS_SHOWN = 3  # a subject's label names its first three units, then "等N套"


def unit_label(building: str, entrance: str, room: str) -> str:
    """A unit as owners write it: 1栋1单元101."""
    return f"{building}{entrance + '单元' if entrance else ''}{room}"


def units_text(unit_labels: Sequence[str]) -> str:
    """Several units in one line: 1栋101、1栋102、2栋201 等5套."""
    shown = "、".join(unit_labels[:LABEL_UNITS_SHOWN])
    return shown + (f" 等{len(unit_labels)}套" if len(unit_labels) > LABEL_UNITS_SHOWN else "")


def developer_label(developer_name: str, unit_count: int) -> str:
    """The developer's subject: all its unsold or undelivered units count as one (法释〔2009〕7号 Art. 9)."""
    return f"{developer_name or DEFAULT_DEVELOPER_NAME}（未售/未交付{unit_count}套）"


def subject_label(unit_labels: Sequence[str], *, is_developer: bool, developer_name: str) -> str:
    """A voting subject as every screen, notice record and ballot shows it (never names or phones).

    `unit_labels` are the subject's units in roster order (building, entrance, room).
    """
    if is_developer:
        return developer_label(developer_name, len(unit_labels))
    return units_text(unit_labels)


def format_area(hundredths: int) -> str:
    """2 decimals, exact: 12345 → '123.45'."""
    sign = "-" if hundredths < 0 else ""
    h = abs(hundredths)
    return f"{sign}{h // 100}.{h % 100:02d}"
