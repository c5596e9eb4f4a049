"""Ballots: drafting, the meeting notice, opening (the roster frozen), listing and access."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from app import calendar, timefmt
from app.audit.service import Actor, append_event
from app.clock import now
from app.errors import Conflict, Invalid, NotFound
from app.files import service as files_service
from app.notices import service as notices_service
from app.roster import service as roster_service
from app.roster.scope import Place, Scope
from app.voting import announce, rules
from app.voting.models import (
    Ballot,
    BallotCandidate,
    BallotMatter,
    BallotResult,
    BallotSubject,
    BallotVoter,
)
from app.voting.settings import BallotRules, ballot_rules, frozen_settings_json, get_settings


@dataclass(frozen=True)
class CandidateSpec:
    name: str
    intro: str = ""


@dataclass(frozen=True)
class MatterSpec:
    title: str
    category: str
    description: str = ""
    seats: int | None = None
    candidates: tuple[CandidateSpec, ...] = ()
    affected_building_ids: tuple[int, ...] = ()
    affected_entrances: tuple[Place, ...] = ()  # Art. 279 by entrance (单元)
    document_file_ids: tuple[int, ...] = ()


# Checks other domains plug in (e.g. procedures' review gate); each raises DomainError to refuse
# noticing or opening a ballot. Voting imports none of them.
OPEN_GUARDS: list[Callable[[Session, Ballot], None]] = []


def register_open_guard(fn: Callable[[Session, Ballot], None]) -> Callable[[Session, Ballot], None]:
    """Register a guard run before a ballot's notice is published and before it opens."""
    if fn not in OPEN_GUARDS:
        OPEN_GUARDS.append(fn)
    return fn


def _run_open_guards(session: Session, ballot: Ballot) -> None:
    for guard in OPEN_GUARDS:
        guard(session, ballot)


# Reports other domains plug in to say, for the draft editor and the ballot page, which matters
# need their review and where each stands (procedures); each returns rows (dicts). Voting imports
# none of them.
REVIEW_REPORTERS: list[Callable[[Session, Ballot], list[dict[str, Any]]]] = []


def register_review_reporter(
    fn: Callable[[Session, Ballot], list[dict[str, Any]]],
) -> Callable[[Session, Ballot], list[dict[str, Any]]]:
    """Register a report of the ballot's matters that need another domain's review."""
    if fn not in REVIEW_REPORTERS:
        REVIEW_REPORTERS.append(fn)
    return fn


def review_report(session: Session, ballot: Ballot) -> list[dict[str, Any]]:
    return [row for fn in REVIEW_REPORTERS for row in fn(session, ballot)]


def status_of(ballot: Ballot, at: datetime | None = None) -> str:
    """The lifecycle stage, read from the timestamps."""
    at = at or now()
    if ballot.deleted_at:
        return "deleted"
    if ballot.cancelled_at:
        return "cancelled"
    if ballot.published_at:
        return "published"
    if ballot.tallied_at:
        return "tallied"
    if ballot.closed_at:
        return "closed"
    if ballot.opened_at:
        if at < ballot.starts_at:  # postponed while open: voting resumes at the new start
            return "postponed"
        return "open" if at < ballot.ends_at else "ended"
    if ballot.noticed_at:
        if at >= ballot.ends_at:  # never opened (e.g. a review withdrawn) and its period is over
            return "lapsed"
        if ballot.postponed_at is not None and at < ballot.starts_at:
            return "postponed"
        return "noticed"
    return "draft"


STATUS_LABELS = {
    "draft": "草稿", "noticed": "已公告", "open": "投票中", "ended": "投票期已结束（待关闭）",
    "closed": "已关闭", "tallied": "已计票（询异期）", "published": "决议已公告",
    "postponed": "已推迟", "cancelled": "已取消", "deleted": "已删除",
    "lapsed": "未能按期开始（待业委会推迟或取消）",
}


