"""Credit scores (信用评价) and the red and black list (红黑榜), pure: no database, no web.

Seeds 000 (强化信用评价; 设立物业服务质量“红黑榜”), 002 (一(三)4 信用管理机制; 三(二)3 建立物业服务企业
“红黑榜”制度), 003 (每季度量化考核，发布物业企业“红黑榜”), 004 (负面清单; 精细化考评不达标 → 业主大会依法
表决解聘). The criteria are declared here once, as data, and published with every list; `score`
turns one compound's quarter of explicit inputs into the points of each criterion, each with the
figure it used, its rule and the records it came from, so a published score can be reproduced
and its basis shown. Every figure is an integer (points in tenths, rates in tenths of a percent),
rounded half up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from app.appraisals.rules import Quarter
from app.timefmt import format_date

# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------------

# The 31 characters a code may hold (no I, O, S, V, Z), and the weight of each of the first 17
# positions (3^(i-1) mod 31); the 18th is the check character.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 from its first 17."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid 统一社会信用代码 (in Chinese), or None when it is."""
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    bad = sorted({c for c in code if c not in CREDIT_CODE_CHARS})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(bad)}（只用数字和除 I、O、S、V、Z 以外的大写字母）"
    if credit_code_check_char(code[:17]) != code[17]:
        return "统一社会信用代码的校验位不正确，请核对营业执照"
    return None


# --- periods -------------------------------------------------------------------------------------


def quarter_label(q: Quarter) -> str:
    return f"{q.year}年第{q.quarter}季度"


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def previous_quarter(q: Quarter) -> Quarter:
    return Quarter(q.year - 1, 4) if q.quarter == 1 else Quarter(q.year, q.quarter - 1)


def ended_quarters(today: date, count: int) -> list[Quarter]:
    """The `count` quarters that ended last, newest first (a list is published for one)."""
    out = [previous_quarter(quarter_of(today))]
    while len(out) < count:
        out.append(previous_quarter(out[-1]))
    return out


def in_quarter(q: Quarter, day: date) -> bool:
    return q.first_day <= day <= q.last_day


