"""Pure Civil Code Art. 278/279 decision rules over explicit totals (no database, no web)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from app.roster.labels import format_area  # pure; one wording of areas, roster's

SubjectId = int | str
CandidateId = int | str

CIVIL_CODE: Final = "《中华人民共和国民法典》"
ART_278_PARA_2: Final = f"{CIVIL_CODE}第二百七十八条第二款"
ART_279: Final = f"{CIVIL_CODE}第二百七十九条"

# Reason codes, listed in the fixed order in which results report them.
QUORUM_AREA: Final = "quorum_area"
QUORUM_HEADCOUNT: Final = "quorum_headcount"
APPROVAL_AREA: Final = "approval_area"
APPROVAL_HEADCOUNT: Final = "approval_headcount"
REASON_ORDER: Final = (QUORUM_AREA, QUORUM_HEADCOUNT, APPROVAL_AREA, APPROVAL_HEADCOUNT)
NOT_UNANIMOUS: Final = "not_unanimous"
NO_AFFECTED_SUBJECTS: Final = "no_affected_subjects"
TIE_FOR_LAST_SEAT: Final = "tie_for_last_seat"
TOO_FEW_QUALIFIED: Final = "too_few_qualified"


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class VotingRuleError(ValueError):
    """A voting rule or its input was refused; shaped like the app's DomainError."""

    code: str = "voting_rule_error"
    status: int = 422

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class LaxerThanLawError(VotingRuleError):
    """A compound threshold is laxer than Civil Code Art. 278 allows."""

    code = "threshold_below_statute"


class InvalidThresholdError(VotingRuleError):
    """A threshold is malformed (outside 0..1, or set for a category that has none)."""

    code = "threshold_invalid"


class InvalidElectionError(VotingRuleError):
    """An election's seats or candidates are not acceptable."""

    code = "election_invalid"


class TallyInputError(VotingRuleError):
    """The totals, roster or votes handed to a tally are inconsistent."""

    code = "tally_input_invalid"


class UnknownSubjectError(TallyInputError):
    """A vote names a subject that is not in the ballot's frozen roster."""

    code = "vote_subject_not_in_roster"


class DuplicateVoteError(TallyInputError):
    """More than one effective vote was passed for one subject and matter."""

    code = "vote_duplicate"


# ---------------------------------------------------------------------------
# Categories and choices
# ---------------------------------------------------------------------------


class Category(StrEnum):
    """Kinds of matter: Art. 278 items (一)–(九), a survey, and Art. 279 unanimity."""

    RULES_OF_PROCEDURE = "1"
    MANAGEMENT_STATUTE = "2"
    COMMITTEE_ELECTION = "3"
    PROPERTY_MANAGER = "4"
    USE_MAINTENANCE_FUND = "5"
    RAISE_MAINTENANCE_FUND = "6"
    RECONSTRUCTION = "7"
    COMMON_PARTS_USE = "8"
    OTHER_MAJOR_MATTER = "9"
    SURVEY = "survey"
    ART279 = "art279"

    @property
    def label(self) -> str:
        """Return the Chinese label shown to users."""
        return _CATEGORY_LABELS[self]

    @property
    def is_art278(self) -> bool:
        """Return whether Art. 278 thresholds apply to this category."""
        return self in ART278_CATEGORIES

    @property
    def needs_special_majority(self) -> bool:
        """Return whether this is item (六), (七) or (八), which need three quarters."""
        return self in SPECIAL_MAJORITY_CATEGORIES


_ITEM_NUMERALS: Final = ("一", "二", "三", "四", "五", "六", "七", "八", "九")

_CATEGORY_LABELS: Final[Mapping[Category, str]] = MappingProxyType(
    {
        Category.RULES_OF_PROCEDURE: "（一）制定和修改业主大会议事规则",
        Category.MANAGEMENT_STATUTE: "（二）制定和修改管理规约",
        Category.COMMITTEE_ELECTION: "（三）选举业主委员会或者更换业主委员会成员",
        Category.PROPERTY_MANAGER: "（四）选聘和解聘物业服务企业或者其他管理人",
        Category.USE_MAINTENANCE_FUND: "（五）使用建筑物及其附属设施的维修资金",
        Category.RAISE_MAINTENANCE_FUND: "（六）筹集建筑物及其附属设施的维修资金",
        Category.RECONSTRUCTION: "（七）改建、重建建筑物及其附属设施",
        Category.COMMON_PARTS_USE: "（八）改变共有部分的用途或者利用共有部分从事经营活动",
        Category.OTHER_MAJOR_MATTER: "（九）有关共有和共同管理权利的其他重大事项",
        Category.SURVEY: "意见征集（不适用表决比例，不构成业主共同决定）",
        Category.ART279: "将住宅改变为经营性用房（须有利害关系的业主一致同意）",
    }
)

ART278_CATEGORIES: Final = frozenset(
    c for c in Category if c not in (Category.SURVEY, Category.ART279)
)
SPECIAL_MAJORITY_CATEGORIES: Final = frozenset(
    {Category.RAISE_MAINTENANCE_FUND, Category.RECONSTRUCTION, Category.COMMON_PARTS_USE}
)


class Choice(StrEnum):
    """A subject's recorded choice on one matter; a missing vote is represented by None."""

    AGREE = "agree"
    OPPOSE = "oppose"
    ABSTAIN = "abstain"
    INVALID = "invalid"

    @property
    def label(self) -> str:
        """Return the Chinese label shown to users."""
        return _CHOICE_LABELS[self]