def get_ballot(session: Session, *, compound_id: int, ballot_id: int, lock: bool = False) -> Ballot:
    """The ballot, a deleted draft included (other domains' links to it stay readable; the
    ballot routes answer 404 for it)."""
    stmt = select(Ballot).where(Ballot.id == ballot_id, Ballot.compound_id == compound_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    ballot = session.execute(stmt).scalar_one_or_none()
    if ballot is None:
        raise NotFound("表决不存在", code="ballot_not_found")
    return ballot


_BALLOT_WITH_MATTERS = (
    select(Ballot, BallotMatter)
    .outerjoin(BallotMatter, BallotMatter.ballot_id == Ballot.id)
    .where(Ballot.id == bindparam("ballot_id"), Ballot.compound_id == bindparam("compound_id"))
    .order_by(BallotMatter.position)
)


def get_ballot_with_matters(
    session: Session, *, compound_id: int, ballot_id: int
) -> tuple[Ballot, list[BallotMatter]]:
    """The ballot and its matters in position order, in one round trip (the vote path's read)."""
    rows = session.execute(_BALLOT_WITH_MATTERS, {"ballot_id": ballot_id, "compound_id": compound_id}).all()
    if not rows or rows[0][0].deleted_at is not None:
        raise NotFound("表决不存在", code="ballot_not_found")
    return rows[0][0], [matter for _, matter in rows if matter is not None]


def list_matters(session: Session, *, ballot_id: int) -> list[BallotMatter]:
    return list(
        session.execute(
            select(BallotMatter).where(BallotMatter.ballot_id == ballot_id).order_by(BallotMatter.position)
        ).scalars()
    )


def matters_with_ballots(session: Session, *, matter_ids: Iterable[int]) -> dict[int, tuple[BallotMatter, Ballot]]:
    """Matters by id with their ballots, for other domains that cite a matter (ledger, procedures)."""
    ids = sorted(set(matter_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(BallotMatter, Ballot).join(Ballot, Ballot.id == BallotMatter.ballot_id)
        .where(BallotMatter.id.in_(ids))
    ).all()
    return {m.id or 0: (m, b) for m, b in rows}


def matter_passed(session: Session, *, ballot_id: int, matter_id: int) -> bool:
    """Whether the matter's stored result (written when the ballot closed) says it passed."""
    result = session.get(BallotResult, (ballot_id, matter_id))
    return result is not None and result.passed is True


def passed_matters(
    session: Session, *, compound_id: int, exclude_categories: Iterable[str] = ()
) -> list[tuple[BallotMatter, Ballot]]:
    """Matters passed in the compound's published whole-compound ballots, newest ballot first."""
    return [(m, b) for m, b in session.execute(
        select(BallotMatter, Ballot)
        .join(Ballot, Ballot.id == BallotMatter.ballot_id)
        .join(BallotResult, (BallotResult.matter_id == BallotMatter.id)
              & (BallotResult.ballot_id == Ballot.id))
        .where(Ballot.compound_id == compound_id, BallotMatter.compound_id == compound_id,
               Ballot.published_at.is_not(None), BallotResult.passed.is_(True),
               Ballot.scope_building_ids == "[]", Ballot.scope_entrances == "[]",
               BallotMatter.category.not_in(sorted(exclude_categories)))
        .order_by(Ballot.published_at.desc(), BallotMatter.position)
    ).all()]


def candidates_by_matter(session: Session, *, ballot_id: int) -> dict[int, list[BallotCandidate]]:
    out: dict[int, list[BallotCandidate]] = defaultdict(list)
    for c in session.execute(
        select(BallotCandidate)
        .join(BallotMatter, BallotMatter.id == BallotCandidate.matter_id)
        .where(BallotMatter.ballot_id == ballot_id)
        .order_by(BallotCandidate.matter_id, BallotCandidate.position)
    ).scalars():
        out[c.matter_id].append(c)
    return out


def _validate_matters(session: Session, compound_id: int, matters: list[MatterSpec]) -> None:
    if not matters:
        raise Invalid("表决至少要有一个事项", code="ballot_without_matters")
    building_ids = {b.id for b in roster_service.buildings(session, compound_id=compound_id)}
    for i, m in enumerate(matters, start=1):
        try:
            category = rules.Category(m.category)
        except ValueError as exc:
            raise Invalid(f"第{i}个事项的类别不正确", code="matter_category_invalid") from exc
        if not m.title.strip():
            raise Invalid(f"第{i}个事项缺少标题", code="matter_title_missing")
        if category == rules.Category.COMMITTEE_ELECTION:
            try:
                rules.validate_election_setup(m.seats or 0, [c.name for c in m.candidates])
            except rules.VotingRuleError as exc:
                raise Invalid(f"第{i}个事项：{exc}", code=exc.code) from exc
        elif m.candidates or m.seats:
            raise Invalid(f"第{i}个事项不是选举，不能设置候选人", code="matter_not_election")
        if category == rules.Category.ART279 and not (m.affected_building_ids or m.affected_entrances):
            raise Invalid(f"第{i}个事项须指定有利害关系的楼栋或单元", code="art279_scope_missing")
        if not set(m.affected_building_ids) <= building_ids or roster_service.scope_problems(
                session, compound_id=compound_id, scope=Scope.of((), m.affected_entrances)):
            raise Invalid(f"第{i}个事项的楼栋或单元不属于本小区", code="building_not_in_compound")


def _check_period(session: Session, compound_id: int, starts_at: datetime, ends_at: datetime) -> None:
    setting = get_settings(session, compound_id=compound_id)
    if ends_at <= starts_at:
        raise Invalid("投票结束时间须晚于开始时间", code="voting_period_invalid")
    days = (ends_at - starts_at) / timedelta(days=1)
    if days < setting.min_voting_days or days > setting.max_voting_days:
        raise Invalid(
            f"投票期须在{setting.min_voting_days}至{setting.max_voting_days}日之间（本小区议事规则）",
            code="voting_period_out_of_range",
        )


def ballot_scope(ballot: Ballot) -> Scope:
    """The buildings and entrances a ballot is put to (whole_compound when none)."""
    return Scope.from_json(ballot.scope_building_ids, ballot.scope_entrances)


def _set_scope(session: Session, ballot: Ballot, building_ids: Iterable[int],
               entrances: Iterable[Place]) -> None:
    scope = Scope.of(building_ids, entrances)
    unknown = roster_service.scope_problems(session, compound_id=ballot.compound_id, scope=scope)
    if unknown:
        raise Invalid(f"表决范围中的楼栋或单元不属于本小区：{'、'.join(unknown)}",
                      code="building_not_in_compound")
    ballot.scope_building_ids = json.dumps(sorted(scope.building_ids))
    ballot.scope_entrances = scope.entrances_json()


def scope_label(session: Session, *, ballot: Ballot) -> str:
    """The ballot's scope in words (全体业主, or 3号楼2单元、5号楼)."""
    return roster_service.scope_label(session, compound_id=ballot.compound_id, scope=ballot_scope(ballot))


def create_ballot(
    session: Session, *, compound_id: int, title: str, description: str, starts_at: datetime,
    ends_at: datetime, scope_building_ids: list[int], matters: list[MatterSpec], actor: Actor,
    scope_entrances: Iterable[Place] = (),
) -> Ballot:
    """Create a draft ballot with its matters (and candidates for elections)."""
    if not title.strip():
        raise Invalid("请填写表决标题", code="ballot_title_missing")
    _validate_matters(session, compound_id, matters)
    _check_period(session, compound_id, starts_at, ends_at)
    ballot = Ballot(
        compound_id=compound_id, title=title.strip(), description=description,
        starts_at=starts_at, ends_at=ends_at, created_by=actor.user_id,
    )
    _set_scope(session, ballot, scope_building_ids, scope_entrances)
    session.add(ballot)
    session.flush()
    _write_matters(session, ballot, matters)
    append_event(
        session, compound_id=compound_id, actor=actor, action="ballot.drafted",
        object_type="ballot", object_id=ballot.id or 0,
        payload={"title": ballot.title, "matters": [m.title for m in matters]},
    )
    return ballot


def _write_matters(session: Session, ballot: Ballot, matters: list[MatterSpec]) -> None:
    for pos, m in enumerate(matters, start=1):
        matter = BallotMatter(
            compound_id=ballot.compound_id, ballot_id=ballot.id or 0, position=pos,
            title=m.title.strip(), description=m.description, category=rules.Category(m.category).value,
            seats=m.seats, affected_building_ids=json.dumps(sorted(m.affected_building_ids)),
            affected_entrances=Scope.of(m.affected_building_ids, m.affected_entrances).entrances_json(),
            document_file_ids=json.dumps(list(m.document_file_ids)),
        )
        session.add(matter)
        session.flush()
        for cpos, c in enumerate(m.candidates, start=1):
            session.add(BallotCandidate(compound_id=ballot.compound_id, matter_id=matter.id or 0,
                                        position=cpos, name=c.name.strip(), intro=c.intro))
    session.flush()


def update_draft(
    session: Session, *, ballot: Ballot, title: str, description: str, starts_at: datetime,
    ends_at: datetime, scope_building_ids: list[int], matters: list[MatterSpec], actor: Actor,
    scope_entrances: Iterable[Place] = (),
) -> Ballot:
    """Replace a draft's content; once the notice is out, matters can no longer change."""
    if ballot.noticed_at is not None:
        raise Conflict("会议通知已公告，表决事项不能再修改（未经公告的事项不得表决）",
                       code="ballot_already_noticed")
    _validate_matters(session, ballot.compound_id, matters)
    _check_period(session, ballot.compound_id, starts_at, ends_at)
    old = list_matters(session, ballot_id=ballot.id or 0)
    for m in old:
        for c in session.execute(select(BallotCandidate).where(BallotCandidate.matter_id == m.id)).scalars():
            session.delete(c)
    session.flush()
    for m in old:
        session.delete(m)
    session.flush()
    ballot.title, ballot.description = title.strip(), description
    ballot.starts_at, ballot.ends_at = starts_at, ends_at
    _set_scope(session, ballot, scope_building_ids, scope_entrances)
    session.add(ballot)
    _write_matters(session, ballot, matters)
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="ballot.draft_updated",
        object_type="ballot", object_id=ballot.id or 0,
        payload={"title": ballot.title, "matters": [m.title for m in matters]},
    )
    return ballot


def refuse_withdrawn(ballot: Ballot) -> None:
    """A deleted draft or a cancelled ballot takes no further step."""
    if ballot.deleted_at is not None:
        raise NotFound("表决不存在", code="ballot_not_found")
    if ballot.cancelled_at is not None:
        raise Conflict("表决已取消，不能再进行任何操作", code="ballot_cancelled")


def earliest_start(published_at: datetime, notice_days: int) -> datetime:
    """Art. 201: the publication day is not counted; voting may start on day N after it (00:00)."""
    return calendar.start_of_day(calendar.local_day(published_at) + timedelta(days=notice_days))


def publish_notice(session: Session, *, ballot: Ballot, actor: Actor, extra_body: str = "") -> Ballot:
    """Publish the meeting notice listing every matter; the start must respect the notice period."""
    if ballot.noticed_at is not None:
        raise Conflict("会议通知已公告", code="ballot_already_noticed")
    refuse_withdrawn(ballot)
    _run_open_guards(session, ballot)
    setting = get_settings(session, compound_id=ballot.compound_id)
    current = now()
    first = earliest_start(current, setting.notice_days)
    if ballot.starts_at < first:
        raise Invalid(
            f"会议通知须在投票开始{setting.notice_days}日前公告（公告当日不计入）：今日公告，"
            f"投票最早可于{timefmt.format_moment(first)}开始，请调整开始时间",
            code="notice_period_too_short",
        )
    matters = list_matters(session, ballot_id=ballot.id or 0)
    cands = candidates_by_matter(session, ballot_id=ballot.id or 0)
    # Every matter's documents go with the notice as its attachments, so each owner in its audience
    # can open them from the notice, and the print names them under the matter they belong to.
    doc_ids = list(dict.fromkeys(i for m in matters for i in json.loads(m.document_file_ids)))
    doc_files = files_service.files_by_id(session, compound_id=ballot.compound_id, file_ids=doc_ids) \
        if doc_ids else {}
    attachment_no = {file_id: n for n, file_id in enumerate(doc_ids, start=1)}
    lines = [ballot.description.strip(), "", "表决事项："] if ballot.description.strip() else ["表决事项："]
    if not ballot_scope(ballot).whole_compound:
        # Art. 278 over a part of the compound: say whose ballot it is before the matters.
        lines.insert(0, f"表决范围：{scope_label(session, ballot=ballot)}的业主（表决权数按本范围计算）")
        lines.insert(1, "")
    structured_matters = []
    for m in matters:
        category = rules.Category(m.category)
        lines.append(f"{m.position}. {m.title}（{category.label}）")
        lines += [f"   {line}" for line in m.description.strip().splitlines() if line.strip()]
        entry: dict[str, Any] = {"position": m.position, "title": m.title, "category": category.value,
                                 "category_label": category.label, "description": m.description}
        if m.seats:
            names = "、".join(c.name + (f"（{c.intro}）" if c.intro else "") for c in cands[m.id or 0])
            lines.append(f"   应选{m.seats}名，候选人：{names}")
            entry["seats"] = m.seats
            entry["candidates"] = [c.name for c in cands[m.id or 0]]
        docs = [(i, doc_files[i].file_name) for i in json.loads(m.document_file_ids) if i in doc_files]
        if docs:
            lines.append("   相关文件：" + "、".join(f"《{name}》（附件{attachment_no[i]}）" for i, name in docs))
        entry["documents"] = [{"file_id": i, "file_name": name} for i, name in docs]
        structured_matters.append(entry)
    lines += ["", f"投票时间：{timefmt.format_period(ballot.starts_at, ballot.ends_at)}",
              "投票方式：业主可通过手机在线投票，也可提交书面表决票或书面委托他人投票。"]
    # The rules that decide this ballot are fixed now and printed with the notice: a later change
    # of the compound's settings applies only to ballots noticed after it.
    frozen = BallotRules.of_setting(setting)
    rule_rows = frozen.notice_rows([rules.Category(m.category) for m in matters])
    lines += ["", "表决规则（以本公告为准，公告后修改议事规则不影响本次表决）："]
    lines += [f"{name}：{value}" for name, value in rule_rows]
    if extra_body.strip():
        lines += ["", extra_body.strip()]
    scope = ballot_scope(ballot)
    notice = notices_service.publish_notice(
        session, compound_id=ballot.compound_id, kind="meeting",
        title=f"关于{ballot.title}的表决公告", body="\n".join(lines),
        audience_building_ids=None if scope.whole_compound else sorted(scope.building_ids),
        audience_entrances=sorted(scope.entrances), display_days=max(setting.notice_days, 15),
        attachments=doc_ids, source_type="ballot", source_id=str(ballot.id),
        structured={
            "sections": [{"type": "table", "heading": "表决事项",
                          "columns": ["序号", "事项", "类别", "相关文件"],
                          "rows": [[str(m["position"]), m["title"], m["category_label"],
                                    "、".join(f"附件{attachment_no[d['file_id']]}" for d in m["documents"])
                                    or "无"]
                                   for m in structured_matters]},
                         {"type": "table", "heading": "表决规则", "columns": ["规则", "本次表决适用"],
                          "rows": rule_rows}],
            "data": {"ballot_id": ballot.id, "matters": structured_matters,
                     "starts_at": ballot.starts_at, "ends_at": ballot.ends_at,
                     "rules": json.loads(frozen.to_json())},
        },
        actor=actor,
    )
    ballot.notice_id = notice.id
    ballot.noticed_at = current
    ballot.settings_json = frozen.to_json()
    session.add(ballot)
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="ballot.noticed",
        object_type="ballot", object_id=ballot.id or 0,
        payload={"notice_id": notice.id, "starts_at": ballot.starts_at, "ends_at": ballot.ends_at,
                 "settings": json.loads(ballot.settings_json)},
    )
    return ballot