# --- the published criteria ----------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One published criterion: its weight (points out of 100), where its figure comes from, how
    the figure becomes points, and how the criterion is scored when there is no figure."""

    key: str
    name: str
    weight: int
    source: str
    rule: str
    no_data: str  # "" when the criterion always has a figure

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Seed 002 四: 业主对物业服务满意度达到90%以上.
SATISFACTION_FULL_TENTHS = 900
SATISFACTION_ZERO_TENTHS = 600
RATING_POINTS = {"satisfied": 100, "basic": 60, "unsatisfied": 0}
RATING_LABELS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
LEDGER_DEDUCTION_TENTHS = 50  # per quarter whose statement is overdue
FINDING_DEDUCTION_TENTHS = 100  # per 负面清单 finding

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "satisfaction", "业主满意度", 25,
        "最近一次已公布的年度物业服务满意度调查（考核季度所在年度或上一年度，不少于5份答卷）",
        "满意度90%及以上得满分25分，60%及以下得0分，其间按比例计分（每高出60%一个百分点得25/30分）",
        "无数据（没有符合条件的已公布调查）：得一半分，即12.5分"),
    Criterion(
        "appraisal", "年度述职评议", 20,
        "最近一次已公布的年度述职评议结果（考核季度所在年度或上一年度）",
        "得分 = 述职评议综合得分 × 20%（综合得分100分得满分20分）",
        "无数据（没有符合条件的已公布评议结果）：得一半分，即10分"),
    Criterion(
        "timeliness", "工单按期办结", 15,
        "三单一访工单：办理期限落在考核季度内的每一次派单（含业主不满意退回重办）",
        "得分 = 按期办结率 × 15分；在办理期限前登记处理结果的为按期办结",
        "无数据（考核季度内没有到期的工单）：得一半分，即7.5分"),
    Criterion(
        "rating", "工单群众评价", 10,
        "三单一访工单：业主在考核季度内作出的每一次评价（含退回重办前的不满意）",
        "得分 = 平均评价 × 10%（满意计100分、基本满意计60分、不满意计0分）",
        "无数据（考核季度内没有评价）：得一半分，即5分"),
    Criterion(
        "ledger", "公共收益收支表公布", 10,
        "公共收益台账：公布期限在考核季度末以前的各季度收支表（计算时仍未公布的为逾期）",
        "按时公布得满分10分；每有一个季度的收支表逾期未公布扣5分，扣完为止；未启用公共收益台账得0分",
        ""),
    Criterion(
        "findings", "负面清单", 20,
        "街道、社区监管人员登记的负面清单问题（发现日期在考核季度内，未撤销）",
        "没有问题得满分20分；每项问题扣10分，扣完为止",
        ""),
)
CRITERIA_BY_KEY = {c.key: c for c in CRITERIA}
assert sum(c.weight for c in CRITERIA) == 100
# Bump when a criterion changes: each published list records the version it was scored with.
CRITERIA_VERSION = 1


# --- the inputs of one compound's quarter --------------------------------------------------------


@dataclass(frozen=True)
class SurveyFact:
    """A published annual satisfaction survey with its overall rate (None under 5 answers)."""

    survey_id: int
    year: int
    responses: int
    rate_tenths: int | None


@dataclass(frozen=True)
class AppraisalFact:
    """A published annual appraisal (述职评议) and its fixed result."""

    appraisal_id: int
    year: int
    score_tenths: int
    grade: str


@dataclass(frozen=True)
class RoundFact:
    """One time the company was given a work order to handle, with its deadline (local day)."""

    work_order_id: int
    due_on: date
    on_time: bool


@dataclass(frozen=True)
class RatingFact:
    work_order_id: int
    rated_on: date
    rating: str  # satisfied | basic | unsatisfied


@dataclass(frozen=True)
class LedgerFact:
    """Whether the ledger was started, and the quarters whose statement is still unpublished
    past its due day."""

    started: bool
    overdue: tuple[tuple[date, str], ...] = ()  # (the statement's due day, the quarter's label)


@dataclass(frozen=True)
class FindingFact:
    finding_id: int
    found_on: date
    text: str


@dataclass(frozen=True)
class Inputs:
    """What happened in a compound, as the domains recorded it. `serving_since` is the start of
    the serving company's contract: surveys and appraisals of earlier years, and work orders and
    findings dated before it, judged the company before and do not count."""

    serving_since: date | None = None
    surveys: tuple[SurveyFact, ...] = ()
    appraisals: tuple[AppraisalFact, ...] = ()
    rounds: tuple[RoundFact, ...] = ()
    ratings: tuple[RatingFact, ...] = ()
    ledger: LedgerFact = field(default_factory=lambda: LedgerFact(started=False))
    findings: tuple[FindingFact, ...] = ()


# --- the score ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A record a point came from (kind: survey, appraisal, work_order, ledger_quarter, finding)."""

    kind: str
    ref: str
    label: str


