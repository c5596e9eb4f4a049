"""The vocabulary and deadlines of 三单一访 (seed 001 §4.7.1), pure functions of their inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.calendar import end_of_day, is_rest_day, local_day

CATEGORIES = {
    "urgent_repair": "紧急维修（停水停电、漏水、电梯困人等）",
    "repair": "一般维修",
    "cleaning": "环境卫生",
    "greening": "绿化养护",
    "order": "秩序安全（停车、噪音、违建等）",
    "facility": "公共设施设备",
    "other": "其他",
}
RATINGS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
STATUS_LABELS = {
    "reported": "待派单", "dispatched": "待接单", "accepted": "处理中", "done": "待评价",
    "rated": "待回访", "closed": "已回访办结",
}
# Deadlines (stated in README 三单一访): dispatch within 24 hours of the report; the property
# company finishes an urgent repair within 24 hours of the dispatch, anything else by the end of
# the third working day after it (the dispatcher may set another deadline); the party branch
# visits by the end of the third working day after the rating. The owner's rating has none.
DISPATCH_HOURS = 24
URGENT_HOURS = 24
HANDLING_WORKING_DAYS = 3
VISIT_WORKING_DAYS = 3


def after_working_days(start: datetime, days: int) -> datetime:
    """24:00 Asia/Shanghai of the `days`-th working day after the day of `start`."""
    day = local_day(start)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if not is_rest_day(day):
            counted += 1
    return end_of_day(day).astimezone(UTC)


def dispatch_due(reported_at: datetime) -> datetime:
    return reported_at + timedelta(hours=DISPATCH_HOURS)


def default_handling_due(category: str, dispatched_at: datetime) -> datetime:
    if category == "urgent_repair":
        return dispatched_at + timedelta(hours=URGENT_HOURS)
    return after_working_days(dispatched_at, HANDLING_WORKING_DAYS)


def visit_due(rated_at: datetime) -> datetime:
    return after_working_days(rated_at, VISIT_WORKING_DAYS)


def status_of(*, dispatched_at: datetime | None, accepted_at: datetime | None,
              done_at: datetime | None, rated_at: datetime | None,
              visited_at: datetime | None) -> str:
    if visited_at is not None:
        return "closed"
    if rated_at is not None:
        return "rated"
    if done_at is not None:
        return "done"
    if accepted_at is not None:
        return "accepted"
    if dispatched_at is not None:
        return "dispatched"
    return "reported"


def is_overdue(*, status: str, due_at: datetime | None, at: datetime) -> bool:
    """The step the order waits for has a deadline, and it has passed."""
    return status not in ("done", "closed") and due_at is not None and at > due_at
