"""What an SMS provider does for the outbox: send one templated message, say how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from app.notify.messages import MessageKind

# sent: the provider accepted it. retry: a transient failure (time-out, throttling, 5xx) worth
# trying again later. failed: permanent (invalid number, unapproved template): never retried.
Outcome = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class Outgoing:
    phone: str
    kind: MessageKind
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider: str
    message_id: str | None = None  # the provider's id for the message (BizId, SerialNo)
    code: str | None = None  # the provider's answer code ("OK", "isv.MOBILE_NUMBER_ILLEGAL", ...)
    detail: str | None = None  # the provider's message, shortened


class SmsProvider(Protocol):
    """Implementations never raise for provider errors and return within their time-out."""

    name: str

    def send(self, message: Outgoing) -> SendResult: ...
