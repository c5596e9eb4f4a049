"""What the real SMS providers share: endpoints, phone formats and safe answer details."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DETAIL_MAX = 120
_DIGIT_RUNS = re.compile(r"\d{4,}")


def safe_detail(text: object) -> str:
    """A provider's message, shortened, with every run of 4+ digits hidden.

    Answers and network errors can echo the request (a URL with the phone number and the
    template parameters, i.e. a login code): none of it may reach the outbox or the log.
    """
    cleaned = _DIGIT_RUNS.sub("…", " ".join(str(text or "").split()))
    return cleaned if len(cleaned) <= DETAIL_MAX else cleaned[: DETAIL_MAX - 1] + "…"


def split_endpoint(endpoint: str, default_host: str) -> tuple[str, str]:
    """(scheme, host[:port]) of the GONGJUE_SMS_ENDPOINT override, or the public https host."""
    if not endpoint:
        return "https", default_host
    parts = urlsplit(endpoint)
    return parts.scheme, parts.netloc


def is_timeout(exc: BaseException | str) -> bool:
    text = str(exc).lower()
    return "timed out" in text or "timeout" in text
