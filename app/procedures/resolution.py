"""The resolution step: linking an item to the ballot matter that puts it to the owners, and
recording the owners' result (voting is read through its service functions only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app import timefmt
from app.audit.service import Actor
from app.clock import now
from app.errors import NotFound
from app.procedures.adoption import get_setting
from app.procedures.agenda import (
    Caller,
    ProcedureError,
    acting_role,
    advance,
    expect_step,
    record_step,
)
from app.procedures.models import (
    AgendaItem,
    ItemStatus,
    ProcedureSetting,
)
from app.voting import results as voting_results
from app.voting import rules as voting_rules
from app.voting import service as voting_service


def _linked_elsewhere(session: Session, item: AgendaItem, matter_id: int) -> AgendaItem | None:
    return session.execute(
        select(AgendaItem).where(
            AgendaItem.compound_id == item.compound_id, AgendaItem.matter_id == matter_id,
            AgendaItem.id != item.id, AgendaItem.status != ItemStatus.REJECTED,
        )
    ).scalars().first()


LINK_PROBLEM_SHORT = {
    "ballot_link_locked": "已关联的表决已公告", "ballot_matter_taken": "已关联其他议题",
    "ballot_matter_category_mismatch": "表决类别与议题不一致",
    "ballot_noticed_before_approval": "在本议题审核同意前已公告",
    "ballot_cancelled": "表决已取消",
}


def _link_problem(session: Session, item: AgendaItem, ballot: voting_service.Ballot, matter: voting_service.BallotMatter,
                  setting: ProcedureSetting) -> tuple[str, str] | None:
    """Why this ballot matter cannot resolve the item (code, message), or None."""
    if item.ballot_id is not None and item.ballot_id != ballot.id:
        old = voting_service.get_ballot(session, compound_id=item.compound_id, ballot_id=item.ballot_id)
        if old.noticed_at is not None and old.cancelled_at is None:  # a cancelled one may be replaced
            return "ballot_link_locked", "已关联的表决已经公告，不能更换"
    if ballot.cancelled_at is not None:
        return "ballot_cancelled", "该表决已取消，不能作为本议题的决议"
    other = _linked_elsewhere(session, item, matter.id or 0)
    if other is not None:
        return "ballot_matter_taken", f"该表决事项已关联议题“{other.title}”"
    if item.category and matter.category != item.category:
        return ("ballot_matter_category_mismatch",
                f"表决事项的类别（{voting_rules.Category(matter.category).label}）与议题登记的类别"
                f"（{voting_rules.Category(item.category).label}）不一致")
    noticed_unreviewed = ballot.noticed_at is not None and (
        item.gate_passed_at is None or ballot.noticed_at <= item.gate_passed_at)
    if noticed_unreviewed and not _noticed_before_adoption(ballot, setting):
        return "ballot_noticed_before_approval", "该表决在本议题审核同意之前已经公告，不能作为本议题的决议"
    return None


def _noticed_before_adoption(ballot: voting_service.Ballot, setting: ProcedureSetting) -> bool:
    # A ballot noticed before the compound adopted its procedure was not subject to the gate.
    return ballot.noticed_at is not None and (setting.adopted_at is None or ballot.noticed_at < setting.adopted_at)


def link_ballot(session: Session, *, item: AgendaItem, ballot_id: int, matter_id: int,
                caller: Caller) -> AgendaItem:
    """Link the item to the ballot matter that puts it to the owners."""
    index, step = expect_step(item, None, ("ballot",))
    role = acting_role(step, caller)
    ballot = voting_service.get_ballot(session, compound_id=item.compound_id, ballot_id=ballot_id)
    if ballot.deleted_at is not None:
        raise NotFound("表决不存在", code="ballot_not_found")
    found = voting_service.matters_with_ballots(session, matter_ids=[matter_id]).get(matter_id)
    matter = found[0] if found else None
    if matter is None or matter.ballot_id != ballot.id:
        raise NotFound("表决事项不存在", code="ballot_matter_not_found")
    setting = get_setting(session, compound_id=item.compound_id)
    problem = _link_problem(session, item, ballot, matter, setting)
    if problem is not None:
        raise ProcedureError(problem[1], code=problem[0])
    before_adoption = _noticed_before_adoption(ballot, setting)
    actor = Actor(user_id=caller.user_id, role=role.value)
    item.ballot_id, item.matter_id, item.linked_at = ballot.id, matter.id, now()
    item.linked_before_adoption = before_adoption
    session.add(item)
    record_step(session, item, index=index, action="link", actor=actor, data={
        "ballot_id": ballot.id, "ballot_title": ballot.title, "matter_id": matter.id,
        "matter_title": matter.title, "category": matter.category,
        "noticed_before_adoption": before_adoption,
    }, audit_action="procedure.ballot_linked")
    return item


def linkable_ballots(session: Session, *, item: AgendaItem) -> list[dict[str, Any]]:
    """The compound's ballots with their matters, each marked whether it can resolve this item."""
    setting = get_setting(session, compound_id=item.compound_id)
    out = []
    for ballot in voting_service.list_ballots(session, compound_id=item.compound_id, include_drafts=True):
        status = voting_service.status_of(ballot)
        matters = []
        for m in voting_service.list_matters(session, ballot_id=ballot.id or 0):
            problem = _link_problem(session, item, ballot, m, setting)
            matters.append({"id": m.id, "position": m.position, "title": m.title, "category": m.category,
                            "category_label": voting_rules.Category(m.category).label,
                            "linked": item.matter_id == m.id, "linkable": problem is None,
                            "reason": problem[1] if problem else "",
                            "reason_short": LINK_PROBLEM_SHORT.get(problem[0], "") if problem else ""})
        out.append({"id": ballot.id, "title": ballot.title, "status": status,
                    "status_label": voting_service.STATUS_LABELS[status],
                    "noticed_before_adoption": _noticed_before_adoption(ballot, setting),
                    "matters": matters})
    return out