_CHOICE_LABELS: Final[Mapping[Choice, str]] = MappingProxyType(
    {
        Choice.AGREE: "同意",
        Choice.OPPOSE: "反对",
        Choice.ABSTAIN: "弃权",
        Choice.INVALID: "无效票",
    }
)


def legal_basis(category: Category) -> str:
    """Return the statutory provision a category is decided under, in Chinese."""
    if category is Category.SURVEY:
        return (
            "不适用《中华人民共和国民法典》第二百七十八条表决比例（意见征集，不构成业主共同决定）"
        )
    if category is Category.ART279:
        return ART_279
    item = _ITEM_NUMERALS[int(category.value) - 1]
    return f"{CIVIL_CODE}第二百七十八条第一款第（{item}）项、第二款"


# ---------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A ratio bound: met when ratio ≥ fraction (inclusive) or ratio > fraction (strict)."""

    fraction: Fraction
    inclusive: bool

    def __post_init__(self) -> None:
        value: object = self.fraction
        if isinstance(value, bool) or not isinstance(value, int | Fraction):
            raise InvalidThresholdError("表决比例必须是精确分数（不得使用小数或浮点数）")
        if not isinstance(self.inclusive, bool):
            raise InvalidThresholdError("表决比例须注明是否包含本数")
        fraction = Fraction(value)
        object.__setattr__(self, "fraction", fraction)
        if fraction < 0 or fraction > 1:
            raise InvalidThresholdError(f"表决比例 {fraction} 超出 0 至 1 的范围")
        if fraction == 1 and not self.inclusive:
            raise InvalidThresholdError("表决比例“超过全部”无法达到")

    def is_met(self, numerator: int, denominator: int) -> bool:
        """Return whether numerator/denominator meets the bound; a zero denominator never does."""
        if denominator <= 0:
            return False
        lhs = numerator * self.fraction.denominator
        rhs = self.fraction.numerator * denominator
        return lhs >= rhs if self.inclusive else lhs > rhs

    def is_at_least_as_strict_as(self, other: Threshold) -> bool:
        """Return whether every ratio that meets this bound also meets the other one."""
        if self.fraction != other.fraction:
            return self.fraction > other.fraction
        return other.inclusive or not self.inclusive

    def to_text(self) -> str:
        """Return a storable form such as '>=2/3' or '>1/2'."""
        return f"{'>=' if self.inclusive else '>'}{self.fraction}"

    @classmethod
    def from_text(cls, text: str) -> Threshold:
        """Parse the form written by to_text (also accepting '≥')."""
        stripped = text.strip().replace("≥", ">=")
        inclusive = stripped.startswith(">=")
        if not inclusive and not stripped.startswith(">"):
            raise InvalidThresholdError(f"无法识别的表决比例：{text}")
        body = (stripped[2:] if inclusive else stripped[1:]).strip()
        if "." in body or "e" in body.lower():
            raise InvalidThresholdError(f"表决比例须写成分数：{text}")
        try:
            fraction = Fraction(body)
        except (ValueError, ZeroDivisionError) as exc:
            raise InvalidThresholdError(f"无法识别的表决比例：{text}") from exc
        return cls(fraction, inclusive)

    def __str__(self) -> str:
        return f"{'≥' if self.inclusive else '>'} {self.fraction}"

    def describe_zh(self) -> str:
        """Return the bound in statutory wording, e.g. '三分之二以上' or '过半数'."""
        if not self.inclusive and self.fraction == Fraction(1, 2):
            return "过半数"
        if self.inclusive:
            return f"{_fraction_zh(self.fraction)}以上"
        return f"超过{_fraction_zh(self.fraction)}"

    def verdict_zh(self, met: bool) -> str:
        """Return '达到三分之二' / '未过半数' style wording for a met or unmet bound."""
        if not self.inclusive and self.fraction == Fraction(1, 2):
            return "过半数" if met else "未过半数"
        verb = ("达到" if met else "未达到") if self.inclusive else ("超过" if met else "未超过")
        return f"{verb}{_fraction_zh(self.fraction)}"


STATUTORY_QUORUM: Final = Threshold(Fraction(2, 3), inclusive=True)
STATUTORY_SPECIAL_MAJORITY: Final = Threshold(Fraction(3, 4), inclusive=True)
STATUTORY_SIMPLE_MAJORITY: Final = Threshold(Fraction(1, 2), inclusive=False)


@dataclass(frozen=True)
class Thresholds:
    """The four bounds a matter is judged by: quorum and approval, by area and by headcount."""

    quorum_area: Threshold
    quorum_headcount: Threshold
    approval_area: Threshold
    approval_headcount: Threshold

    @classmethod
    def of(cls, *, quorum: Threshold, approval: Threshold) -> Thresholds:
        """Build thresholds that use the same bound for area and headcount."""
        return cls(quorum, quorum, approval, approval)

    def items(self) -> tuple[tuple[str, Threshold], ...]:
        """Return (reason code, bound) pairs in the fixed reason order."""
        return (
            (QUORUM_AREA, self.quorum_area),
            (QUORUM_HEADCOUNT, self.quorum_headcount),
            (APPROVAL_AREA, self.approval_area),
            (APPROVAL_HEADCOUNT, self.approval_headcount),
        )


def statutory_thresholds(category: Category) -> Thresholds:
    """Return the thresholds Civil Code Art. 278 sets for a category."""
    if not category.is_art278:
        raise InvalidThresholdError(f"{category.label}不适用第二百七十八条表决比例")
    approval = (
        STATUTORY_SPECIAL_MAJORITY if category.needs_special_majority else STATUTORY_SIMPLE_MAJORITY
    )
    return Thresholds.of(quorum=STATUTORY_QUORUM, approval=approval)


