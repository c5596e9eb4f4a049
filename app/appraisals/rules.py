"""The appraisal's published rules, pure (no database): criteria, weights, grades, deadlines.

Seed 002 三(二)3 / 二(三): the property company reports to the community party organization every
quarter and gives an account at year end, which is appraised; the result is fed back and the
rectification tracked. Seed 002 四 (创建标准): owners' satisfaction of 90% or more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# A quarter's report is overdue when it is still missing this many days after the quarter ends.
REPORT_DUE_DAYS = 15

# What each appraiser scores, 0–100 each (seed 002 四 and 三(二)3).
CRITERIA: tuple[tuple[str, str], ...] = (
    ("contract", "履行物业服务合同"),
    ("service", "服务质量（清洁卫生、秩序维护、共用部位维修养护、绿化、设施设备）"),
    ("repairs", "24小时报修受理与投诉处置"),
    ("openness", "公开公示与接受业主监督"),
    ("reporting", "向社区党组织请示报告与整改落实"),
)
CRITERIA_KEYS = tuple(k for k, _ in CRITERIA)

# Who appraises, and the weight (percent) of each part in the result; owners through the year's
# published satisfaction survey (its overall satisfaction rate, as a score out of 100).
KIND_LABELS = {"party": "社区党组织", "committee": "业主委员会", "owner_rep": "业主代表",
               "owners": "业主满意度调查"}
WEIGHTS: dict[str, int] = {"party": 40, "committee": 20, "owner_rep": 10, "owners": 30}

# Grades by the weighted score: at least 90 优秀, at least 60 合格, below 60 不合格.
GRADES: tuple[tuple[int, str], ...] = ((900, "优秀"), (600, "合格"), (0, "不合格"))

PARTY_LABELS = {"committee": "业主委员会", "company": "物业服务企业"}


def mean_tenths(values: Sequence[int]) -> int:
    """The mean of whole scores in tenths, rounded half up, in integers."""
    n = len(values)
    return (sum(values) * 20 + n) // (2 * n)


def mean_of_tenths(values: Sequence[int]) -> int:
    n = len(values)
    return (sum(values) * 2 + n) // (2 * n)


def weighted_tenths(parts: Mapping[str, int]) -> int:
    """Σ weight × part score / 100, in tenths, rounded half up; every part must be present."""
    total = sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
    return (total * 2 + 100) // 200


def grade_of(score_tenths: int) -> str:
    return next(label for floor, label in GRADES if score_tenths >= floor)


def score_text(tenths: int | None) -> str:
    return "—" if tenths is None else f"{tenths // 10}.{tenths % 10}"


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        if self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    @property
    def due_on(self) -> date:
        """The last day the report is on time."""
        return self.last_day + timedelta(days=REPORT_DUE_DAYS)


def report_overdue(quarter: Quarter, *, filed: bool, today: date) -> bool:
    return not filed and today > quarter.due_on


def item_overdue(*, due_on: date, done: bool, today: date) -> bool:
    return not done and today > due_on