def linked_matter(
    session: Session, item: AgendaItem
) -> tuple[voting_service.Ballot, voting_service.BallotMatter] | None:
    if item.ballot_id is None or item.matter_id is None:
        return None
    found = voting_service.matters_with_ballots(session, matter_ids=[item.matter_id]).get(item.matter_id)
    if found is None or found[1].id != item.ballot_id:
        return None
    matter, ballot = found
    return ballot, matter


def record_resolution(session: Session, *, item: AgendaItem, caller: Caller) -> AgendaItem:
    """Complete the resolution step from the linked ballot's published result."""
    index, step = expect_step(item, None, ("ballot",))
    role = acting_role(step, caller)
    linked = linked_matter(session, item)
    if linked is None:
        raise ProcedureError("请先关联本议题的表决事项（表决草稿修改后须重新关联）", code="ballot_not_linked")
    ballot, matter = linked
    if ballot.published_at is None:
        raise ProcedureError("表决结果公告（决议公告）后才能记录决议", code="ballot_not_published")
    summary = next((m for m in voting_results.results_summary(session, ballot=ballot)
                    if m["matter_id"] == matter.id), None)
    if summary is None:
        raise ProcedureError("未找到该事项的表决结果", code="ballot_result_missing")
    passed = summary["passed"]
    item.resolution_passed = bool(passed) if passed is not None else None
    item.resolved_at = now()
    actor = Actor(user_id=caller.user_id, role=role.value)
    record_step(session, item, index=index, action="resolve", actor=actor, data={
        "ballot_id": ballot.id, "matter_id": matter.id, "passed": passed,
        "explanation": summary["result"].get("explanation", ""),
        "result_notice_id": ballot.result_notice_id,
    }, audit_action="procedure.resolution_recorded")
    advance(session, item, after=index, actor=actor)
    return item


def resolution_line(session: Session, item: AgendaItem) -> str:
    linked = linked_matter(session, item)
    if linked is None or item.resolved_at is None:
        return ""
    ballot, matter = linked
    verdict = {True: "通过", False: "未通过", None: "已完成（意见征集）"}[item.resolution_passed]
    return (f"业主大会表决结果：{ballot.title}（投票于{timefmt.format_moment(ballot.ends_at, end=True)}"
            f"结束）第{matter.position}项“{matter.title}”——{verdict}。")
