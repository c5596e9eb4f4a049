"""Progress while open, closing and tallying, the objection window, publication and exports."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from app import calendar, timefmt
from app.audit import service as audit_service
from app.audit.canonical import canonical_json, format_time
from app.audit.service import Actor, append_event
from app.clock import now
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.notices import service as notices_service
from app.roster import service as roster_service
from app.search import label_matches
from app.voting import announce, casting, rules, tally, wording
from app.voting.casting import voter_subjects
from app.voting.models import (
    Ballot,
    BallotMatter,
    BallotObjection,
    BallotResult,
    BallotSubject,
    EffectiveApproval,
    EffectiveChoice,
    VoteCast,
)
from app.voting.service import ballot_scope, candidates_by_matter, list_matters
from app.voting.settings import ballot_rules

if TYPE_CHECKING:
    from app.audit.models import AuditCheckpoint

# --- progress (participation only: choices stay hidden until closing) -------------------------


def progress(session: Session, *, ballot: Ballot) -> dict[str, Any]:
    """Participation by area and headcount against the quorum, overall and per building."""
    if ballot.opened_at is None:
        raise Conflict("表决尚未开始", code="ballot_not_open")
    total_area, total_heads = ballot.total_area_hundredths or 0, ballot.total_headcount or 0
    # One aggregate in the database, grouped by each subject's set of buildings (a few dozen
    # groups), instead of reading every frozen subject into Python on every refresh.
    voted = BallotSubject.effective_cast_id.is_not(None)
    groups = session.execute(
        select(BallotSubject.building_ids, func.count(), func.coalesce(func.sum(BallotSubject.area_hundredths), 0),
               func.count(BallotSubject.effective_cast_id),
               func.coalesce(func.sum(case((voted, BallotSubject.area_hundredths), else_=0)), 0))
        .where(BallotSubject.ballot_id == ballot.id)
        .group_by(BallotSubject.building_ids)
    ).all()
    voted_area = sum(int(g[4]) for g in groups)
    voted_heads = sum(int(g[3]) for g in groups)
    per_building: dict[int, dict[str, int]] = defaultdict(lambda: {"subjects": 0, "voted": 0,
                                                                  "area": 0, "voted_area": 0})
    for building_ids, subjects, area, voted_subjects, voted_subject_area in groups:
        for bid in json.loads(building_ids):
            row = per_building[bid]
            row["subjects"] += int(subjects)
            row["area"] += int(area)
            row["voted"] += int(voted_subjects)
            row["voted_area"] += int(voted_subject_area)
    names = {b.id: b.name for b in roster_service.buildings(session, compound_id=ballot.compound_id)}
    quorum = ballot_rules(session, ballot=ballot).threshold("quorum")
    return {
        "ballot_id": ballot.id,
        "total_area_hundredths": total_area,
        "total_headcount": total_heads,
        "voted_area_hundredths": int(voted_area),
        "voted_headcount": int(voted_heads),
        "area_ratio": _ratio(int(voted_area), total_area),
        "headcount_ratio": _ratio(int(voted_heads), total_heads),
        "quorum": quorum.to_text(),
        "quorum_area_met": quorum.is_met(int(voted_area), total_area),
        "quorum_headcount_met": quorum.is_met(int(voted_heads), total_heads),
        "by_building": [
            {"building_id": bid, "building": names.get(bid, str(bid)), **row,
             "headcount_ratio": _ratio(row["voted"], row["subjects"])}
            for bid, row in sorted(per_building.items())
        ],
    }


_TURNOUT_KEYS = ("ballot_id", "total_area_hundredths", "total_headcount", "voted_area_hundredths",
                 "voted_headcount", "area_ratio", "headcount_ratio", "quorum", "quorum_area_met",
                 "quorum_headcount_met")


def turnout(session: Session, *, ballot: Ballot) -> dict[str, Any]:
    """Participation against the quorum for every member (DOMAIN §3: visible while open; never
    choices), without the per-building breakdown the committee uses for reminders."""
    full = progress(session, ballot=ballot)
    quorum = ballot_rules(session, ballot=ballot).threshold("quorum")
    return {**{key: full[key] for key in _TURNOUT_KEYS}, "quorum_label": quorum.describe_zh(),
            "quorum_percent": rules.format_percent(quorum.fraction)}


def _ratio(num: int, den: int) -> dict[str, str] | None:
    if den <= 0:
        return None
    f = Fraction(num, den)
    return {"fraction": f"{f.numerator}/{f.denominator}", "percent": rules.format_percent(f)}


NON_VOTER_SORTS = ("roster", "area", "label")


def _unit_entrance(unit_label: str, building: str) -> str | None:
    """The entrance of a unit label ('1栋2单元301' in '1栋' → '2'), None if it names none."""
    if not unit_label.startswith(building):
        return None
    rest = unit_label[len(building):]
    return rest.split("单元", 1)[0] if "单元" in rest else None


def non_voters(
    session: Session, *, ballot: Ballot, offset: int = 0, limit: int = 100, building: str | None = None,
    entrance: str | None = None, query: str | None = None, sort: str = "roster",
) -> tuple[int, list[dict[str, Any]], dict[str, list[str]]]:
    """Subjects that have not voted, by building/room only (for reminders; no names, no phones).

    Filtered by building (the frozen subject's buildings), entrance (of the units its label
    names) and typed text ('3-201', '3号楼201', see app/search.py); ordered by the roster
    (default), area or label. Also returns the buildings and entrances there are to filter by."""
    rows = list(session.execute(
        select(BallotSubject.subject_id, BallotSubject.label, BallotSubject.area_hundredths,
               BallotSubject.building_ids, BallotSubject.places)
        .where(BallotSubject.ballot_id == ballot.id, BallotSubject.effective_cast_id.is_(None))
        .order_by(BallotSubject.subject_id)
    ))
    names = {b.id: b.name for b in roster_service.buildings(session, compound_id=ballot.compound_id)}
    by_row = [{names[b] for b in json.loads(r.building_ids) if b in names} for r in rows]
    facets: dict[str, list[str]] = {
        "buildings": [n for bid, n in names.items() if any(n in bs for bs in by_row)], "entrances": [],
    }
    picked = []
    for r, bs in zip(rows, by_row, strict=True):
        if building and building not in bs:
            continue
        if building:
            # The frozen (building, entrance) pairs of the subject's flats, not its display label
            # (which names a few flats and then "等").
            ents = {str(e) for b, e in json.loads(r.places) if names.get(b) == building and e}
            if not ents and r.places == "[]":  # subjects frozen before places were kept
                ents = {e for u in r.label.split(" 等")[0].split("、") if (e := _unit_entrance(u, building))}
            facets["entrances"].extend(ents - set(facets["entrances"]))
            if entrance and entrance not in ents:
                continue
        if query and not label_matches(r.label, query):
            continue
        picked.append(r)
    facets["entrances"].sort(key=lambda e: (len(e), e))
    key = sort.lstrip("-")
    if key not in NON_VOTER_SORTS:
        raise Invalid(f"不支持按“{sort}”排序")
    if key == "area":
        picked.sort(key=lambda r: r.area_hundredths)
    elif key == "label":
        picked.sort(key=lambda r: r.label)
    if sort.startswith("-"):
        picked.reverse()
    return len(picked), [{"subject_id": r.subject_id, "label": r.label,
                          "area": rules.format_area(r.area_hundredths)}
                         for r in picked[offset:offset + limit]], facets


# --- tally -----------------------------------------------------------------------------------


def outcome_json(value: Any) -> Any:
    """A tally outcome (rules.py result) as the JSON stored with the ballot's results."""
    if isinstance(value, Fraction):
        return {"fraction": f"{value.numerator}/{value.denominator}", "percent": rules.format_percent(value)}
    if isinstance(value, rules.Threshold):
        return {"text": value.to_text(), "label": value.describe_zh()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: outcome_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | frozenset | set):
        items = [outcome_json(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, dict):
        return {str(k): outcome_json(v) for k, v in value.items()}
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def _all_choice_counts(session: Session, ballot: Ballot) -> dict[int, dict[str, tuple[int, int]]]:
    """Area and headcount per choice of every matter, in one grouped pass over the choices."""
    counts: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for matter_id, choice, area, heads in session.execute(
        select(EffectiveChoice.matter_id, EffectiveChoice.choice,
               func.coalesce(func.sum(BallotSubject.area_hundredths), 0), func.count())
        .join(BallotSubject, (BallotSubject.ballot_id == EffectiveChoice.ballot_id)
              & (BallotSubject.subject_id == EffectiveChoice.subject_id))
        .where(EffectiveChoice.ballot_id == ballot.id)
        .group_by(EffectiveChoice.matter_id, EffectiveChoice.choice)
    ):
        counts[matter_id][choice] = (int(area), int(heads))
    return counts


def _choice_totals(ballot: Ballot, counts: dict[str, tuple[int, int]]) -> rules.ChoiceTotals:
    def pick(c: rules.Choice) -> tuple[int, int]:
        return counts.get(c.value, (0, 0))

    return rules.ChoiceTotals(
        total_area=ballot.total_area_hundredths or 0, total_headcount=ballot.total_headcount or 0,
        agree_area=pick(rules.Choice.AGREE)[0], agree_headcount=pick(rules.Choice.AGREE)[1],
        oppose_area=pick(rules.Choice.OPPOSE)[0], oppose_headcount=pick(rules.Choice.OPPOSE)[1],
        abstain_area=pick(rules.Choice.ABSTAIN)[0], abstain_headcount=pick(rules.Choice.ABSTAIN)[1],
        invalid_area=pick(rules.Choice.INVALID)[0], invalid_headcount=pick(rules.Choice.INVALID)[1],
    )


def _subject_votes(session: Session, ballot: Ballot, matter: BallotMatter) -> list[rules.SubjectVote]:
    """Every frozen subject's choice on the matter (Art. 279: only the affected subjects')."""
    choices: dict[int, str] = dict(session.execute(
        select(EffectiveChoice.subject_id, EffectiveChoice.choice).where(
            EffectiveChoice.ballot_id == ballot.id, EffectiveChoice.matter_id == matter.id)
    ).all())
    rows = session.execute(
        select(BallotSubject.subject_id, BallotSubject.area_hundredths, BallotSubject.building_ids,
               BallotSubject.places)
        .where(BallotSubject.ballot_id == ballot.id)
    ).all()
    affected = (tally.affected_subject_ids(
        ((sid, json.loads(b)) for sid, _, b, _ in rows), json.loads(matter.affected_building_ids),
        affected_entrances=[(e["building_id"], e["entrance"]) for e in json.loads(matter.affected_entrances)],
        subject_places={sid: [tuple(p) for p in json.loads(places)] for sid, _, _, places in rows})
        if matter.category == rules.Category.ART279.value else None)
    return [rules.SubjectVote(subject_id=sid, area=area,
                              choice=rules.Choice(choices[sid]) if choices.get(sid) else None)
            for sid, area, _, _ in rows if affected is None or sid in affected]


def _election(session: Session, ballot: Ballot, matter: BallotMatter, settings: rules.RuleSettings,
              candidate_ids: list[int]) -> rules.ElectionResult:
    approvals: dict[int, set[int]] = defaultdict(set)
    for sid, cid in session.execute(
        select(EffectiveApproval.subject_id, EffectiveApproval.candidate_id).where(
            EffectiveApproval.ballot_id == ballot.id, EffectiveApproval.matter_id == matter.id)
    ):
        approvals[sid].add(cid)
    took_part: dict[int, str] = dict(session.execute(
        select(EffectiveChoice.subject_id, EffectiveChoice.choice).where(
            EffectiveChoice.ballot_id == ballot.id, EffectiveChoice.matter_id == matter.id)
    ).all())
    ballots = []
    for sid, area in session.execute(
        select(BallotSubject.subject_id, BallotSubject.area_hundredths).where(BallotSubject.ballot_id == ballot.id)
    ):
        # A ballot approving more candidates than seats is spoilt: rules.evaluate_election
        # decides that, for this path and the pure tally alike.
        state = took_part.get(sid)
        ballots.append(rules.ElectionBallot(
            subject_id=sid, area=area, invalid=state == rules.Choice.INVALID.value,
            approvals=frozenset(approvals[sid]) if state == "approve" else None))
    return rules.evaluate_election(
        total_area=ballot.total_area_hundredths or 0, total_headcount=ballot.total_headcount or 0,
        seats=matter.seats or 0, candidates=candidate_ids, ballots=ballots, settings=settings)


def compute_results(session: Session, *, ballot: Ballot) -> list[tuple[BallotMatter, tally.MatterOutcome]]:
    """Evaluate every matter from the effective votes (set-based sums for Art. 278 matters)."""
    settings = ballot_rules(session, ballot=ballot).rule_settings()
    cands = candidates_by_matter(session, ballot_id=ballot.id or 0)
    out: list[tuple[BallotMatter, tally.MatterOutcome]] = []
    matters = list_matters(session, ballot_id=ballot.id or 0)
    # Art. 278 matters share one aggregate (matter, choice) rather than one scan per matter.
    counts = (_all_choice_counts(session, ballot)
              if any(rules.Category(m.category).is_art278 for m in matters) else {})
    for matter in matters:
        category = rules.Category(matter.category)
        if category == rules.Category.COMMITTEE_ELECTION:
            result: tally.MatterOutcome = _election(session, ballot, matter, settings, [c.id or 0 for c in cands[matter.id or 0]])
        elif category == rules.Category.SURVEY:
            result = rules.evaluate_survey(
                total_area=ballot.total_area_hundredths or 0, total_headcount=ballot.total_headcount or 0,
                votes=_subject_votes(session, ballot, matter))
        elif category == rules.Category.ART279:
            result = rules.evaluate_unanimity(affected=_subject_votes(session, ballot, matter))
        else:
            result = rules.evaluate_totals(category, _choice_totals(ballot, counts.get(matter.id or 0, {})),
                                           settings=settings)
        out.append((matter, result))
    return out


def close_ballot(session: Session, *, ballot: Ballot, actor: Actor, by_schedule: bool = False) -> Ballot:
    """After the end: close, tally, publish the preliminary result, open the objection window."""
    if ballot.cancelled_at is not None:
        raise Conflict("表决已取消，所投的票保留在记录中，不计票", code="ballot_cancelled")
    if ballot.opened_at is None:
        raise Conflict("表决尚未开始", code="ballot_not_open")
    if ballot.closed_at is not None:
        raise Conflict("表决已关闭", code="ballot_already_closed")
    current = now()
    if current < ballot.ends_at:
        raise Conflict("投票期尚未结束，不能提前关闭", code="ballot_not_ended")
    ballot.closed_at = current
    session.add(ballot)
    ballot.schedule_problem = ballot.schedule_problem_at = None
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="ballot.closed",
                 object_type="ballot", object_id=ballot.id or 0,
                 payload={"trigger": "schedule"} if by_schedule else {})
    results = compute_results(session, ballot=ballot)
    for matter, result in results:
        session.add(BallotResult(
            ballot_id=ballot.id or 0, matter_id=matter.id or 0, compound_id=ballot.compound_id,
            passed=tally.decided(result),
            result_json=canonical_json(outcome_json(result)), computed_at=current))
    session.flush()
    seq, head = audit_service.chain_head(session, compound_id=ballot.compound_id)
    ballot.closing_seq, ballot.closing_hash = seq, head
    checkpoint = audit_service.sign_checkpoint(session, compound_id=ballot.compound_id,
                                               reason=f"ballot {ballot.id} closed", actor=actor)
    ballot.closing_checkpoint_id = checkpoint.id
    ballot.tallied_at = current
    setting_days = ballot_rules(session, ballot=ballot).objection_days
    ballot.objection_ends_at = calendar.period_end(current, setting_days)
    summary = results_summary(session, ballot=ballot)
    notice = notices_service.publish_notice(
        session, compound_id=ballot.compound_id, kind="result",
        title=f"{ballot.title}：表决结果（初步，询异期内）",
        body=_result_body(ballot, summary, final=False),
        audience_building_ids=_audience(ballot), audience_entrances=_audience_entrances(ballot),
        display_days=max(setting_days, 3), source_type="ballot", source_id=str(ballot.id),
        structured=_result_structured(summary, {"ballot_id": ballot.id,
                                                "audit_head": {"seq": seq, "hash": head}}),
        actor=actor,
    )
    ballot.preliminary_notice_id = notice.id
    session.add(ballot)
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="ballot.tallied",
                 object_type="ballot", object_id=ballot.id or 0,
                 payload={"results": [{"matter_id": m["matter_id"], "passed": m["passed"]} for m in summary],
                          "closing_seq": seq, "closing_hash": head,
                          "objection_ends_at": ballot.objection_ends_at})
    return ballot