_THRESHOLD_NAMES_ZH: Final[Mapping[str, str]] = MappingProxyType(
    {
        QUORUM_AREA: "参与表决的专有部分面积占比",
        QUORUM_HEADCOUNT: "参与表决的人数占比",
        APPROVAL_AREA: "同意的专有部分面积占参与表决面积的比例",
        APPROVAL_HEADCOUNT: "同意的人数占参与表决人数的比例",
    }
)


# The three levels a compound may raise (RuleSettings.from_levels), named as a committee reads them.
LEVEL_NAMES_ZH: Final[Mapping[str, str]] = MappingProxyType(
    {
        "quorum": "参与表决比例（适用于全部表决事项：参与表决的专有部分面积和人数）",
        "simple_majority": (
            "一般事项的同意比例（第（一）至（五）项、第（九）项：同意的专有部分面积和人数"
            "占参与表决的比例）"
        ),
        "special_majority": (
            "特别事项的同意比例（第（六）至（八）项：同意的专有部分面积和人数占参与表决的比例）"
        ),
    }
)


def validate_thresholds(category: Category, thresholds: Thresholds) -> Thresholds:
    """Return the thresholds if each is at least as strict as the statute, else raise."""
    statute = statutory_thresholds(category)
    for (code, given), (_, required) in zip(thresholds.items(), statute.items(), strict=True):
        if not given.is_at_least_as_strict_as(required):
            raise LaxerThanLawError(
                f"{category.label}：{_THRESHOLD_NAMES_ZH[code]}不得低于"
                f"{ART_278_PARA_2}规定的{required.describe_zh()}（{required}），"
                f"本小区设置为 {given}，已拒绝"
            )
    return thresholds


@dataclass(frozen=True)
class RuleSettings:
    """A compound's thresholds per Art. 278 category; a missing category uses the statute."""

    overrides: Mapping[Category, Thresholds] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        frozen = MappingProxyType(dict(self.overrides))
        for category, thresholds in frozen.items():
            if not isinstance(category, Category) or not category.is_art278:
                raise InvalidThresholdError(f"不能为“{category}”设置表决比例")
            validate_thresholds(category, thresholds)
        object.__setattr__(self, "overrides", frozen)

    @classmethod
    def from_levels(
        cls,
        *,
        quorum: Threshold | None = None,
        simple_majority: Threshold | None = None,
        special_majority: Threshold | None = None,
    ) -> RuleSettings:
        """Build settings that raise the quorum and/or the two majorities for every category."""
        # Each level is checked against the statute by its own name first: the quorum applies
        # to every category, so its refusal must not cite the first category it happens to hit.
        for level, given, required in (
            ("quorum", quorum, STATUTORY_QUORUM),
            ("simple_majority", simple_majority, STATUTORY_SIMPLE_MAJORITY),
            ("special_majority", special_majority, STATUTORY_SPECIAL_MAJORITY),
        ):
            if given is not None and not given.is_at_least_as_strict_as(required):
                raise LaxerThanLawError(
                    f"{LEVEL_NAMES_ZH[level]}不得低于{ART_278_PARA_2}规定的"
                    f"{required.describe_zh()}（{required}），本小区设置为 {given}，已拒绝"
                )
        overrides: dict[Category, Thresholds] = {}
        for category in sorted(ART278_CATEGORIES):
            statute = statutory_thresholds(category)
            majority = special_majority if category.needs_special_majority else simple_majority
            overrides[category] = Thresholds.of(
                quorum=statute.quorum_area if quorum is None else quorum,
                approval=statute.approval_area if majority is None else majority,
            )
        return cls(overrides)

    def thresholds_for(self, category: Category) -> Thresholds:
        """Return the thresholds this compound applies to a category."""
        thresholds = self.overrides.get(category)
        return thresholds if thresholds is not None else statutory_thresholds(category)


def validate_settings(settings: RuleSettings) -> RuleSettings:
    """Return the settings if no category is laxer than Art. 278, else raise LaxerThanLawError."""
    for category, thresholds in settings.overrides.items():
        validate_thresholds(category, thresholds)
    return settings


def _applied_thresholds(category: Category, settings: RuleSettings | None) -> Thresholds:
    thresholds = (settings or RuleSettings()).thresholds_for(category)
    return validate_thresholds(category, thresholds)


def _basis_with_settings(category: Category, thresholds: Thresholds) -> str:
    basis = legal_basis(category)
    if thresholds != statutory_thresholds(category):
        basis += "；本物业管理区域业主大会议事规则规定的更高表决比例"
    return basis


def _must_reach(bound: Threshold) -> str:
    """'达到三分之二以上' / '超过四分之三' / '过半数': a bound as an owner reads the requirement."""
    return f"达到{bound.describe_zh()}" if bound.inclusive else bound.describe_zh()


def _area_and_heads(area: Threshold, heads: Threshold, say: Callable[[Threshold], str],
                    must: str = "须") -> str:
    if area == heads:
        return f"专有部分面积和人数均{must}{say(area)}"
    return f"专有部分面积{must}{say(area)}，人数{must}{say(heads)}"


