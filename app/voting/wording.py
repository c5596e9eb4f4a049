"""How a tallied matter reads in a notice: one plain sentence with percentages, no fractions.

The exact figures (areas in hundredths, fractions) stay in the stored result and the recount
export; what owners read on the notice board is the share of each count to two decimals and the
bound it was judged by, in the words of Art. 278 (参与表决的专有部分面积, 人数, 过半数, …).
"""

from __future__ import annotations

from typing import Any

from app.voting import rules


def percent(value: Any) -> str:
    """A stored ratio ({"fraction", "percent"}) as 76.34%; "无法计算" when it has no base."""
    if isinstance(value, dict) and value.get("percent"):
        return str(value["percent"])
    return "无法计算"


def _bound(result: dict[str, Any], code: str) -> rules.Threshold | None:
    stored = (result.get("thresholds") or {}).get(code)
    if not isinstance(stored, dict) or "text" not in stored:
        return None
    return rules.Threshold.from_text(stored["text"])


def _pair_verdict(result: dict[str, Any], area_code: str, heads_code: str, *, area_met: bool,
                  heads_met: bool) -> str:
    area, heads = _bound(result, area_code), _bound(result, heads_code)
    if area is None or heads is None:
        return ""
    if area == heads and area_met == heads_met:
        return "均" + area.verdict_zh(area_met)  # 均过半数, 均达到三分之二, 均未达到四分之三
    return f"面积{area.verdict_zh(area_met)}、人数{heads.verdict_zh(heads_met)}"


def _participation(result: dict[str, Any]) -> str:
    return (f"参与表决的专有部分面积占总面积的 {percent(result.get('participation_area_ratio'))}，"
            f"人数占总人数的 {percent(result.get('participation_headcount_ratio'))}")


def _art278(passed: bool, result: dict[str, Any]) -> str:
    reasons = set(result.get("reasons") or ())
    quorum = _participation(result)
    quorum_verdict = _pair_verdict(result, rules.QUORUM_AREA, rules.QUORUM_HEADCOUNT,
                                   area_met=rules.QUORUM_AREA not in reasons,
                                   heads_met=rules.QUORUM_HEADCOUNT not in reasons)
    approval = (f"同意的专有部分面积占参与表决专有部分面积的 {percent(result.get('approval_area_ratio'))}，"
                f"人数占参与表决人数的 {percent(result.get('approval_headcount_ratio'))}")
    approval_verdict = _pair_verdict(result, rules.APPROVAL_AREA, rules.APPROVAL_HEADCOUNT,
                                     area_met=rules.APPROVAL_AREA not in reasons,
                                     heads_met=rules.APPROVAL_HEADCOUNT not in reasons)
    sentence = f"{quorum}，{quorum_verdict}；{approval}，{approval_verdict}"
    return sentence + ("，通过。" if passed else "，未通过。")


def _survey(result: dict[str, Any]) -> str:
    shares = "；".join(
        f"{label}的面积占参与面积的 {percent(result.get(f'{key}_area_share'))}，"
        f"人数占参与人数的 {percent(result.get(f'{key}_headcount_share'))}"
        for key, label in (("agree", "同意"), ("oppose", "反对"), ("abstain", "弃权")))
    return f"意见征集，不构成业主共同决定。{_participation(result)}；{shares}。"


def _unanimity(passed: bool, result: dict[str, Any]) -> str:
    affected, agreed = result.get("affected_headcount", 0), result.get("agree_headcount", 0)
    if not affected:
        return "未指定有利害关系的业主，无法认定一致同意，未通过。"
    if passed:
        return f"有利害关系的 {affected} 户业主全部同意，通过。"
    return f"有利害关系的 {affected} 户业主中 {agreed} 户同意，未能全部同意，未通过。"


def _election(headline: str, result: dict[str, Any]) -> str:
    participation = _participation(result)
    if not result.get("quorum_met"):
        reasons = set(result.get("reasons") or ())
        verdict = _pair_verdict(result, rules.QUORUM_AREA, rules.QUORUM_HEADCOUNT,
                                area_met=rules.QUORUM_AREA not in reasons,
                                heads_met=rules.QUORUM_HEADCOUNT not in reasons)
        return f"{participation}，{verdict}，选举无效，无人当选。"
    people = []
    for c in result.get("candidates") or ():
        status = "当选" if c.get("elected") else ("得票相同，待另行选举" if c.get("tied_for_runoff") else "未当选")
        people.append(f"{c.get('name', c.get('candidate_id'))}：同意人数占参与表决人数的 "
                      f"{percent(c.get('approval_headcount_ratio'))}，同意的专有部分面积占 "
                      f"{percent(c.get('approval_area_ratio'))}，{status}")
    return f"{headline}。{participation}。" + ("；".join(people) + "。" if people else "")


def plain_outcome(category: str, passed: bool | None, result: dict[str, Any], headline: str) -> str:
    """The matter's outcome in one plain sentence (two or more only for an election's list)."""
    if category == rules.Category.COMMITTEE_ELECTION.value:
        return _election(headline, result)
    if category == rules.Category.SURVEY.value:
        return _survey(result)
    if category == rules.Category.ART279.value:
        return _unanimity(bool(passed), result)
    return _art278(bool(passed), result)
