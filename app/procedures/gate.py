"""The review gate: a ballot with a major matter cannot be noticed or opened before the matter's
item passed review. app.main.install_domain_hooks registers it with the voting service."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.procedures import majors
from app.procedures.agenda import ProcedureError, current_step
from app.procedures.models import (
    AgendaItem,
    ItemStatus,
    ProcedureSetting,
)
from app.voting import service as voting_service


def ballot_gate(session: Session, ballot: voting_service.Ballot) -> None:
    """Refuse to notice or open a ballot with a major matter whose item has not passed review."""
    setting = session.get(ProcedureSetting, ballot.compound_id)
    if setting is None or setting.template_key is None:
        return
    kinds = majors.effective_list(json.loads(setting.extra_major_json))
    items = {
        i.matter_id: i for i in session.execute(
            select(AgendaItem).where(AgendaItem.compound_id == ballot.compound_id,
                                     AgendaItem.ballot_id == ballot.id,
                                     AgendaItem.status != ItemStatus.REJECTED)
        ).scalars()
    }
    problems = []
    for m in voting_service.list_matters(session, ballot_id=ballot.id or 0):
        item = items.get(m.id)
        if item is not None:
            if item.gate_passed_at is None:
                problems.append(f"第{m.position}项“{m.title}”关联的议题尚未审核同意")
            continue
        kind = majors.match(kinds, category=m.category, text=f"{m.title} {m.description}")
        if kind is not None:
            problems.append(f"第{m.position}项“{m.title}”属于重大事项（{kind.label}），"
                            "须先经本小区议事程序审核同意并关联议题")
    if problems:
        raise ProcedureError("未经审核同意的重大事项不得提交业主：" + "；".join(problems) + "。",
                             code="procedure_review_required")


ITEM_STATES = {"approved": "已审核同意", "pending": "待审核", "returned": "已退回修改",
               "rejected": "未获同意（程序终止）", "unlinked": "尚未关联议题"}


def ballot_review(session: Session, ballot: voting_service.Ballot) -> list[dict[str, Any]]:
    """The ballot's matters that need the procedure's review, and where each stands: the linked
    item (its current step and status) or, for a major matter without one, that it needs one."""
    setting = session.get(ProcedureSetting, ballot.compound_id)
    if setting is None or setting.template_key is None:
        return []
    kinds = majors.effective_list(json.loads(setting.extra_major_json))
    items: dict[int | None, AgendaItem] = {}
    for i in session.execute(select(AgendaItem).where(AgendaItem.compound_id == ballot.compound_id,
                                                      AgendaItem.ballot_id == ballot.id)
                             .order_by(AgendaItem.id)).scalars():
        if i.matter_id not in items or items[i.matter_id].status == ItemStatus.REJECTED:
            items[i.matter_id] = i
    rows = []
    for m in voting_service.list_matters(session, ballot_id=ballot.id or 0):
        item = items.get(m.id)
        kind = majors.match(kinds, category=m.category, text=f"{m.title} {m.description}")
        if item is None and kind is None:
            continue
        row: dict[str, Any] = {"matter_id": m.id, "position": m.position, "matter_title": m.title,
                               "major_label": kind.label if kind else "", "item_id": None,
                               "item_title": "", "step_name": "", "item_status_label": ""}
        if item is None:
            state = "unlinked"
        else:
            step = current_step(item)
            if item.status == ItemStatus.REJECTED:
                state = "rejected"
            elif item.status == ItemStatus.RETURNED:
                state = "returned"
            elif item.gate_passed_at is not None:
                state = "approved"
            else:
                state = "pending"
            row.update(item_id=item.id, item_title=item.title, step_name=step["name"] if step else "",
                       item_status_label=ITEM_STATUS_LABELS.get(item.status, item.status))
        row.update(state=state, state_label=ITEM_STATES[state], ready=state == "approved")
        rows.append(row)
    return rows


ITEM_STATUS_LABELS = {ItemStatus.IN_PROGRESS: "办理中", ItemStatus.RETURNED: "已退回修改",
                      ItemStatus.REJECTED: "未获同意（程序终止）", ItemStatus.CLOSED: "已办结"}