def rule_text(category: Category, settings: RuleSettings | None = None, *, seats: int | None = None) -> str:
    """The rule a matter is decided by, in one sentence for owners, from the ballot's thresholds.

    The server states it (from the ballot's frozen settings), so a compound with stricter rules
    shows its own ratios before anyone votes; e.g. for a statutory item (九):
    参与表决：专有部分面积和人数均须达到三分之二以上；通过：参与表决专有部分面积和人数均须过半数同意
    """
    if category is Category.SURVEY:
        return "意见征集：只统计各意见所占比例，不适用表决比例，不构成业主共同决定"
    if category is Category.ART279:
        return ("通过：有利害关系的业主须一致同意（《民法典》第二百七十九条）；"
                "未表决、反对、弃权或无效票均视为不同意")
    thresholds = _applied_thresholds(category, settings)
    quorum = "参与表决：" + _area_and_heads(thresholds.quorum_area, thresholds.quorum_headcount,
                                          _must_reach)
    def agree(t: Threshold) -> str:
        return f"{t.describe_zh()}同意"

    if category is Category.COMMITTEE_ELECTION:
        majority = _area_and_heads(thresholds.approval_area, thresholds.approval_headcount, agree, "")
        text = (f"{quorum}；当选：候选人须经参与表决{majority}，"
                f"按同意人数和面积从多到少依次当选{f'（应选{seats}名）' if seats else ''}；"
                "所选人数超过应选人数的选票无效；末位得票相同的席位须另行选举")
    else:
        majority = _area_and_heads(thresholds.approval_area, thresholds.approval_headcount, agree)
        text = f"{quorum}；通过：参与表决{majority}"
    if thresholds != statutory_thresholds(category):
        text += "（本小区议事规则严于法定比例）"
    return text


# ---------------------------------------------------------------------------
# Inputs and totals
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectVote:
    """One voting subject's area (hundredths of m²) and choice; choice None means no vote."""

    subject_id: SubjectId
    area: int
    choice: Choice | None


@dataclass(frozen=True)
class ChoiceTotals:
    """Areas (hundredths of m²) and headcounts per choice, with the scope's totals A and N."""

    total_area: int
    total_headcount: int
    agree_area: int = 0
    agree_headcount: int = 0
    oppose_area: int = 0
    oppose_headcount: int = 0
    abstain_area: int = 0
    abstain_headcount: int = 0
    invalid_area: int = 0
    invalid_headcount: int = 0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            _check_count(name, getattr(self, name))
        for choice in Choice:
            if getattr(self, f"{choice}_area") and not getattr(self, f"{choice}_headcount"):
                raise TallyInputError(f"计票数据中“{choice.label}”有面积却没有人数")
        if self.participating_area > self.total_area:
            raise TallyInputError("参与表决的专有部分面积超过了总面积")
        if self.participating_headcount > self.total_headcount:
            raise TallyInputError("参与表决人数超过了总人数")

    @property
    def participating_area(self) -> int:
        """Return a_p: the area of subjects that agreed, opposed, abstained or voted invalidly."""
        return self.agree_area + self.oppose_area + self.abstain_area + self.invalid_area

    @property
    def participating_headcount(self) -> int:
        """Return n_p: the number of subjects that took part."""
        return (
            self.agree_headcount
            + self.oppose_headcount
            + self.abstain_headcount
            + self.invalid_headcount
        )


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TallyInputError(f"{name} 必须是非负整数，收到 {value!r}")
    return value


def _check_subjects(subjects: Sequence[tuple[SubjectId, object]]) -> int:
    """Check areas are non-negative integers and subjects distinct; return the area sum."""
    seen: set[SubjectId] = set()
    area_sum = 0
    for subject_id, area in subjects:
        area_sum += _check_count(f"表决主体 {subject_id} 的面积（百分之一平方米）", area)
        if subject_id in seen:
            raise DuplicateVoteError(f"表决主体 {subject_id} 在同一事项中出现多次")
        seen.add(subject_id)
    return area_sum


def _check_scope(
    total_area: int, total_headcount: int, subjects: Sequence[tuple[SubjectId, object]]
) -> None:
    _check_count("总面积", total_area)
    _check_count("总人数", total_headcount)
    if _check_subjects(subjects) > total_area:
        raise TallyInputError("各表决主体面积之和超过了总面积")
    if len(subjects) > total_headcount:
        raise TallyInputError("表决主体数量超过了总人数")


def _as_choice(subject_id: SubjectId, choice: object) -> Choice | None:
    if choice is None or isinstance(choice, Choice):
        return choice
    if isinstance(choice, str) and choice in Choice.__members__.values():
        return Choice(choice)
    raise TallyInputError(f"表决主体 {subject_id} 的表决意见无法识别：{choice!r}")


def count_choices(
    *, total_area: int, total_headcount: int, votes: Sequence[SubjectVote]
) -> ChoiceTotals:
    """Sum areas and headcounts per choice over one matter's votes (one entry per subject)."""
    _check_scope(total_area, total_headcount, [(v.subject_id, v.area) for v in votes])
    area = dict.fromkeys(Choice, 0)
    heads = dict.fromkeys(Choice, 0)
    for vote in votes:
        choice = _as_choice(vote.subject_id, vote.choice)
        if choice is None:
            continue
        area[choice] += vote.area
        heads[choice] += 1
    return ChoiceTotals(
        total_area=total_area,
        total_headcount=total_headcount,
        agree_area=area[Choice.AGREE],
        agree_headcount=heads[Choice.AGREE],
        oppose_area=area[Choice.OPPOSE],
        oppose_headcount=heads[Choice.OPPOSE],
        abstain_area=area[Choice.ABSTAIN],
        abstain_headcount=heads[Choice.ABSTAIN],
        invalid_area=area[Choice.INVALID],
        invalid_headcount=heads[Choice.INVALID],
    )


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """Return numerator/denominator exactly, or None when the denominator is zero."""
    return Fraction(numerator, denominator) if denominator > 0 else None


# ---------------------------------------------------------------------------
# Display helpers (formatting only; never used in a comparison)
# ---------------------------------------------------------------------------