def open_ballot(session: Session, *, ballot: Ballot, actor: Actor, by_schedule: bool = False) -> Ballot:
    """Open voting: check the notice period again and freeze the roster of the scope.

    `by_schedule`: the scheduler opens it at its start (app/voting/schedule.py); the audit
    sentence says so."""
    current = now()
    if ballot.opened_at is not None:
        raise Conflict("表决已开始", code="ballot_already_open")
    refuse_withdrawn(ballot)
    if ballot.noticed_at is None or ballot.notice_id is None:
        raise Conflict("会议通知尚未公告，不能开始投票", code="ballot_not_noticed")
    _run_open_guards(session, ballot)
    # Ballots noticed before the rules were frozen at notice get them now, as they used to.
    if not ballot.settings_json:
        ballot.settings_json = frozen_settings_json(get_settings(session, compound_id=ballot.compound_id))
    setting = ballot_rules(session, ballot=ballot)
    notice = notices_service.get_notice(session, compound_id=ballot.compound_id, notice_id=ballot.notice_id)
    assert notice.published_at is not None
    # After a postponement the notice period runs from the postponement notice (app/voting/lifecycle.py).
    first = earliest_start(max(notice.published_at, ballot.postponed_at or notice.published_at),
                           setting.notice_days)
    if current < ballot.starts_at or current < first:
        raise Conflict(
            f"投票开始时间未到：最早于{timefmt.format_moment(max(ballot.starts_at, first))}开始",
            code="ballot_not_started",
        )
    if current >= ballot.ends_at:
        raise Conflict("投票期已过，不能再开始投票", code="ballot_period_over")
    area, headcount = freeze_roster(session, ballot=ballot)
    if headcount == 0:
        raise Invalid("表决范围内没有业主，不能开始投票", code="ballot_scope_empty")
    ballot.opened_at = current
    ballot.total_area_hundredths = area
    ballot.total_headcount = headcount
    session.add(ballot)
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="ballot.opened",
        object_type="ballot", object_id=ballot.id or 0,
        payload={"total_area_hundredths": area, "total_headcount": headcount,
                 "settings": json.loads(ballot.settings_json),
                 **({"trigger": "schedule"} if by_schedule else {})},
    )
    ballot.schedule_problem = ballot.schedule_problem_at = None
    announce.announce_opened(session, ballot=ballot)
    return ballot


