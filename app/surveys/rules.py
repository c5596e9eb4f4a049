"""Survey rules, pure: scales, the annual satisfaction template (seed 002), results with the
5-answer floor, and the satisfaction rate. No database, no HTTP."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# No aggregate over fewer answers than this is shown to anyone (per item, overall, per year).
MIN_PUBLISHED = 5
SUPPRESSED_TEXT = f"答卷不足{MIN_PUBLISHED}份，不公布"
# Seed 002 附件《东丽区“红色物业”小区创建工作标准》四（三）: "业主对物业服务满意度达到90%以上".
STANDARD_PERCENT = 90
RATE_DEFINITION = (
    "满意度 =（“满意”答复数 + “基本满意”答复数）÷ 该项答复总数；总体满意度按全部评价项的答复合计计算。"
    f"达到{STANDARD_PERCENT}%及以上为“红色物业”小区创建标准（东丽区“红色物业”小区创建工作标准 四（三））。"
)

SATISFACTION = "satisfaction"
POINTS = "points"
# The values stored for each scale, best first, with the words owners see.
SCALES: dict[str, tuple[tuple[int, str], ...]] = {
    SATISFACTION: ((3, "满意"), (2, "基本满意"), (1, "不满意")),
    POINTS: ((5, "5分"), (4, "4分"), (3, "3分"), (2, "2分"), (1, "1分")),
}
SCALE_LABELS = {SATISFACTION: "满意 / 基本满意 / 不满意", POINTS: "1–5分"}
SATISFIED_VALUES = frozenset({3, 2})  # 满意, 基本满意


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    hint: str
    scale: str


@dataclass(frozen=True)
class Template:
    key: str
    title: str  # "{year}" is replaced by the survey's year
    intro: str
    questions: tuple[QuestionSpec, ...]
    clause: str  # the seed clause it implements


PROPERTY_SATISFACTION = "property_satisfaction"
_CLAUSE = "东丽区“红色物业”小区创建工作标准 四（三）“物业企业诚信履约，物业服务品质优良”"
# Items of seed 002 附件 四（三): 清洁卫生、公共秩序维护、共用部位维修养护、绿化养管、共用设施设备安全运行,
# "24 小时受理业主报修，提供维修服务", the “两箱三栏” disclosure, and complaints handled and called back.
TEMPLATES: dict[str, Template] = {
    PROPERTY_SATISFACTION: Template(
        key=PROPERTY_SATISFACTION,
        title="{year}年度物业服务满意度调查",
        intro=("请对本年度物业服务企业的服务逐项评价。问卷匿名：公布的只有汇总结果，"
               f"答卷不足{MIN_PUBLISHED}份时不公布；每户（表决主体）一份，截止前可以修改。"),
        questions=(
            QuestionSpec("清洁卫生（保洁）", "楼道、道路、公共区域的清扫保洁与垃圾清运", SATISFACTION),
            QuestionSpec("公共秩序维护（秩序与安全）", "门岗值守、巡逻、车辆停放秩序、消防通道畅通", SATISFACTION),
            QuestionSpec("共用部位维修养护", "楼道、屋面、外墙、门窗等共用部位的维修养护", SATISFACTION),
            QuestionSpec("绿化养管", "绿地、树木、花草的养护管理", SATISFACTION),
            QuestionSpec("共用设施设备运行", "电梯、供水、消防、照明等共用设施设备的安全运行与维护", SATISFACTION),
            QuestionSpec("24小时报修与维修服务", "24小时受理业主报修，维修及时、质量可靠", SATISFACTION),
            QuestionSpec("服务信息公开（“两箱三栏”）", "公开服务合同、交费标准、公共收益收支情况等", SATISFACTION),
            QuestionSpec("投诉处理与回访", "业主投诉及时处置，并电话回访", SATISFACTION),
        ),
        clause=_CLAUSE,
    ),
}


def validate_answers(questions: Sequence[tuple[int, str]], answers: Mapping[int, int]) -> list[str]:
    """Problems with a set of answers ((question id, scale) pairs): every item answered once,
    on its scale, and nothing else. Empty when the answers are complete."""
    problems = []
    ids = {qid for qid, _ in questions}
    for position, (qid, scale) in enumerate(questions, start=1):
        value = answers.get(qid)
        if value is None:
            problems.append(f"第{position}项未作答")
        elif value not in {v for v, _ in SCALES[scale]}:
            problems.append(f"第{position}项的答案不在可选范围内")
    if set(answers) - ids:
        problems.append("答卷含有本问卷没有的题目")
    return problems


@dataclass(frozen=True)
class Share:
    value: int
    label: str
    count: int
    percent_tenths: int  # of the item's answers, in tenths of a percent


@dataclass(frozen=True)
class ItemResult:
    question_id: int
    text: str
    scale: str
    answers: int
    published: bool  # False: fewer than MIN_PUBLISHED answers, no figure is shown
    shares: tuple[Share, ...]
    satisfied: int  # 满意 + 基本满意 (satisfaction scale)
    rate_tenths: int | None  # satisfaction rate in tenths of a percent (satisfaction scale)
    average_tenths: int | None  # mean points × 10 (points scale)


@dataclass(frozen=True)
class SurveyResult:
    responses: int
    published: bool
    items: tuple[ItemResult, ...]
    satisfied: int
    rated: int  # answers on the satisfaction scale, over all items
    rate_tenths: int | None
    meets_standard: bool | None


def percent_tenths(part: int, whole: int) -> int:
    """part/whole in tenths of a percent, rounded half up, in integers (both databases agree)."""
    return (part * 2000 + whole) // (2 * whole)


def tally(questions: Sequence[tuple[int, str, str]], answers: Iterable[tuple[int, int]],
          responses: int) -> SurveyResult:
    """Results of (question id, text, scale) from (question id, value) pairs of the effective
    responses. Nothing is computed for an item with fewer than MIN_PUBLISHED answers, and
    nothing at all when the survey has fewer than MIN_PUBLISHED responses."""
    counts: dict[int, dict[int, int]] = {qid: {} for qid, _, _ in questions}
    for qid, value in answers:
        if qid in counts:
            counts[qid][value] = counts[qid].get(value, 0) + 1
    survey_published = responses >= MIN_PUBLISHED
    items = []
    satisfied_all = rated_all = 0
    for qid, text, scale in questions:
        by_value = counts[qid]
        n = sum(by_value.values())
        if not (survey_published and n >= MIN_PUBLISHED):
            items.append(ItemResult(qid, text, scale, n if survey_published else 0, False, (),
                                    0, None, None))
            continue
        shares = tuple(Share(v, label, by_value.get(v, 0), percent_tenths(by_value.get(v, 0), n))
                       for v, label in SCALES[scale])
        satisfied = rate = average = None
        if scale == SATISFACTION:
            satisfied = sum(c for v, c in by_value.items() if v in SATISFIED_VALUES)
            rate = percent_tenths(satisfied, n)
            satisfied_all += satisfied
            rated_all += n
        else:
            total = sum(v * c for v, c in by_value.items())
            average = (total * 20 + n) // (2 * n)
        items.append(ItemResult(qid, text, scale, n, True, shares, satisfied or 0, rate, average))
    overall = percent_tenths(satisfied_all, rated_all) if rated_all else None
    return SurveyResult(
        responses=responses, published=survey_published, items=tuple(items),
        satisfied=satisfied_all, rated=rated_all, rate_tenths=overall,
        meets_standard=None if overall is None else overall >= STANDARD_PERCENT * 10,
    )


def percent_text(tenths: int | None) -> str:
    if tenths is None:
        return SUPPRESSED_TEXT
    return f"{tenths // 10}.{tenths % 10}%"