def _result_structured(summary: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """The printed results table, with the machine-readable results kept alongside."""
    rows = []
    for m in summary:
        r = m["result"]
        verdict = m["headline"]
        rows.append([str(m["position"]), m["title"], verdict,
                     f"{rules.format_area(r.get('participating_area', 0) or 0)}㎡ / {r.get('participating_headcount', 0)}人",
                     f"{rules.format_area(r.get('agree_area', 0) or 0)}㎡ / {r.get('agree_headcount', 0)}人"
                     if "agree_area" in r else "见说明"])
    return {"sections": [{"type": "table", "heading": "表决结果",
                          "columns": ["序号", "事项", "结果", "参与（面积/人数）", "同意（面积/人数）"],
                          "rows": rows}],
            "data": {**data, "matters": summary}}


def _audience(ballot: Ballot) -> list[int] | None:
    """The buildings a ballot's notices address (None: the whole compound)."""
    scope = ballot_scope(ballot)
    return None if scope.whole_compound else sorted(scope.building_ids)


def _audience_entrances(ballot: Ballot) -> list[tuple[int, str]]:
    return sorted(ballot_scope(ballot).entrances)


def results_summary(session: Session, *, ballot: Ballot) -> list[dict[str, Any]]:
    matters = {m.id: m for m in list_matters(session, ballot_id=ballot.id or 0)}
    cands = {c.id: c.name for cs in candidates_by_matter(session, ballot_id=ballot.id or 0).values() for c in cs}
    out = []
    for r in session.execute(select(BallotResult).where(BallotResult.ballot_id == ballot.id)).scalars():
        m = matters[r.matter_id]
        detail = json.loads(r.result_json)
        if "candidates" in detail:
            for c in detail["candidates"]:
                c["name"] = cands.get(c["candidate_id"], str(c["candidate_id"]))
        out.append({"matter_id": m.id, "position": m.position, "title": m.title,
                    "category": m.category, "category_label": rules.Category(m.category).label,
                    "passed": r.passed, "headline": matter_headline(m.category, r.passed, detail),
                    "result": detail})
    return sorted(out, key=lambda x: x["position"])


def matter_headline(category: str, passed: bool | None, result: dict[str, Any]) -> str:
    """What was decided, in a few words: 通过 / 未通过, or for an election the seats filled."""
    if category == rules.Category.COMMITTEE_ELECTION.value and "elected" in result:
        if not result.get("quorum_met"):
            return "未达到参与表决比例，无人当选"
        elected = len(result["elected"])
        runoff = int(result.get("runoff_seats") or 0)
        vacant = int(result.get("unfilled_seats") or 0) - runoff
        parts = [f"选出{elected}名" if elected else "无人当选"]
        if runoff:
            parts.append(f"{runoff}席须另行选举（得票相同）")
        if vacant:
            parts.append(f"{vacant}席空缺")
        if not runoff and not vacant:
            parts.append(f"应选{result.get('seats', elected)}名已全部选出")
        return "，".join(parts)
    if passed is None:
        return "—"
    return "通过" if passed else "未通过"


def _result_body(ballot: Ballot, summary: list[dict[str, Any]], *, final: bool) -> str:
    lines = [f"{ballot.title}投票已于{_day(ballot.ends_at)}结束。本次表决范围内业主共 "
             f"{ballot.total_headcount} 人，专有部分总面积 "
             f"{rules.format_area(ballot.total_area_hundredths or 0)} 平方米。表决结果如下：", ""]
    for m in summary:
        lines.append(f"{m['position']}. {m['title']}："
                     + wording.plain_outcome(m["category"], m["passed"], m["result"], m["headline"]))
    lines.append("")
    lines.append("以上比例保留两位小数；各项的精确面积、人数和计算过程可在平台的表决结果页查看，"
                 "监督人员可下载计票数据独立复算。")
    if not final:
        lines += ["", f"询异期至{_day(ballot.objection_ends_at)}：业主可登录查看本户投票记录（查票），"
                  "如有异议请在询异期内提出，业委会将逐一书面答复。"]
    return "\n".join(lines)


def verification_section(*, closing_seq: int | None, closing_hash: str | None,
                         closing: AuditCheckpoint | None, published: AuditCheckpoint) -> dict[str, Any]:
    """The 核验信息 printed last on the 决议公告: every figure an observer needs to show that the
    record was not changed, each with one line on what it is for and who uses it."""
    items = [
        f"关闭时审计链序号：{closing_seq}。表决关闭时，平台的操作记录（审计链）记到第 {closing_seq} 条；"
        "核验时据此确认计票所依据的记录。",
        f"关闭时审计链哈希：{closing_hash}。这是上述全部记录的“指纹”，其中任何一条被改动，指纹都会不同。",
    ]
    if closing is not None:
        items.append(f"关闭时签名：密钥编号 {closing.key_id}，签名 {closing.signature}。"
                     "平台在表决关闭时对上述指纹签名，证明它在关闭当时已经确定。")
    items.append(f"公告时检查点：序号 {published.seq}，哈希 {published.head_hash}，密钥编号 "
                 f"{published.key_id}，签名 {published.signature}。发布本公告时再签名一次，"
                 "覆盖询异期内的全部记录（包括异议及答复）。")
    items.append("怎样核验：监督人员可在平台“审计记录”页下载核验文件，用共决核验工具复核以上各项；"
                 "业主可登录平台，在表决结果页核对本户回执码是否计入。普通业主无需操作。")
    return {"type": "list", "heading": "核验信息", "items": items}


def _day(value: datetime | None) -> str:
    if value is None:
        return ""
    return timefmt.format_moment(value, end=True)


# --- objections (询异) ------------------------------------------------------------------------


def my_votes(session: Session, *, ballot: Ballot, phone: str | None) -> list[dict[str, Any]]:
    """查票: how each of the caller's subjects' votes were recorded (after closing; or own receipts)."""
    out = []
    matters = {str(m.id): m for m in list_matters(session, ballot_id=ballot.id or 0)}
    for voter in voter_subjects(session, ballot=ballot, phone=phone):
        subject = session.get(BallotSubject, (ballot.id, voter.subject_id))
        if subject is None:
            continue
        casts = list(session.execute(
            select(VoteCast).where(VoteCast.ballot_id == ballot.id, VoteCast.subject_id == voter.subject_id)
            .order_by(VoteCast.id)).scalars())
        out.append({
            "subject_id": voter.subject_id, "label": subject.label,
            "is_representative": voter.is_representative,
            "casts": [{
                "cast_id": c.id, "channel": c.channel, "cast_at": c.cast_at, "receipt_code": c.receipt_code,
                "receipt_short": casting.group_short_code(c.receipt_short),
                "audit_seq": c.audit_seq, "audit_hash": c.audit_hash,
                "effective": c.id == subject.effective_cast_id,
                "choices": [_choice_view(matters[k], v) for k, v in json.loads(c.choices_json).items()
                            if k in matters],
            } for c in casts],
        })
    return out


def _choice_view(matter: BallotMatter, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"matter_id": matter.id, "title": matter.title, "approve": value["approve"]}
    return {"matter_id": matter.id, "title": matter.title, "choice": value,
            "choice_label": rules.Choice(value).label}


# Every objection holds the publication until the committee answers it: one subject may raise a
# few, each of a readable length (more can be said to the committee in one of them).
MAX_OBJECTIONS_PER_SUBJECT = 3
MAX_OBJECTION_CHARS = 1000


def raise_objection(session: Session, *, ballot: Ballot, phone: str | None, user_id: int,
                    subject_id: int, text: str) -> BallotObjection:
    if ballot.tallied_at is None or ballot.published_at is not None:
        raise Conflict("当前不在询异期", code="objection_window_closed")
    if now() >= (ballot.objection_ends_at or now()):
        raise Conflict("询异期已结束", code="objection_window_closed")
    if subject_id not in {v.subject_id for v in voter_subjects(session, ballot=ballot, phone=phone)}:
        raise Forbidden("只能就本户的表决记录提出异议", code="not_a_voter_for_subject")
    if not text.strip():
        raise Invalid("请填写异议内容", code="objection_empty")
    if len(text.strip()) > MAX_OBJECTION_CHARS:
        raise Invalid(f"异议内容不得超过{MAX_OBJECTION_CHARS}字", code="objection_too_long")
    # Counted under the subject's row lock (PostgreSQL; SQLite writes one at a time), so two
    # objections of one flat at the same instant cannot both pass the cap.
    lock = select(BallotSubject.subject_id).where(BallotSubject.ballot_id == ballot.id,
                                                  BallotSubject.subject_id == subject_id)
    if session.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update()
    session.execute(lock)
    raised = session.execute(
        select(func.count()).select_from(BallotObjection).where(
            BallotObjection.ballot_id == ballot.id, BallotObjection.subject_id == subject_id)
    ).scalar_one()
    if raised >= MAX_OBJECTIONS_PER_SUBJECT:
        raise Invalid(
            f"每户在一次表决中最多提出{MAX_OBJECTIONS_PER_SUBJECT}条异议，本户已提出{raised}条；"
            "如需补充，请等待业委会答复或直接联系业委会",
            code="objection_limit_reached")
    obj = BallotObjection(compound_id=ballot.compound_id, ballot_id=ballot.id or 0, subject_id=subject_id,
                          raised_by=user_id, text=text.strip(), raised_at=now())
    session.add(obj)
    session.flush()
    append_event(session, compound_id=ballot.compound_id, actor=Actor(user_id=user_id, role="owner"),
                 action="objection.raised", object_type="ballot_objection", object_id=obj.id or 0,
                 payload={"ballot_id": ballot.id, "subject_id": subject_id, "text": obj.text})
    return obj


def answer_objection(session: Session, *, ballot: Ballot, objection_id: int, answer: str,
                     actor: Actor) -> BallotObjection:
    obj = session.get(BallotObjection, objection_id)
    if obj is None or obj.ballot_id != ballot.id:
        raise NotFound("异议不存在", code="objection_not_found")
    if obj.answered_at is not None:
        raise Conflict("该异议已答复", code="objection_already_answered")
    if not answer.strip():
        raise Invalid("请填写答复内容", code="answer_empty")
    obj.answer, obj.answered_by, obj.answered_at = answer.strip()[:4000], actor.user_id, now()
    session.add(obj)
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="objection.answered",
                 object_type="ballot_objection", object_id=obj.id or 0,
                 payload={"ballot_id": ballot.id, "answer": obj.answer})
    return obj