def freeze_roster(session: Session, *, ballot: Ballot) -> tuple[int, int]:
    """Copy the subjects in scope, their in-scope area and their voters into the ballot."""
    compound_id = ballot.compound_id
    snapshot = roster_service.scope_snapshot(session, compound_id=compound_id, scope=ballot_scope(ballot))
    subjects = [
        {"ballot_id": ballot.id, "subject_id": s.subject_id, "compound_id": compound_id,
         "area_hundredths": s.area_hundredths, "label": s.label[:300],
         "building_ids": json.dumps(sorted(s.building_ids)), "is_developer": s.is_developer,
         "places": json.dumps(sorted(s.places), ensure_ascii=False)}
        for s in snapshot.subjects
    ]
    if subjects:
        session.execute(BallotSubject.__table__.insert(), subjects)
    voters = [
        {"compound_id": compound_id, "ballot_id": ballot.id, "subject_id": v.subject_id,
         "owner_id": v.owner_id, "phone": v.phone, "is_representative": v.is_representative}
        for v in snapshot.voters
    ]
    if voters:
        session.execute(BallotVoter.__table__.insert(), voters)
    session.flush()
    return snapshot.total_area_hundredths, len(subjects)


def list_ballots(session: Session, *, compound_id: int, include_drafts: bool,
                 places: set[Place] | None = None) -> list[Ballot]:
    """Ballots of a compound; with `places` ((building, entrance) pairs), only those whose scope
    covers one of them."""
    stmt = (select(Ballot).where(Ballot.compound_id == compound_id, Ballot.deleted_at.is_(None))
            .order_by(Ballot.id.desc()))
    if not include_drafts:
        stmt = stmt.where(Ballot.noticed_at.is_not(None))
    ballots = list(session.execute(stmt).scalars())
    if places is None:
        return ballots
    return [b for b in ballots if ballot_scope(b).covers_any(places)]


def subject_count(session: Session, *, ballot_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(BallotSubject).where(BallotSubject.ballot_id == ballot_id)
    ).scalar_one()
