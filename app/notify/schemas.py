"""Shapes of the notify API: an owner's messages and opt-out, a ballot's delivery counts and the
reminder preview."""

from __future__ import annotations

from datetime import datetime

from app.schemas import InputModel, OutputModel


class MyMessageOut(OutputModel):
    id: int
    kind: str
    kind_label: str
    text: str
    created_at: datetime
    status: str
    status_label: str
    finished_at: datetime | None


class MyMessagesOut(OutputModel):
    opted_out: bool
    items: list[MyMessageOut]


class OptOutIn(InputModel):
    opted_out: bool


class DeliveryCountsOut(OutputModel):
    queued: int
    sending: int
    sent: int
    failed: int
    skipped: int


class ReminderPreviewOut(OutputModel):
    messages: int  # SMS that would be sent
    recipients: int  # owners of subjects that have not voted, with a phone
    opted_out: int  # of those, how many opted out (not sent)
    over_cap: int  # of those, how many a daily cap would skip
    segments_each: int  # an SMS over 70 characters is billed as several
    price_fen_each: int
    estimated_cost_fen: int
    text: str  # the message as owners will read it
    sent_today: bool  # already reminded today (Asia/Shanghai): sending answers 409


class ReminderSentOut(OutputModel):
    queued: int
    skipped: int