def list_objections(session: Session, *, ballot: Ballot, raised_by: int | None = None) -> list[BallotObjection]:
    stmt = select(BallotObjection).where(BallotObjection.ballot_id == ballot.id)
    if raised_by is not None:
        stmt = stmt.where(BallotObjection.raised_by == raised_by)
    return list(session.execute(stmt.order_by(BallotObjection.id)).scalars())


# --- publication -----------------------------------------------------------------------------


def publish_result(session: Session, *, ballot: Ballot, actor: Actor) -> Ballot:
    """After the objection window, with every objection answered: the 决议公告."""
    if ballot.tallied_at is None:
        raise Conflict("尚未计票", code="ballot_not_tallied")
    if ballot.published_at is not None:
        raise Conflict("决议已公告", code="ballot_already_published")
    current = now()
    if current < (ballot.objection_ends_at or current):
        raise Conflict(f"询异期至{_day(ballot.objection_ends_at)}结束，结束后方可公告决议",
                          code="objection_window_open")
    open_objections = [o for o in list_objections(session, ballot=ballot) if o.answered_at is None]
    if open_objections:
        raise Conflict(f"尚有{len(open_objections)}条异议未答复", code="objections_unanswered")
    summary = results_summary(session, ballot=ballot)
    checkpoint = audit_service.sign_checkpoint(session, compound_id=ballot.compound_id,
                                               reason=f"ballot {ballot.id} published", actor=actor)
    closing_cp = audit_service.list_checkpoints(session, compound_id=ballot.compound_id)
    closing = next((c for c in closing_cp if c.id == ballot.closing_checkpoint_id), None)
    # Art. 280 and its interpretation Art. 12: one year from when the owner knew (at the latest,
    # this announcement), counted as Art. 201-203 count a year.
    revoke_until = calendar.year_period_last_day(calendar.local_day(current))
    body = _result_body(ballot, summary, final=True) + "\n" + "\n".join([
        "",
        "全部投票回执码已随本公告公开，业主可核对本户回执码是否计入。",
        f"业主认为本决定侵害其合法权益的，可自知道或者应当知道之日起一年内（最迟约至"
        f"{timefmt.format_date(revoke_until)}）请求人民法院予以撤销（《民法典》第二百八十条）。",
        "本公告末尾的“核验信息”供监督人员复核表决记录未被改动。",
    ])
    structured = _result_structured(summary, {
        "ballot_id": ballot.id,
        "audit_head": {"seq": ballot.closing_seq, "hash": ballot.closing_hash},
        "checkpoint": audit_service.checkpoint_record(closing) if closing else None,
        "receipts": receipt_codes(session, ballot=ballot)})
    structured["sections"].append(verification_section(
        closing_seq=ballot.closing_seq, closing_hash=ballot.closing_hash, closing=closing,
        published=checkpoint))
    notice = notices_service.publish_notice(
        session, compound_id=ballot.compound_id, kind="result", title=f"{ballot.title}：决议公告",
        body=body, audience_building_ids=_audience(ballot), audience_entrances=_audience_entrances(ballot), display_days=30,
        source_type="ballot", source_id=str(ballot.id), structured=structured, actor=actor,
    )
    ballot.result_notice_id = notice.id
    ballot.published_at = current
    ballot.publish_checkpoint_id = checkpoint.id
    session.add(ballot)
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="ballot.published",
                 object_type="ballot", object_id=ballot.id or 0,
                 payload={"notice_id": notice.id, "publish_checkpoint_id": checkpoint.id})
    announce.announce_result(session, ballot=ballot)
    return ballot


