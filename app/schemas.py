"""The one base of every request body: unknown fields are refused and JSON types are taken as sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Strict


class InputModel(BaseModel):
    """Base of every request body (and of every shape parsed from one).

    `extra="forbid"`: a field the API does not know is refused with 422 (`unknown_field`), never
    dropped, so a misspelt or misplaced setting cannot look accepted. `strict=True`: numbers,
    booleans and lists must arrive as JSON numbers, booleans and lists (`true` is not the id 1,
    `"yes"` is not a boolean); only the text-borne types below parse text.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


def _text_only(kind: type) -> BeforeValidator:
    def check(value: Any) -> Any:
        # A number is not a date: 1767225600 must not become a day in 2026.
        if isinstance(value, str | kind):
            return value
        raise ValueError("须为文本格式的日期或时间")

    return BeforeValidator(check)


# JSON carries dates and times as ISO text: these fields parse that text, and only text.
DateIn = Annotated[date, Strict(False), _text_only(date)]
DatetimeIn = Annotated[datetime, Strict(False), _text_only(datetime)]
AwareDatetimeIn = Annotated[AwareDatetime, Strict(False), _text_only(datetime)]
# An enum value arrives as its text (e.g. a role "committee"): `Annotated[Role, FromText]`.
FromText = Strict(False)
