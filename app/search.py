"""User search text in SQL: one helper, so a typed `%` or `_` matches only itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.elements import ColumnElement


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text` literally (LIKE wildcards and the escape character escaped)."""
    # autoescape escapes %, _ and the escape character itself with ESCAPE '/', on every dialect.
    result: ColumnElement[bool] = column.contains(text, autoescape=True)
    return result
