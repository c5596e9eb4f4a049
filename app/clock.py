"""Injectable wall clock, so tests can move time (notice periods, expiries)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _now()


def set_now(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (None restores the real one); used by tests and demos."""
    global _now
    _now = fn or (lambda: datetime.now(UTC))


class FrozenClock:
    """A clock that stands still until moved."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)