_DIGITS_ZH: Final = "零一二三四五六七八九"


def _integer_zh(n: int) -> str:
    if n < 10:
        return _DIGITS_ZH[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return f"{'' if tens == 1 else _DIGITS_ZH[tens]}十{_DIGITS_ZH[ones] if ones else ''}"
    return str(n)


def _fraction_zh(fraction: Fraction) -> str:
    if fraction == 1:
        return "全部"
    if fraction == 0:
        return "零"
    if fraction.denominator < 100:
        return f"{_integer_zh(fraction.denominator)}分之{_integer_zh(fraction.numerator)}"
    return str(fraction)


def format_percent(value: Fraction | None) -> str:
    """Format a ratio as a percentage with two decimals, rounding half up, for display only."""
    if value is None:
        return "—"
    scaled = value * 10000
    hundredths = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _ratio_text(value: Fraction | None) -> str:
    if value is None:
        return "无法计算（分母为零）"
    return f"{value}（{format_percent(value)}）"


_BASE_ZH: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        QUORUM_AREA: ("参与表决的专有部分面积", "总面积"),
        QUORUM_HEADCOUNT: ("参与表决人数", "总人数"),
        APPROVAL_AREA: ("同意的专有部分面积", "参与表决专有部分面积"),
        APPROVAL_HEADCOUNT: ("同意的人数", "参与表决人数"),
    }
)


def reason_zh(code: str, threshold: Threshold) -> str:
    """Return the Chinese sentence for a failed check, e.g. '同意的人数未过参与表决人数的半数'."""
    part, base = _BASE_ZH[code]
    if not threshold.inclusive and threshold.fraction == Fraction(1, 2):
        return f"{part}未过{base}的半数"
    verb = "未达到" if threshold.inclusive else "未超过"
    return f"{part}{verb}{base}的{_fraction_zh(threshold.fraction)}"


# ---------------------------------------------------------------------------
# Art. 278 matters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MatterResult:
    """The statutory result of one Art. 278 matter, with every figure it was decided on."""

    category: Category
    legal_basis: str
    thresholds: Thresholds
    total_area: int
    total_headcount: int
    participating_area: int
    participating_headcount: int
    agree_area: int
    agree_headcount: int
    oppose_area: int
    oppose_headcount: int
    abstain_area: int
    abstain_headcount: int
    invalid_area: int
    invalid_headcount: int
    participation_area_ratio: Fraction | None
    participation_headcount_ratio: Fraction | None
    approval_area_ratio: Fraction | None
    approval_headcount_ratio: Fraction | None
    passed: bool
    reasons: tuple[str, ...]
    explanation: str


def _checks(totals: ChoiceTotals, thresholds: Thresholds) -> dict[str, bool]:
    return {
        QUORUM_AREA: thresholds.quorum_area.is_met(totals.participating_area, totals.total_area),
        QUORUM_HEADCOUNT: thresholds.quorum_headcount.is_met(
            totals.participating_headcount, totals.total_headcount
        ),
        APPROVAL_AREA: thresholds.approval_area.is_met(
            totals.agree_area, totals.participating_area
        ),
        APPROVAL_HEADCOUNT: thresholds.approval_headcount.is_met(
            totals.agree_headcount, totals.participating_headcount
        ),
    }


def _quorum_lines(
    a_p: int,
    n_p: int,
    total_area: int,
    total_headcount: int,
    thresholds: Thresholds,
    checks: Mapping[str, bool],
) -> list[str]:
    return [
        f"参与表决专有部分面积 {format_area(a_p)} 平方米，"
        f"占总面积 {format_area(total_area)} 平方米的比例为 {_ratio_text(ratio(a_p, total_area))}，"
        f"{thresholds.quorum_area.verdict_zh(checks[QUORUM_AREA])}",
        f"参与表决人数 {n_p} 人，占总人数 {total_headcount} 人的比例为 "
        f"{_ratio_text(ratio(n_p, total_headcount))}，"
        f"{thresholds.quorum_headcount.verdict_zh(checks[QUORUM_HEADCOUNT])}",
    ]


