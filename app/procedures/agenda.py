"""Agenda items and their steps: lookup, the current step and its deadline, who may act, and the
recording of a step (every change appends an audit event about the item in the caller's
transaction; services flush, never commit)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app import calendar
from app.audit.service import Actor, append_event
from app.auth import service as auth_service
from app.auth.models import ROLE_LABELS, Role
from app.clock import now
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.files import service as files_service
from app.procedures.models import (
    AgendaItem,
    AgendaObserver,
    AgendaStepRecord,
    ItemStatus,
)

OBJECT = "agenda_item"
OPEN_STATUSES = (ItemStatus.IN_PROGRESS, ItemStatus.RETURNED)
DISCLAIMER = ("说明：具有约束力的决定始终是业主大会的表决（《民法典》第二百七十八条、第二百八十条）；"
              "党组织审核是本小区在议事规则中采用的程序关口，未经审核同意的重大事项不提交业主表决。")


class ProcedureError(DomainError):
    code = "procedure_error"
    status = 409


class ItemNotFound(NotFound):
    code = "agenda_item_not_found"


@dataclass(frozen=True)
class Caller:
    """Who acts: the account and every role it holds in the compound."""

    user_id: int
    roles: frozenset[Role]

    @classmethod
    def of(cls, user_id: int, roles: Collection[Role]) -> Caller:
        return cls(user_id=user_id, roles=frozenset(roles))





def steps_of(item: AgendaItem) -> list[dict[str, Any]]:
    return list(json.loads(item.steps_json))


def organization_of(session: Session, *, compound_id: int, user_id: int | None, role: str,
                    item_id: int | None = None) -> str:
    """The organization a person acts for: from their grant (or item appointment)."""
    if user_id is None:
        return ""
    if role == Role.PLATFORM_ADMIN.value:
        return "平台管理员（街道）"
    org = auth_service.grant_organization(session, compound_id=compound_id, user_id=user_id, role=Role(role))
    if org is None and role == Role.OBSERVER.value and item_id is not None:
        appointment = active_item_observer(session, compound_id=compound_id, item_id=item_id, user_id=user_id)
        org = appointment.organization if appointment else ""
    return org or ""


def acting_role(step: dict[str, Any], caller: Caller, allowed: Iterable[str] | None = None) -> Role:
    for r in allowed if allowed is not None else step["roles"]:
        if r in step["roles"] and Role(r) in caller.roles:
            return Role(r)
    labels = "、".join(ROLE_LABELS[Role(r)] for r in step["roles"])
    raise Forbidden(f"“{step['name']}”须由{labels}办理", code="procedure_step_role")


def check_files(session: Session, compound_id: int, file_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(f) for f in file_ids))
    for fid in ids:
        files_service.get_file(session, compound_id=compound_id, file_id=fid)
    return ids


def audit_item(session: Session, item: AgendaItem, actor: Actor, action: str,
           payload: dict[str, Any]) -> tuple[int, str]:
    event = append_event(session, compound_id=item.compound_id, actor=actor, action=action,
                         object_type=OBJECT, object_id=item.id or 0, payload=payload)
    return event.seq, event.hash


def record_step(
    session: Session, item: AgendaItem, *, index: int, action: str, actor: Actor, opinion: str = "",
    data: dict[str, Any] | None = None, file_ids: list[int] | None = None,
    audit_action: str = "procedure.step_recorded",
) -> AgendaStepRecord:
    step = steps_of(item)[index]
    org = organization_of(session, compound_id=item.compound_id, user_id=actor.user_id,
                          role=actor.role, item_id=item.id)
    rec = AgendaStepRecord(
        compound_id=item.compound_id, item_id=item.id or 0, step_index=index, step_key=step["key"],
        step_name=step["name"], action=action, opinion=opinion,
        data_json=json.dumps(data or {}, ensure_ascii=False, default=str),
        file_ids=json.dumps(file_ids or []), version=item.current_version,
        actor_user_id=actor.user_id, actor_role=actor.role, actor_org=org, at=now(),
    )
    session.add(rec)
    session.flush()
    rec.audit_seq, rec.audit_hash = audit_item(session, item, actor, audit_action, {
        "step_index": index, "step_key": step["key"], "step_name": step["name"], "action": action,
        "opinion": opinion, "data": data or {}, "file_ids": file_ids or [],
        "version": item.current_version, "organization": org, "record_id": rec.id,
    })
    session.add(rec)
    return rec


def advance(session: Session, item: AgendaItem, *, after: int, actor: Actor) -> None:
    """Move to the step after `after`, skipping post-vote steps of a failed resolution."""
    steps = steps_of(item)
    nxt = after + 1
    while nxt < len(steps) and steps[nxt].get("only_if_passed") and item.resolution_passed is False:
        record_step(session, item, index=nxt, action="skip", actor=actor,
                opinion="业主大会表决未通过，本步骤不适用", audit_action="procedure.step_skipped")
        nxt += 1
    item.current_step = nxt
    item.step_started_at = now()
    if nxt >= len(steps):
        item.status = ItemStatus.CLOSED
        item.closed_at = now()
        audit_item(session, item, actor, "procedure.item_closed",
               {"resolution_passed": item.resolution_passed})
    session.add(item)


def get_item(session: Session, *, compound_id: int, item_id: int, lock: bool = False) -> AgendaItem:
    stmt = select(AgendaItem).where(AgendaItem.id == item_id, AgendaItem.compound_id == compound_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    item = session.execute(stmt).scalar_one_or_none()
    if item is None:
        raise ItemNotFound("议题不存在")
    return item


def current_step(item: AgendaItem) -> dict[str, Any] | None:
    steps = steps_of(item)
    if item.status == ItemStatus.RETURNED:
        return steps[0]
    if item.status != ItemStatus.IN_PROGRESS or item.current_step >= len(steps):
        return None
    return steps[item.current_step]


def current_index(item: AgendaItem) -> int | None:
    if item.status == ItemStatus.RETURNED:
        return 0
    if item.status != ItemStatus.IN_PROGRESS:
        return None
    return item.current_step


def due_at(item: AgendaItem) -> datetime | None:
    """The current step's deadline: the end of the N-th day after it started (that day not
    counted; a last day on a statutory holiday moves to the next working day)."""
    step = current_step(item)
    if step is None or not step.get("deadline_days"):
        return None
    return calendar.period_end(item.step_started_at, int(step["deadline_days"]))


def is_overdue(item: AgendaItem, at: datetime | None = None) -> bool:
    due = due_at(item)
    return due is not None and (at or now()) >= due


def expect_step(item: AgendaItem, step_key: str | None, kinds: Collection[str]) -> tuple[int, dict[str, Any]]:
    if item.status == ItemStatus.REJECTED:
        raise ProcedureError("议题已被否决，程序终止", code="agenda_item_rejected")
    if item.status == ItemStatus.CLOSED:
        raise ProcedureError("议题已办结", code="agenda_item_closed")
    if item.status == ItemStatus.RETURNED:
        raise ProcedureError("议题已退回修改，须由提议方修改后重新提交", code="agenda_item_returned")
    index = item.current_step
    step = steps_of(item)[index]
    if step_key is not None and step["key"] != step_key:
        raise Conflict(f"议题当前处于“{step['name']}”步骤，请刷新后再操作", code="procedure_step_moved")
    if step["kind"] not in kinds:
        raise ProcedureError(f"当前步骤“{step['name']}”不能进行此项操作", code="procedure_wrong_step")
    return index, step



def active_item_observer(session: Session, *, compound_id: int, item_id: int, user_id: int) -> AgendaObserver | None:
    return session.execute(
        select(AgendaObserver).where(
            AgendaObserver.compound_id == compound_id, AgendaObserver.item_id == item_id,
            AgendaObserver.user_id == user_id, AgendaObserver.revoked_at.is_(None),
        )
    ).scalars().first()



def waiting_roles(item: AgendaItem) -> list[str]:
    step = current_step(item)
    return list(step["roles"]) if step else []
