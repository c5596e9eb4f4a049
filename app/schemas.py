"""The one base of every request body: unknown fields are refused and JSON types are taken as sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)


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


class OutputModel(BaseModel):
    """Base of response shapes filled from a view's data: a key the view sends that the model
    does not declare is an error (500 in tests), never silently dropped from the answer."""

    model_config = ConfigDict(extra="forbid")


def _isoformat(value: datetime) -> str:
    return value.isoformat()


# A time in a response as Python writes it ("2026-03-01T08:00:00+00:00"), the form the
# domains' JSON has always used (pydantic alone would write "Z").
DatetimeOut = Annotated[
    datetime,
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def only_form_fields(*names: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing multipart fields other than `names` (422 `unknown_field`).

    Declare it after the route's authorization dependency, so that a caller without access
    still gets 401/403 first; the form is already parsed (and cached) when it runs.
    """
    allowed = frozenset(names)

    async def refuse_unknown(request: Request) -> None:
        unknown = sorted(set((await request.form()).keys()) - allowed)
        if unknown:
            raise RequestValidationError([
                {"type": "extra_forbidden", "loc": ("body", name), "msg": "Extra inputs are not permitted"}
                for name in unknown
            ])

    return refuse_unknown
