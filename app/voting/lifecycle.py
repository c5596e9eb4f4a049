"""Withdrawing and moving ballots: delete a draft, cancel or postpone a noticed or open ballot.

- A draft was never noticed: deleting it marks it deleted (the row stays, hidden from every list
  and route), so the audit events that drafted and edited it still name a ballot that exists.
- Cancelling publishes a notice stating the reason. Votes already cast stay in the record (every
  cast, its receipt and its audit event) and are never counted: a cancelled ballot is never
  closed, tallied or published, and leaves every owner's list of upcoming and open ballots.
- Postponing moves the voting period later by a notice stating the reason and the new period.
  The notice period (DOMAIN §3, 物业管理条例 Art. 14, Civil Code Art. 201) runs again from the
  postponement notice: the new start is at least the ballot's notice days after it (its day not
  counted), so every owner learns of the new period as long before it as of the original one.
  The matters are unchanged (they were all in the meeting notice), so an open ballot keeps the
  roster frozen at opening and the votes already cast: "an owner may change the vote until the
  end; the last vote counts" — owners keep their choice and may change it once voting resumes at
  the new start; no vote is cast between the postponement and the new start. A committee that
  wants the votes cast so far set aside cancels the ballot instead and drafts a new one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from app import timefmt
from app.audit.service import Actor, append_event
from app.clock import now
from app.errors import Conflict, Invalid
from app.notices import service as notices_service
from app.voting.models import Ballot, BallotSubject
from app.voting.service import earliest_start, refuse_withdrawn
from app.voting.settings import ballot_rules


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise Invalid("请填写理由", code="reason_missing")
    return text


def delete_draft(session: Session, *, ballot: Ballot, actor: Actor) -> Ballot:
    """Delete a draft (never noticed): marked deleted, hidden everywhere, audited."""
    refuse_withdrawn(ballot)
    if ballot.noticed_at is not None:
        raise Conflict("会议通知已公告，不能删除；如需撤回，请取消表决并说明理由",
                       code="ballot_already_noticed")
    ballot.deleted_at = now()
    session.add(ballot)
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="ballot.draft_deleted",
                 object_type="ballot", object_id=ballot.id or 0, payload={"title": ballot.title})
    session.flush()
    return ballot


def _refuse_unless_running(ballot: Ballot, verb: str) -> None:
    refuse_withdrawn(ballot)
    if ballot.noticed_at is None:
        raise Conflict(f"草稿尚未公告，不能{verb}：可直接修改或删除草稿", code="ballot_not_noticed")
    if ballot.closed_at is not None:
        raise Conflict(f"表决已关闭计票，不能{verb}", code="ballot_already_closed")
    if ballot.opened_at is not None and now() >= ballot.ends_at:
        raise Conflict(f"投票期已结束，不能{verb}：请关闭表决并计票", code="ballot_period_over")


def _votes_cast(session: Session, ballot: Ballot) -> int:
    return session.execute(
        select(func.count()).select_from(BallotSubject)
        .where(BallotSubject.ballot_id == ballot.id, BallotSubject.effective_cast_id.is_not(None))
    ).scalar_one()


def _scope(ballot: Ballot) -> list[int] | None:
    return json.loads(ballot.scope_building_ids) or None


def cancel_ballot(session: Session, *, ballot: Ballot, reason: str, actor: Actor) -> Ballot:
    """Cancel a noticed or open ballot with a published notice; votes kept, never counted."""
    text = _reason(reason)
    _refuse_unless_running(ballot, "取消")
    current = now()
    voted = _votes_cast(session, ballot) if ballot.opened_at is not None else 0
    lines = [f"业主委员会决定取消“{ballot.title}”的表决。", "", f"取消理由：{text}", "",
             f"原定投票时间：{timefmt.format_period(ballot.starts_at, ballot.ends_at)}"]
    if ballot.opened_at is not None:
        lines += ["", f"取消前已有{voted}户投票。已投的票保留在表决记录中，不计票，不形成任何决定。"]
    notice = notices_service.publish_notice(
        session, compound_id=ballot.compound_id, kind="meeting",
        title=f"关于取消{ballot.title}的公告", body="\n".join(lines),
        audience_building_ids=_scope(ballot), display_days=15,
        source_type="ballot", source_id=str(ballot.id),
        structured={"sections": [], "data": {"ballot_id": ballot.id, "cancelled": True, "reason": text}},
        actor=actor,
    )
    ballot.cancelled_at = current
    ballot.cancel_reason = text
    ballot.cancel_notice_id = notice.id
    ballot.schedule_problem = None
    ballot.schedule_problem_at = None
    session.add(ballot)
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="ballot.cancelled",
                 object_type="ballot", object_id=ballot.id or 0,
                 payload={"reason": text, "notice_id": notice.id, "votes_kept": voted})
    session.flush()
    return ballot


def postpone_ballot(session: Session, *, ballot: Ballot, reason: str, starts_at: datetime,
                    ends_at: datetime, actor: Actor) -> Ballot:
    """Move a noticed or open ballot's voting period later, by a notice stating the reason."""
    text = _reason(reason)
    _refuse_unless_running(ballot, "推迟")
    rules = ballot_rules(session, ballot=ballot)
    current = now()
    if starts_at < ballot.starts_at or ends_at < ballot.ends_at or (
            starts_at == ballot.starts_at and ends_at == ballot.ends_at):
        raise Invalid("推迟后的投票开始和结束时间都不得早于原定时间，且至少有一项推后",
                      code="postpone_not_later")
    if ends_at <= starts_at:
        raise Invalid("投票结束时间须晚于开始时间", code="voting_period_invalid")
    days = (ends_at - starts_at) / timedelta(days=1)
    if days < rules.min_voting_days or days > rules.max_voting_days:
        raise Invalid(f"投票期须在{rules.min_voting_days}至{rules.max_voting_days}日之间（本次表决公告的规则）",
                      code="voting_period_out_of_range")
    first = earliest_start(current, rules.notice_days)
    if starts_at < first:
        raise Invalid(
            f"推迟公告须在新的投票开始{rules.notice_days}日前发布（公告当日不计入）：今日公告，"
            f"投票最早可于{timefmt.format_moment(first)}开始",
            code="notice_period_too_short",
        )
    was_open = ballot.opened_at is not None
    voted = _votes_cast(session, ballot) if was_open else 0
    old_start, old_end = ballot.starts_at, ballot.ends_at
    lines = [f"业主委员会决定推迟“{ballot.title}”的表决。", "", f"推迟理由：{text}", "",
             f"原定投票时间：{timefmt.format_period(old_start, old_end)}",
             f"调整后投票时间：{timefmt.format_period(starts_at, ends_at)}", "",
             "表决事项与表决规则不变，以原会议通知为准。"]
    if was_open:
        lines += [f"已投票的{voted}户，所投的票继续有效；在新的投票期内可以修改，以最后一次提交为准。"
                  "推迟期间暂停投票。"]
    notice = notices_service.publish_notice(
        session, compound_id=ballot.compound_id, kind="meeting",
        title=f"关于推迟{ballot.title}的公告", body="\n".join(lines),
        audience_building_ids=_scope(ballot), display_days=max(rules.notice_days, 15),
        source_type="ballot", source_id=str(ballot.id),
        structured={"sections": [], "data": {"ballot_id": ballot.id, "postponed": True, "reason": text,
                                             "starts_at": starts_at, "ends_at": ends_at}},
        actor=actor,
    )
    ballot.starts_at, ballot.ends_at = starts_at, ends_at
    ballot.postponed_at = current
    ballot.postpone_reason = text
    ballot.postpone_notice_id = notice.id
    ballot.schedule_problem = None
    ballot.schedule_problem_at = None
    session.add(ballot)
    append_event(session, compound_id=ballot.compound_id, actor=actor, action="ballot.postponed",
                 object_type="ballot", object_id=ballot.id or 0,
                 payload={"reason": text, "notice_id": notice.id, "starts_at": starts_at, "ends_at": ends_at,
                          "previous_starts_at": old_start, "previous_ends_at": old_end,
                          "votes_kept": voted})
    session.flush()
    return ballot