def evaluate_totals(
    category: Category, totals: ChoiceTotals, *, settings: RuleSettings | None = None
) -> MatterResult:
    """Decide an Art. 278 matter from its choice totals under the compound's settings."""
    if not category.is_art278:
        raise InvalidThresholdError(f"{category.label}不按第二百七十八条表决比例决定")
    thresholds = _applied_thresholds(category, settings)
    checks = _checks(totals, thresholds)
    reasons = tuple(code for code in REASON_ORDER if not checks[code])
    passed = not reasons
    lines = [f"事项类别：{category.label}；依据：{_basis_with_settings(category, thresholds)}"]
    lines += _quorum_lines(
        totals.participating_area,
        totals.participating_headcount,
        totals.total_area,
        totals.total_headcount,
        thresholds,
        checks,
    )
    lines += [
        f"同意的专有部分面积 {format_area(totals.agree_area)} 平方米，"
        "占参与表决专有部分面积的比例为 "
        f"{_ratio_text(ratio(totals.agree_area, totals.participating_area))}，"
        f"{thresholds.approval_area.verdict_zh(checks[APPROVAL_AREA])}",
        f"同意人数 {totals.agree_headcount} 人，占参与表决人数的比例为 "
        f"{_ratio_text(ratio(totals.agree_headcount, totals.participating_headcount))}，"
        f"{thresholds.approval_headcount.verdict_zh(checks[APPROVAL_HEADCOUNT])}",
        f"反对 {totals.oppose_headcount} 人（{format_area(totals.oppose_area)} 平方米），"
        f"弃权 {totals.abstain_headcount} 人（{format_area(totals.abstain_area)} 平方米），"
        f"无效票 {totals.invalid_headcount} 人（{format_area(totals.invalid_area)} 平方米）",
    ]
    if passed:
        lines.append("结果：通过")
    else:
        named = dict(thresholds.items())
        lines.append("结果：未通过：" + "；".join(reason_zh(c, named[c]) for c in reasons))
    return MatterResult(
        category=category,
        legal_basis=_basis_with_settings(category, thresholds),
        thresholds=thresholds,
        total_area=totals.total_area,
        total_headcount=totals.total_headcount,
        participating_area=totals.participating_area,
        participating_headcount=totals.participating_headcount,
        agree_area=totals.agree_area,
        agree_headcount=totals.agree_headcount,
        oppose_area=totals.oppose_area,
        oppose_headcount=totals.oppose_headcount,
        abstain_area=totals.abstain_area,
        abstain_headcount=totals.abstain_headcount,
        invalid_area=totals.invalid_area,
        invalid_headcount=totals.invalid_headcount,
        participation_area_ratio=ratio(totals.participating_area, totals.total_area),
        participation_headcount_ratio=ratio(totals.participating_headcount, totals.total_headcount),
        approval_area_ratio=ratio(totals.agree_area, totals.participating_area),
        approval_headcount_ratio=ratio(totals.agree_headcount, totals.participating_headcount),
        passed=passed,
        reasons=reasons,
        explanation="；\n".join(lines[:-1]) + "。\n" + lines[-1] + "。",
    )


def evaluate_matter(
    category: Category,
    *,
    total_area: int,
    total_headcount: int,
    votes: Sequence[SubjectVote],
    settings: RuleSettings | None = None,
) -> MatterResult:
    """Decide an Art. 278 matter from each subject's area and choice and the scope's totals."""
    totals = count_choices(total_area=total_area, total_headcount=total_headcount, votes=votes)
    return evaluate_totals(category, totals, settings=settings)


# ---------------------------------------------------------------------------
# Surveys
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyResult:
    """Shares of each choice among participants in a survey; never a decision."""

    category: Category
    legal_basis: str
    total_area: int
    total_headcount: int
    participating_area: int
    participating_headcount: int
    agree_area: int
    agree_headcount: int
    oppose_area: int
    oppose_headcount: int
    abstain_area: int
    abstain_headcount: int
    invalid_area: int
    invalid_headcount: int
    participation_area_ratio: Fraction | None
    participation_headcount_ratio: Fraction | None
    agree_area_share: Fraction | None
    agree_headcount_share: Fraction | None
    oppose_area_share: Fraction | None
    oppose_headcount_share: Fraction | None
    abstain_area_share: Fraction | None
    abstain_headcount_share: Fraction | None
    invalid_area_share: Fraction | None
    invalid_headcount_share: Fraction | None
    explanation: str


def evaluate_survey(
    *, total_area: int, total_headcount: int, votes: Sequence[SubjectVote]
) -> SurveyResult:
    """Report a survey's participation and choice shares (of participants), without a decision."""
    t = count_choices(total_area=total_area, total_headcount=total_headcount, votes=votes)
    a_p, n_p = t.participating_area, t.participating_headcount
    lines = [
        "意见征集结果（仅报告比例，不构成业主共同决定）",
        f"参与专有部分面积 {format_area(a_p)} 平方米，占总面积比例 "
        f"{_ratio_text(ratio(a_p, t.total_area))}",
        f"参与人数 {n_p} 人，占总人数比例 {_ratio_text(ratio(n_p, t.total_headcount))}",
    ]
    for choice, area, heads in (
        (Choice.AGREE, t.agree_area, t.agree_headcount),
        (Choice.OPPOSE, t.oppose_area, t.oppose_headcount),
        (Choice.ABSTAIN, t.abstain_area, t.abstain_headcount),
        (Choice.INVALID, t.invalid_area, t.invalid_headcount),
    ):
        lines.append(
            f"{choice.label} {heads} 人，占参与人数 {_ratio_text(ratio(heads, n_p))}；"
            f"面积 {format_area(area)} 平方米，占参与面积 {_ratio_text(ratio(area, a_p))}"
        )
    return SurveyResult(
        category=Category.SURVEY,
        legal_basis=legal_basis(Category.SURVEY),
        total_area=t.total_area,
        total_headcount=t.total_headcount,
        participating_area=a_p,
        participating_headcount=n_p,
        agree_area=t.agree_area,
        agree_headcount=t.agree_headcount,
        oppose_area=t.oppose_area,
        oppose_headcount=t.oppose_headcount,
        abstain_area=t.abstain_area,
        abstain_headcount=t.abstain_headcount,
        invalid_area=t.invalid_area,
        invalid_headcount=t.invalid_headcount,
        participation_area_ratio=ratio(a_p, t.total_area),
        participation_headcount_ratio=ratio(n_p, t.total_headcount),
        agree_area_share=ratio(t.agree_area, a_p),
        agree_headcount_share=ratio(t.agree_headcount, n_p),
        oppose_area_share=ratio(t.oppose_area, a_p),
        oppose_headcount_share=ratio(t.oppose_headcount, n_p),
        abstain_area_share=ratio(t.abstain_area, a_p),
        abstain_headcount_share=ratio(t.abstain_headcount, n_p),
        invalid_area_share=ratio(t.invalid_area, a_p),
        invalid_headcount_share=ratio(t.invalid_headcount, n_p),
        explanation="；\n".join(lines) + "。",
    )