def results_view(session: Session, *, ballot: Ballot) -> dict[str, Any]:
    """The tallied results (preliminary during the objection window, final once published)."""
    if ballot.tallied_at is None:
        raise Forbidden("计票完成后才能查看结果", code="results_not_ready")
    settings = ballot_rules(session, ballot=ballot).rule_settings()
    return {"ballot_id": ballot.id, "final": ballot.published_at is not None,
            "total_area_hundredths": ballot.total_area_hundredths,
            "total_headcount": ballot.total_headcount,
            "closing_audit": {"seq": ballot.closing_seq, "hash": ballot.closing_hash},
            "objection_ends_at": ballot.objection_ends_at,
            "matters": [{**m, "rule_text": rules.rule_text(rules.Category(m["category"]), settings,
                                                           seats=m["result"].get("seats")),
                         "summary": wording.plain_outcome(m["category"], m["passed"], m["result"],
                                                          m["headline"])}
                        for m in results_summary(session, ballot=ballot)]}


def public_receipt_codes(session: Session, *, ballot: Ballot) -> list[str]:
    """The receipt codes, public once the result announcement is out."""
    if ballot.published_at is None:
        raise Forbidden("决议公告后公开回执码", code="receipts_not_public")
    return receipt_codes(session, ballot=ballot)


