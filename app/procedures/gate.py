"""The review gate: a ballot with a major matter cannot be noticed or opened before the matter's
item passed review. app.main.install_domain_hooks registers it with the voting service."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session

from app.procedures import majors
from app.procedures.agenda import ProcedureError
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