# ---------------------------------------------------------------------------
# Art. 279 unanimity
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UnanimityResult:
    """The Art. 279 result: passes only if every affected subject voted 同意."""

    category: Category
    legal_basis: str
    affected_area: int
    affected_headcount: int
    agree_area: int
    agree_headcount: int
    not_agreeing: tuple[SubjectId, ...]
    passed: bool
    reasons: tuple[str, ...]
    explanation: str

    @property
    def not_agreeing_count(self) -> int:
        """Return how many affected subjects did not vote 同意 (including non-participants)."""
        return len(self.not_agreeing)


def evaluate_unanimity(*, affected: Sequence[SubjectVote]) -> UnanimityResult:
    """Decide an Art. 279 matter: every affected subject must have voted 同意."""
    _check_subjects([(v.subject_id, v.area) for v in affected])
    agreeing = [v for v in affected if _as_choice(v.subject_id, v.choice) is Choice.AGREE]
    # Silence, 反对, 弃权 and an invalid ballot all withhold consent.
    agreeing_ids = {v.subject_id for v in agreeing}
    not_agreeing = tuple(v.subject_id for v in affected if v.subject_id not in agreeing_ids)
    if not affected:
        reasons: tuple[str, ...] = (NO_AFFECTED_SUBJECTS,)
        verdict = "结果：未通过：未指定有利害关系的业主，无法认定一致同意"
    elif not_agreeing:
        reasons = (NOT_UNANIMOUS,)
        verdict = (
            f"结果：未通过：有利害关系的 {len(affected)} 名表决主体中有 {len(not_agreeing)} 名"
            "未表示同意（含反对、弃权、无效票及未参与表决）"
        )
    else:
        reasons = ()
        verdict = f"结果：通过：有利害关系的 {len(affected)} 名表决主体全部同意"
    lines = [
        f"事项类别：{Category.ART279.label}；依据：{ART_279}",
        f"有利害关系的表决主体 {len(affected)} 名，同意 {len(agreeing)} 名",
    ]
    return UnanimityResult(
        category=Category.ART279,
        legal_basis=ART_279,
        affected_area=sum(v.area for v in affected),
        affected_headcount=len(affected),
        agree_area=sum(v.area for v in agreeing),
        agree_headcount=len(agreeing),
        not_agreeing=not_agreeing,
        passed=not reasons,
        reasons=reasons,
        explanation="；\n".join(lines) + "。\n" + verdict + "。",
    )


# ---------------------------------------------------------------------------
# Elections (category 三)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ElectionBallot:
    """One subject's election ballot; approvals None and not invalid means no vote."""

    subject_id: SubjectId
    area: int
    approvals: frozenset[CandidateId] | None
    invalid: bool = False

    @property
    def took_part(self) -> bool:
        """Return whether the subject cast a ballot (valid or not)."""
        return self.invalid or self.approvals is not None


@dataclass(frozen=True)
class CandidateResult:
    """One candidate's approvals and outcome."""

    candidate_id: CandidateId
    approval_headcount: int
    approval_area: int
    approval_headcount_ratio: Fraction | None
    approval_area_ratio: Fraction | None
    qualified: bool
    elected: bool
    tied_for_runoff: bool


@dataclass(frozen=True)
class ElectionResult:
    """The result of a committee election, including seats left open for a run-off."""

    category: Category
    legal_basis: str
    thresholds: Thresholds
    seats: int
    total_area: int
    total_headcount: int
    participating_area: int
    participating_headcount: int
    invalid_area: int
    invalid_headcount: int
    participation_area_ratio: Fraction | None
    participation_headcount_ratio: Fraction | None
    quorum_met: bool
    candidates: tuple[CandidateResult, ...]
    elected: tuple[CandidateId, ...]
    tied_candidates: tuple[CandidateId, ...]
    runoff_seats: int
    unfilled_seats: int
    all_seats_filled: bool
    reasons: tuple[str, ...]
    explanation: str


def validate_election_setup(seats: int, candidates: Sequence[CandidateId]) -> None:
    """Raise InvalidElectionError unless seats is odd and ≥ 3 and candidates are distinct."""
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 3 or seats % 2 == 0:
        raise InvalidElectionError(
            f"业主委员会应选委员人数应为三人以上的单数，收到 {seats!r}",
            code="election_seats_invalid",
        )
    if not candidates:
        raise InvalidElectionError("选举至少需要一名候选人", code="election_candidates_invalid")
    if len(set(candidates)) != len(candidates):
        raise InvalidElectionError("候选人名单中有重复", code="election_candidates_invalid")


def _allocate_seats(
    seats: int, qualified: Sequence[tuple[CandidateId, int, int]]
) -> tuple[list[CandidateId], list[CandidateId], int]:
    """Return (elected, tied for a run-off, seats left open by the tie) for ranked qualifiers."""
    ranked = sorted(qualified, key=lambda c: (-c[1], -c[2]))
    if len(ranked) <= seats:
        return [c[0] for c in ranked], [], 0
    cut_key = (ranked[seats - 1][1], ranked[seats - 1][2])
    first_out_key = (ranked[seats][1], ranked[seats][2])
    if cut_key != first_out_key:
        return [c[0] for c in ranked[:seats]], [], 0
    elected = [c[0] for c in ranked if (c[1], c[2]) > cut_key]
    tied = [c[0] for c in ranked if (c[1], c[2]) == cut_key]
    return elected, tied, seats - len(elected)