def public_short_codes(session: Session, *, ballot: Ballot) -> list[str]:
    """The short codes (7KQ4-M2XD-9P) of the counted votes, public with the receipt codes."""
    if ballot.published_at is None:
        raise Forbidden("决议公告后公开回执码", code="receipts_not_public")
    return sorted(casting.group_short_code(c) for c in session.execute(
        select(VoteCast.receipt_short).join(
            BallotSubject, (BallotSubject.ballot_id == VoteCast.ballot_id)
            & (BallotSubject.effective_cast_id == VoteCast.id))
        .where(VoteCast.ballot_id == ballot.id)).scalars())


def check_receipt(session: Session, *, ballot: Ballot, code: str) -> dict[str, Any]:
    """Is the vote with this receipt (short code or full receipt, typed any way) counted?

    Answers once the codes are public (the result announcement); says no more than the public
    list does: whether the code is there, or names a vote that a later one of its flat replaced."""
    if ballot.published_at is None:
        raise Forbidden("决议公告后才能核对回执码", code="receipts_not_public")
    parsed = casting.normalize_receipt_input(code)
    if parsed is None:
        raise Invalid("回执码格式不正确：应为10位短码（如 7KQ4-M2XD-9P）或32位完整回执码",
                      code="receipt_code_malformed")
    kind, value = parsed
    column = VoteCast.receipt_short if kind == "short" else VoteCast.receipt_code
    row = session.execute(
        select(VoteCast.receipt_code, VoteCast.receipt_short, BallotSubject.effective_cast_id == VoteCast.id)
        .join(BallotSubject, (BallotSubject.ballot_id == VoteCast.ballot_id)
              & (BallotSubject.subject_id == VoteCast.subject_id))
        .where(VoteCast.ballot_id == ballot.id, column == value)).first()
    shown = casting.group_short_code(value) if kind == "short" else value
    if row is None:
        return {"ballot_id": ballot.id, "code": shown, "kind": kind, "found": False, "counted": False,
                "receipt_code": None, "short_code": None}
    return {"ballot_id": ballot.id, "code": shown, "kind": kind, "found": True, "counted": bool(row[2]),
            "receipt_code": row[0], "short_code": casting.group_short_code(row[1])}