@dataclass(frozen=True)
class Point:
    key: str
    name: str
    weight: int
    value: str  # the figure, in words
    points_tenths: int
    rule: str
    no_data: bool
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Score:
    points: tuple[Point, ...]
    total_tenths: int

    def as_dict(self) -> dict[str, Any]:
        return {"total_tenths": self.total_tenths,
                "points": [{**asdict(p), "sources": [asdict(s) for s in p.sources]} for p in self.points]}


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def points_text(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def percent_text(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}%"


def _full(c: Criterion) -> int:
    return c.weight * 10


def _no_data(c: Criterion, value: str) -> Point:
    return Point(c.key, c.name, c.weight, value, _full(c) // 2, c.rule, True)


def _recent(year: int, period: Quarter) -> bool:
    return period.year - 1 <= year <= period.year


def satisfaction_point(period: Quarter, surveys: Iterable[SurveyFact]) -> Point:
    c = CRITERIA_BY_KEY["satisfaction"]
    usable = [s for s in surveys if _recent(s.year, period) and s.rate_tenths is not None]
    if not usable:
        return _no_data(c, "无数据：没有考核季度所在年度或上一年度已公布、不少于5份答卷的年度满意度调查")
    latest = max(usable, key=lambda s: (s.year, s.survey_id))
    rate = latest.rate_tenths
    assert rate is not None
    if rate >= SATISFACTION_FULL_TENTHS:
        points = _full(c)
    elif rate <= SATISFACTION_ZERO_TENTHS:
        points = 0
    else:
        points = half_up(_full(c) * (rate - SATISFACTION_ZERO_TENTHS),
                         SATISFACTION_FULL_TENTHS - SATISFACTION_ZERO_TENTHS)
    line = "达到" if rate >= SATISFACTION_FULL_TENTHS else "低于"
    return Point(c.key, c.name, c.weight,
                 f"{latest.year}年度调查满意度{percent_text(rate)}（{latest.responses}份答卷，{line}90%）",
                 points, c.rule, False,
                 (Source("survey", str(latest.survey_id), f"{latest.year}年度物业服务满意度调查"),))


def appraisal_point(period: Quarter, appraisals: Iterable[AppraisalFact]) -> Point:
    c = CRITERIA_BY_KEY["appraisal"]
    usable = [a for a in appraisals if _recent(a.year, period)]
    if not usable:
        return _no_data(c, "无数据：没有考核季度所在年度或上一年度已公布的述职评议结果")
    latest = max(usable, key=lambda a: a.year)
    points = half_up(_full(c) * latest.score_tenths, 1000)
    return Point(c.key, c.name, c.weight,
                 f"{latest.year}年度述职评议综合得分{points_text(latest.score_tenths)}分（{latest.grade}）",
                 points, c.rule, False,
                 (Source("appraisal", str(latest.year), f"{latest.year}年度述职评议"),))


def timeliness_point(period: Quarter, rounds: Iterable[RoundFact]) -> Point:
    c = CRITERIA_BY_KEY["timeliness"]
    due = sorted((r for r in rounds if in_quarter(period, r.due_on)), key=lambda r: (r.due_on, r.work_order_id))
    if not due:
        return _no_data(c, "无数据：考核季度内没有到期的工单")
    on_time = sum(1 for r in due if r.on_time)
    late = [r for r in due if not r.on_time]
    points = half_up(_full(c) * on_time, len(due))
    value = f"到期{len(due)}次，按期办结{on_time}次（{percent_text(half_up(1000 * on_time, len(due)))}）"
    if late:
        value += "，逾期工单：" + "、".join(f"{r.work_order_id}号" for r in late)
    return Point(c.key, c.name, c.weight, value, points, c.rule, False,
                 tuple(Source("work_order", str(r.work_order_id),
                              f"工单{r.work_order_id}号（{'按期' if r.on_time else '逾期'}）") for r in due))


def rating_point(period: Quarter, ratings: Iterable[RatingFact]) -> Point:
    c = CRITERIA_BY_KEY["rating"]
    given = sorted((r for r in ratings if in_quarter(period, r.rated_on)), key=lambda r: (r.rated_on, r.work_order_id))
    if not given:
        return _no_data(c, "无数据：考核季度内没有业主评价")
    counts = {k: sum(1 for r in given if r.rating == k) for k in RATING_POINTS}
    total = sum(RATING_POINTS[r.rating] for r in given)
    points = half_up(_full(c) * total, 100 * len(given))
    value = (f"评价{len(given)}次：" + "，".join(f"{RATING_LABELS[k]}{n}次" for k, n in counts.items() if n)
             + f"；平均{points_text(half_up(10 * total, len(given)))}分")
    return Point(c.key, c.name, c.weight, value, points, c.rule, False,
                 tuple(Source("work_order", str(r.work_order_id),
                              f"工单{r.work_order_id}号（{RATING_LABELS[r.rating]}）") for r in given))


def ledger_point(period: Quarter, ledger: LedgerFact) -> Point:
    c = CRITERIA_BY_KEY["ledger"]
    if not ledger.started:
        return Point(c.key, c.name, c.weight, "未启用公共收益台账", 0, c.rule, False,
                     (Source("ledger_setting", "", "公共收益台账设置"),))
    overdue = [(due, label) for due, label in ledger.overdue if due <= period.last_day]
    points = max(0, _full(c) - LEDGER_DEDUCTION_TENTHS * len(overdue))
    value = ("各季度收支表均已按时公布" if not overdue
             else f"{len(overdue)}个季度的收支表逾期未公布：" + "、".join(label for _, label in overdue))
    return Point(c.key, c.name, c.weight, value, points, c.rule, False,
                 tuple(Source("ledger_quarter", due.isoformat(), f"{label}收支表") for due, label in overdue))


def findings_point(period: Quarter, findings: Iterable[FindingFact]) -> Point:
    c = CRITERIA_BY_KEY["findings"]
    found = sorted((f for f in findings if in_quarter(period, f.found_on)), key=lambda f: (f.found_on, f.finding_id))
    points = max(0, _full(c) - FINDING_DEDUCTION_TENTHS * len(found))
    value = "考核季度内没有负面清单问题" if not found else f"负面清单问题{len(found)}项"
    return Point(c.key, c.name, c.weight, value, points, c.rule, False,
                 tuple(Source("finding", str(f.finding_id), f"{format_date(f.found_on)}：{f.text}") for f in found))


def score(period: Quarter, inputs: Inputs) -> Score:
    """The points of every criterion for one compound's quarter, and their sum (out of 100)."""
    since = inputs.serving_since or date.min
    points = (
        satisfaction_point(period, [s for s in inputs.surveys if s.year >= since.year]),
        appraisal_point(period, [a for a in inputs.appraisals if a.year >= since.year]),
        timeliness_point(period, [r for r in inputs.rounds if r.due_on >= since]),
        rating_point(period, [r for r in inputs.ratings if r.rated_on >= since]),
        ledger_point(period, inputs.ledger),
        findings_point(period, [f for f in inputs.findings if f.found_on >= since]),
    )
    return Score(points, sum(p.points_tenths for p in points))


# --- the red and black list ------------------------------------------------------------------------

Mode = Literal["score", "rank"]
PLACE_LABELS = {"red": "红榜", "black": "黑榜", "": "未上榜"}


@dataclass(frozen=True)
class Thresholds:
    """By score: red from `red` points up, black below `black` points. By rank: the `red` best
    and the `black` worst (ties share a rank)."""

    mode: Mode
    red: int
    black: int

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "red": self.red, "black": self.black}


def thresholds_problem(t: Thresholds) -> str | None:
    if t.mode == "score":
        if not (0 <= t.black <= t.red <= 100):
            return "分数线应在0到100分之间，且黑榜线不高于红榜线"
    elif t.red < 0 or t.black < 0 or t.red + t.black == 0:
        return "红榜、黑榜名额不能为负数，且不能都为0"
    return None


def thresholds_text(t: Thresholds) -> str:
    if t.mode == "score":
        return f"红榜：得分{t.red}分及以上；黑榜：得分低于{t.black}分"
    return f"红榜：得分前{t.red}名（含并列）；黑榜：得分后{t.black}名（含并列）；并列跨越两榜名额的企业两榜均不列入"


@dataclass(frozen=True)
class Ranked:
    key: str
    score_tenths: int
    rank: int  # 1 = the best; ties share a rank
    place: str  # red | black | ""


def company_score(compound_scores: Sequence[int]) -> int:
    """A company's score in a district: the mean of its compounds' scores, rounded half up."""
    return half_up(sum(compound_scores), len(compound_scores))


def rank(scores: Mapping[str, int], t: Thresholds) -> list[Ranked]:
    """Every company's rank and place, best first (equal scores by key)."""
    values = list(scores.values())
    out = []
    for key in sorted(scores, key=lambda k: (-scores[k], k)):
        s = scores[key]
        place_rank = 1 + sum(1 for v in values if v > s)
        if t.mode == "score":
            red, black = s >= t.red * 10, s < t.black * 10
        else:
            red = place_rank <= t.red
            black = 1 + sum(1 for v in values if v < s) <= t.black
        place = "red" if red and not black else "black" if black and not red else ""
        out.append(Ranked(key, s, place_rank, place))
    return out