def evaluate_election(
    *,
    total_area: int,
    total_headcount: int,
    seats: int,
    candidates: Sequence[CandidateId],
    ballots: Sequence[ElectionBallot],
    settings: RuleSettings | None = None,
) -> ElectionResult:
    """Elect committee members by quorum, majority of participants and rank; ties go to run-off."""
    validate_election_setup(seats, candidates)
    _check_scope(total_area, total_headcount, [(b.subject_id, b.area) for b in ballots])
    known = set(candidates)
    for ballot in ballots:
        if ballot.approvals is not None and not ballot.approvals <= known:
            raise TallyInputError(f"表决主体 {ballot.subject_id} 的选票包含不在名单中的候选人")
    category = Category.COMMITTEE_ELECTION
    thresholds = _applied_thresholds(category, settings)

    participants = [b for b in ballots if b.took_part]
    # Approving more candidates than seats spoils the ballot: it counts for participation only.
    valid = [
        b
        for b in participants
        if not b.invalid and b.approvals is not None and len(b.approvals) <= seats
    ]
    a_p = sum(b.area for b in participants)
    n_p = len(participants)
    invalid_area = a_p - sum(b.area for b in valid)
    invalid_headcount = n_p - len(valid)
    quorum_area_met = thresholds.quorum_area.is_met(a_p, total_area)
    quorum_headcount_met = thresholds.quorum_headcount.is_met(n_p, total_headcount)
    quorum_met = quorum_area_met and quorum_headcount_met

    tallies: dict[CandidateId, tuple[int, int]] = {}
    for candidate in candidates:
        approving = [b for b in valid if b.approvals is not None and candidate in b.approvals]
        tallies[candidate] = (len(approving), sum(b.area for b in approving))
    qualified = [
        (c, heads, area)
        for c, (heads, area) in tallies.items()
        if quorum_met
        and thresholds.approval_headcount.is_met(heads, n_p)
        and thresholds.approval_area.is_met(area, a_p)
    ]
    elected, tied, runoff_seats = _allocate_seats(seats, qualified)
    qualified_ids = {c for c, _, _ in qualified}
    results = tuple(
        CandidateResult(
            candidate_id=c,
            approval_headcount=heads,
            approval_area=area,
            approval_headcount_ratio=ratio(heads, n_p),
            approval_area_ratio=ratio(area, a_p),
            qualified=c in qualified_ids,
            elected=c in elected,
            tied_for_runoff=c in tied,
        )
        for c, (heads, area) in tallies.items()
    )
    unfilled = seats - len(elected)
    reasons: list[str] = []
    if not quorum_area_met:
        reasons.append(QUORUM_AREA)
    if not quorum_headcount_met:
        reasons.append(QUORUM_HEADCOUNT)
    if quorum_met and runoff_seats:
        reasons.append(TIE_FOR_LAST_SEAT)
    if quorum_met and len(qualified) < seats:
        reasons.append(TOO_FEW_QUALIFIED)

    basis = _basis_with_settings(category, thresholds)
    checks = {QUORUM_AREA: quorum_area_met, QUORUM_HEADCOUNT: quorum_headcount_met}
    lines = [f"事项类别：{category.label}（选举，应选 {seats} 名）；依据：{basis}"]
    lines += _quorum_lines(a_p, n_p, total_area, total_headcount, thresholds, checks)
    lines.append(
        f"无效选票 {invalid_headcount} 张（含所选人数超过应选人数的选票），"
        "计入参与表决，不计入任何候选人的同意票"
    )
    for r in results:
        heads_ok = thresholds.approval_headcount.is_met(r.approval_headcount, n_p)
        area_ok = thresholds.approval_area.is_met(r.approval_area, a_p)
        status = (
            "当选" if r.elected else ("得票相同，待另行选举" if r.tied_for_runoff else "未当选")
        )
        lines.append(
            f"候选人 {r.candidate_id}：同意 {r.approval_headcount} 人，占参与表决人数的比例为 "
            f"{_ratio_text(r.approval_headcount_ratio)}，"
            f"{thresholds.approval_headcount.verdict_zh(heads_ok)}；"
            f"同意面积 {format_area(r.approval_area)} 平方米，占参与表决专有部分面积的比例为 "
            f"{_ratio_text(r.approval_area_ratio)}，{thresholds.approval_area.verdict_zh(area_ok)}；"
            f"{status}"
        )
    if not quorum_met:
        named = dict(thresholds.items())
        verdict = "结果：选举未达到参与表决比例，无人当选：" + "；".join(
            reason_zh(c, named[c]) for c in reasons
        )
    else:
        verdict = f"结果：应选 {seats} 名，当选 {len(elected)} 名"
        if runoff_seats:
            verdict += (
                f"；候选人 {'、'.join(str(c) for c in tied)} 同意人数和面积均相同，"
                f"{runoff_seats} 个席位须另行选举"
            )
        elif unfilled:
            verdict += f"；符合当选条件的候选人不足，{unfilled} 个席位空缺，须另行选举"
    return ElectionResult(
        category=category,
        legal_basis=basis,
        thresholds=thresholds,
        seats=seats,
        total_area=total_area,
        total_headcount=total_headcount,
        participating_area=a_p,
        participating_headcount=n_p,
        invalid_area=invalid_area,
        invalid_headcount=invalid_headcount,
        participation_area_ratio=ratio(a_p, total_area),
        participation_headcount_ratio=ratio(n_p, total_headcount),
        quorum_met=quorum_met,
        candidates=results,
        elected=tuple(elected),
        tied_candidates=tuple(tied),
        runoff_seats=runoff_seats,
        unfilled_seats=unfilled,
        all_seats_filled=not reasons,
        reasons=tuple(reasons),
        explanation="；\n".join(lines) + "。\n" + verdict + "。",
    )