def receipt_codes(session: Session, *, ballot: Ballot) -> list[str]:
    """Receipt codes of the effective votes, sorted (they reveal neither subject nor choice)."""
    return sorted(session.execute(
        select(VoteCast.receipt_code).join(
            BallotSubject, (BallotSubject.ballot_id == VoteCast.ballot_id)
            & (BallotSubject.effective_cast_id == VoteCast.id))
        .where(VoteCast.ballot_id == ballot.id)).scalars())


def unit_record(session: Session, *, ballot: Ballot) -> list[dict[str, Any]]:
    """Per-unit record (building/room and choice, no names) when the compound's rules publish it."""
    if not ballot.published_at or not ballot_rules(session, ballot=ballot).publish_unit_record:
        raise Forbidden("本小区议事规则未规定公开分户表决记录", code="unit_record_not_published")
    return _tally_rows(session, ballot=ballot, with_nonce=False)


def _tally_rows(session: Session, *, ballot: Ballot, with_nonce: bool) -> list[dict[str, Any]]:
    rows = []
    for subject, cast in session.execute(
        select(BallotSubject, VoteCast).join(VoteCast, VoteCast.id == BallotSubject.effective_cast_id, isouter=True)
        .where(BallotSubject.ballot_id == ballot.id).order_by(BallotSubject.subject_id)
    ):
        row: dict[str, Any] = {"subject_id": subject.subject_id, "label": subject.label,
                               "area_hundredths": subject.area_hundredths,
                               "building_ids": json.loads(subject.building_ids),
                               "places": json.loads(subject.places),
                               "channel": cast.channel if cast else None,
                               "choices": json.loads(cast.choices_json) if cast else None}
        if with_nonce:
            row.update({"receipt_code": cast.receipt_code if cast else None,
                        "nonce": cast.nonce if cast else None,
                        "commitment": cast.commitment if cast else None,
                        "audit_seq": cast.audit_seq if cast else None})
        rows.append(row)
    return rows


