"""User search text in SQL: one helper, so a typed `%` or `_` matches only itself."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.sql.elements import ColumnElement


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text` literally (LIKE wildcards and the escape character escaped)."""
    # autoescape escapes %, _ and the escape character itself with ESCAPE '/', on every dialect.
    result: ColumnElement[bool] = column.contains(text, autoescape=True)
    return result


def starts_with_text(column: Any, text: str) -> ColumnElement[bool]:
    """`column` begins with `text` literally (as contains_text)."""
    result: ColumnElement[bool] = column.startswith(text, autoescape=True)
    return result


# A flat as people type it: "3-201", "3 201", "3号楼201", "3栋1单元201". The separators and the
# words of a unit label (栋, 号楼, 幢, 座, 单元, 室) split it into building, entrance and room.
# "_", "%" and "/" are not separators: they are searched literally (see contains_text).
_FLAT_SEPARATORS = re.compile(r"号楼|栋|幢|座|单元|室|[\s\-－—–]+")


def flat_parts(text: str) -> list[str]:
    """'3号楼201' → ['3', '201']; '1栋1单元101' → ['1', '1', '101']; '1201' → ['1201']."""
    return [p for p in _FLAT_SEPARATORS.split(text.strip()) if p]


def _parts_match(label_parts: list[str], wanted: list[str]) -> bool:
    """A unit's parts (building, entrance, room) match the typed ones: the first names the
    building, the last begins the room, any between name the entrance."""
    if len(label_parts) < 2 or len(wanted) > len(label_parts):
        return False
    low = [p.lower() for p in label_parts]
    want = [w.lower() for w in wanted]
    return (low[0] == want[0] and low[-1].startswith(want[-1])
            and low[1:-1][:len(want) - 2] == want[1:-1])


def label_matches(label: str, text: str) -> bool:
    """A subject's label ('1栋1单元101、1栋1单元102') matches what was typed: literally, or one of
    its units part by part ('1-101', '1号楼101', '1 1 10')."""
    text = text.strip()
    if not text or text.lower() in label.lower():
        return True
    wanted = flat_parts(text)
    if len(wanted) < 2:
        return False
    units = label.split(" 等")[0].split("、")
    return any(_parts_match(flat_parts(u), wanted) for u in units)