def tally_inputs(session: Session, *, ballot: Ballot) -> dict[str, Any]:
    """Everything needed to recount independently (after closing), as one JSON document."""
    if ballot.closed_at is None:
        raise Conflict("表决结束后才能导出计票数据", code="ballot_not_closed")
    cands = candidates_by_matter(session, ballot_id=ballot.id or 0)
    return {
        "format": "gongjue-tally/1",
        "ballot_id": ballot.id, "compound_id": ballot.compound_id, "title": ballot.title,
        "total_area_hundredths": ballot.total_area_hundredths, "total_headcount": ballot.total_headcount,
        "settings": json.loads(ballot.settings_json or "{}"),
        "closing_audit": {"seq": ballot.closing_seq, "hash": ballot.closing_hash},
        "matters": [{"matter_id": m.id, "title": m.title, "category": m.category, "seats": m.seats,
                     "affected_building_ids": json.loads(m.affected_building_ids),
                     "affected_entrances": json.loads(m.affected_entrances),
                     "candidates": [{"id": c.id, "name": c.name} for c in cands[m.id or 0]]}
                    for m in list_matters(session, ballot_id=ballot.id or 0)],
        "subjects": _tally_rows(session, ballot=ballot, with_nonce=True),
        "results": results_summary(session, ballot=ballot),
        "exported_at": format_time(now()),
    }


def tally_csv(data: dict[str, Any]) -> str:
    """One row per subject and matter: the flat form of the tally inputs for spreadsheets."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["subject_id", "label", "area_hundredths", "channel", "matter_id", "choice", "approved_candidates"])
    for s in data["subjects"]:
        for m in data["matters"]:
            value = (s["choices"] or {}).get(str(m["matter_id"]))
            approve = ";".join(str(c) for c in value["approve"]) if isinstance(value, dict) else ""
            choice = "approve" if isinstance(value, dict) else (value or "")
            w.writerow([s["subject_id"], s["label"], s["area_hundredths"], s["channel"] or "",
                        m["matter_id"], choice, approve])
    return out.getvalue()
