"""Procedure rules: adoption of a template, agenda items and their steps, the ballot gate,
observers and observations, and the reviewer's queue.

Every change appends an audit event (object "agenda_item", or "procedure_setting") in the
caller's transaction. Services flush, never commit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from app import calendar
from app.audit.models import AuditEvent
from app.audit.service import Actor, append_event
from app.auth import service as auth_service
from app.auth.models import ROLE_LABELS, Role, RoleGrant, UserAccount
from app.clock import now
from app.errors import Conflict, DomainError, Forbidden, NotFound, field_message
from app.files import service as files_service
from app.notices import service as notices_service
from app.procedures import majors
from app.procedures import templates as tpl
from app.procedures.models import (
    AgendaItem,
    AgendaObservation,
    AgendaObserver,
    AgendaStepRecord,
    AgendaVersion,
    ItemStatus,
    ProcedureSetting,
    ProcedureTemplate,
)
from app.voting import results as voting_results
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting.models import Ballot, BallotMatter

OBJECT = "agenda_item"
CUSTOM_PREFIX = "custom-"
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


# --- settings and templates -------------------------------------------------------------------


def get_setting(session: Session, *, compound_id: int) -> ProcedureSetting:
    """The compound's setting (an unsaved default when it never chose one)."""
    return session.get(ProcedureSetting, compound_id) or ProcedureSetting(compound_id=compound_id)


def major_list(session: Session, *, compound_id: int) -> list[majors.MajorMatter]:
    return majors.effective_list(json.loads(get_setting(session, compound_id=compound_id).extra_major_json))


def custom_key(template: ProcedureTemplate) -> str:
    return f"{CUSTOM_PREFIX}{template.id}"


def list_templates(session: Session, *, compound_id: int) -> list[dict[str, Any]]:
    """The shipped templates and the compound's own, as data."""
    out = list(tpl.shipped_templates().values())
    for row in session.execute(
        select(ProcedureTemplate).where(ProcedureTemplate.compound_id == compound_id)
        .order_by(ProcedureTemplate.id)  # type: ignore[arg-type]
    ).scalars():
        out.append({"key": custom_key(row), "shipped": False, **json.loads(row.spec_json)})
    return out


def get_template(session: Session, *, compound_id: int, key: str) -> dict[str, Any]:
    shipped = tpl.shipped_templates().get(key)
    if shipped is not None:
        return shipped
    if key.startswith(CUSTOM_PREFIX) and key[len(CUSTOM_PREFIX):].isdigit():
        row = session.get(ProcedureTemplate, int(key[len(CUSTOM_PREFIX):]))
        if row is not None and row.compound_id == compound_id:
            return {"key": key, "shipped": False, **json.loads(row.spec_json)}
    raise NotFound("程序模板不存在", code="procedure_template_not_found")


def add_template(session: Session, *, compound_id: int, data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Store a compound's own template after checking its shape and order."""
    try:
        spec = tpl.validate_template(data)
    except tpl.TemplateError as exc:
        raise DomainError(str(exc), code="procedure_template_invalid", status=422) from exc
    row = ProcedureTemplate(compound_id=compound_id, name=spec.name,
                            spec_json=json.dumps(spec.model_dump(), ensure_ascii=False),
                            created_by=actor.user_id)
    session.add(row)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="procedure.template_added",
                 object_type="procedure_template", object_id=row.id or 0,
                 payload={"key": custom_key(row), "template": spec.model_dump()})
    return {"key": custom_key(row), "shipped": False, **spec.model_dump()}


def update_settings(
    session: Session, *, compound_id: int, template_key: str | None,
    extra_major: list[dict[str, Any]] | None, caller: Caller, actor: Actor,
) -> ProcedureSetting:
    """Adopt (or change) the compound's template and its additions to the major-matter list.

    Dropping the procedure altogether reopens the path to the owners without review, so only the
    platform administration (街道) may do it.
    """
    setting = session.get(ProcedureSetting, compound_id)
    if setting is None:
        setting = ProcedureSetting(compound_id=compound_id)
    if template_key is None and setting.template_key is not None and Role.PLATFORM_ADMIN not in caller.roles:
        raise Forbidden("停用议事程序须由平台管理员（街道）办理", code="procedure_disable_admin_only")
    if template_key is not None:
        get_template(session, compound_id=compound_id, key=template_key)
    if extra_major is not None:
        checked: list[dict[str, Any]] = []
        for raw in extra_major:
            try:
                m = majors.MajorMatter.model_validate(raw)
            except ValidationError as exc:
                raise DomainError(f"新增重大事项的格式有误：{field_message(exc.errors()[0])}",
                                  code="major_matter_invalid", status=422) from exc
            if m.key in majors.DEFAULT_KEYS or m.key == majors.OTHER or m.key in {c["key"] for c in checked}:
                raise DomainError(f"事项标识 {m.key} 已存在", code="major_matter_duplicate", status=422)
            if not m.categories and not m.keywords:
                raise DomainError(f"事项“{m.label}”须设置表决类别或关键词，才能识别", code="major_matter_unmatched",
                                  status=422)
            if not set(m.categories) <= {c.value for c in voting_rules.Category} - majors.UNGATED_CATEGORIES:
                raise DomainError(f"事项“{m.label}”的表决类别不正确", code="major_matter_invalid", status=422)
            checked.append(m.model_dump())
        setting.extra_major_json = json.dumps(checked, ensure_ascii=False)
    before = setting.template_key
    if template_key != before:
        setting.template_key = template_key
        setting.adopted_at = now() if template_key else None
        setting.adopted_by = caller.user_id if template_key else None
    setting.updated_at = now()
    session.add(setting)
    session.flush()
    append_event(session, compound_id=compound_id, actor=actor, action="procedure.settings_changed",
                 object_type="procedure_setting", object_id=compound_id,
                 payload={"template_key": template_key, "previous_template_key": before,
                          "extra_major_matters": json.loads(setting.extra_major_json)})
    return setting


# --- helpers ------------------------------------------------------------------------------------


def steps_of(item: AgendaItem) -> list[dict[str, Any]]:
    return list(json.loads(item.steps_json))


def organization_of(session: Session, *, compound_id: int, user_id: int | None, role: str,
                    item_id: int | None = None) -> str:
    """The organization a person acts for: from their grant (or item appointment)."""
    if user_id is None:
        return ""
    if role == Role.PLATFORM_ADMIN.value:
        return "平台管理员（街道）"
    org = session.execute(
        select(RoleGrant.organization).where(
            RoleGrant.compound_id == compound_id, RoleGrant.user_id == user_id,
            RoleGrant.role == Role(role), RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        ).order_by(RoleGrant.id)  # type: ignore[arg-type]
    ).scalars().first()
    if org is None and role == Role.OBSERVER.value and item_id is not None:
        appointment = active_item_observer(session, compound_id=compound_id, item_id=item_id, user_id=user_id)
        org = appointment.organization if appointment else ""
    return org or ""


def _acting_role(step: dict[str, Any], caller: Caller, allowed: Iterable[str] | None = None) -> Role:
    for r in allowed if allowed is not None else step["roles"]:
        if r in step["roles"] and Role(r) in caller.roles:
            return Role(r)
    labels = "、".join(ROLE_LABELS[Role(r)] for r in step["roles"])
    raise Forbidden(f"“{step['name']}”须由{labels}办理", code="procedure_step_role")


def _check_files(session: Session, compound_id: int, file_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(f) for f in file_ids))
    for fid in ids:
        files_service.get_file(session, compound_id=compound_id, file_id=fid)
    return ids


def _audit(session: Session, item: AgendaItem, actor: Actor, action: str,
           payload: dict[str, Any]) -> tuple[int, str]:
    event = append_event(session, compound_id=item.compound_id, actor=actor, action=action,
                         object_type=OBJECT, object_id=item.id or 0, payload=payload)
    return event.seq, event.hash


def _record(
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
    rec.audit_seq, rec.audit_hash = _audit(session, item, actor, audit_action, {
        "step_index": index, "step_key": step["key"], "step_name": step["name"], "action": action,
        "opinion": opinion, "data": data or {}, "file_ids": file_ids or [],
        "version": item.current_version, "organization": org, "record_id": rec.id,
    })
    session.add(rec)
    return rec


def _advance(session: Session, item: AgendaItem, *, after: int, actor: Actor) -> None:
    """Move to the step after `after`, skipping post-vote steps of a failed resolution."""
    steps = steps_of(item)
    nxt = after + 1
    while nxt < len(steps) and steps[nxt].get("only_if_passed") and item.resolution_passed is False:
        _record(session, item, index=nxt, action="skip", actor=actor,
                opinion="业主大会表决未通过，本步骤不适用", audit_action="procedure.step_skipped")
        nxt += 1
    item.current_step = nxt
    item.step_started_at = now()
    if nxt >= len(steps):
        item.status = ItemStatus.CLOSED
        item.closed_at = now()
        _audit(session, item, actor, "procedure.item_closed",
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


def _expect_step(item: AgendaItem, step_key: str | None, kinds: Collection[str]) -> tuple[int, dict[str, Any]]:
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


# --- proposing and revising -------------------------------------------------------------------


def _proposer_role(step: dict[str, Any], body: str, caller: Caller) -> Role:
    if body not in step.get("bodies", []):
        raise DomainError("提议主体不在本程序允许的范围内", code="proposer_body_invalid", status=422)
    return _acting_role(step, caller, allowed=tpl.BODY_ROLES[body])


def propose(
    session: Session, *, compound_id: int, title: str, text: str, matter_type: str,
    category: str | None, proposer_body: str, document_file_ids: Iterable[int], caller: Caller,
) -> AgendaItem:
    """Open an agenda item under the compound's adopted template, with version 1 of the proposal."""
    setting = get_setting(session, compound_id=compound_id)
    if setting.template_key is None:
        raise ProcedureError("本小区尚未采用议事程序，请业委会先在“议事程序设置”中选择程序模板",
                             code="procedure_not_adopted")
    template = get_template(session, compound_id=compound_id, key=setting.template_key)
    steps = template["steps"]
    role = _proposer_role(steps[0], proposer_body, caller)
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise DomainError("请填写议题标题和方案内容", code="proposal_empty", status=422)
    if matter_type == majors.OTHER:
        label, is_major = majors.OTHER_LABEL, False
    else:
        kind = majors.find(major_list(session, compound_id=compound_id), matter_type)
        if kind is None:
            raise DomainError("事项类型不在本小区的重大事项清单中", code="matter_type_invalid", status=422)
        label, is_major = kind.label, True
    if category is not None and category not in {c.value for c in voting_rules.Category}:
        raise DomainError("表决类别不正确", code="matter_category_invalid", status=422)
    files = _check_files(session, compound_id, document_file_ids)
    actor = Actor(user_id=caller.user_id, role=role.value)
    item = AgendaItem(
        compound_id=compound_id, title=title, matter_type=matter_type, matter_label=label,
        is_major=is_major, category=category, proposer_body=proposer_body,
        template_key=template["key"], template_name=template["name"],
        steps_json=json.dumps(steps, ensure_ascii=False), current_step=0, created_by=caller.user_id,
    )
    session.add(item)
    session.flush()
    _audit(session, item, actor, "procedure.item_proposed", {
        "title": title, "matter_type": matter_type, "matter_label": label, "is_major": is_major,
        "category": category, "proposer_body": proposer_body, "template_key": template["key"],
        "steps": [s["key"] for s in steps],
    })
    _add_version(session, item, title=title, text=text, files=files, note="", actor=actor)
    _record(session, item, index=0, action="submit", actor=actor, file_ids=files,
            data={"title": title, "proposer_body": proposer_body,
                  "proposer_body_label": tpl.BODY_LABELS[proposer_body]})
    _advance(session, item, after=0, actor=actor)
    return item


def _add_version(session: Session, item: AgendaItem, *, title: str, text: str, files: list[int],
                 note: str, actor: Actor) -> AgendaVersion:
    version = AgendaVersion(
        compound_id=item.compound_id, item_id=item.id or 0, version=item.current_version,
        title=title, text=text, document_file_ids=json.dumps(files), note=note,
        submitted_by=actor.user_id, submitted_role=actor.role,
        submitted_org=organization_of(session, compound_id=item.compound_id, user_id=actor.user_id,
                                      role=actor.role),
    )
    session.add(version)
    session.flush()
    version.audit_seq, _ = _audit(session, item, actor, "procedure.version_submitted", {
        "version": version.version, "title": title, "text": text, "document_file_ids": files,
        "note": note,
    })
    session.add(version)
    return version


def resubmit(
    session: Session, *, item: AgendaItem, title: str, text: str, note: str,
    document_file_ids: Iterable[int], caller: Caller,
) -> AgendaItem:
    """The proposer's revised version after a return; the earlier versions stay as they were."""
    if item.status != ItemStatus.RETURNED:
        raise ProcedureError("只有被退回修改的议题才能重新提交", code="agenda_item_not_returned")
    steps = steps_of(item)
    role = _proposer_role(steps[0], item.proposer_body, caller)
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise DomainError("请填写议题标题和方案内容", code="proposal_empty", status=422)
    if not note.strip():
        raise DomainError("请说明本次修改的内容", code="revision_note_missing", status=422)
    files = _check_files(session, item.compound_id, document_file_ids)
    actor = Actor(user_id=caller.user_id, role=role.value)
    item.current_version += 1
    item.title = title
    _add_version(session, item, title=title, text=text, files=files, note=note.strip(), actor=actor)
    _record(session, item, index=0, action="resubmit", actor=actor, opinion=note.strip(), file_ids=files,
            data={"title": title})
    resume = item.returned_from_step or 1
    item.status = ItemStatus.IN_PROGRESS
    item.returned_from_step = None
    _advance(session, item, after=resume - 1, actor=actor)
    return item


# --- meetings, reviews and records --------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    action: str
    opinion: str
    meeting_date: date | None = None
    attendees: tuple[str, ...] = ()
    file_ids: tuple[int, ...] = ()


def decide(session: Session, *, item: AgendaItem, step_key: str, decision: Decision,
           caller: Caller) -> AgendaItem:
    """Approve, return for revision, or reject at a meeting, review or record step."""
    index, step = _expect_step(item, step_key, ("meeting", "review", "record"))
    role = _acting_role(step, caller)
    action = decision.action
    if action not in step.get("actions", []):
        raise DomainError(f"“{step['name']}”不能“{tpl.ACTION_LABELS.get(action, action)}”",
                          code="procedure_action_not_allowed", status=422)
    opinion = decision.opinion.strip()
    if not opinion:
        what = {"review": "批复意见", "meeting": "会议结论"}.get(step["kind"], "办理情况")
        raise DomainError(f"请填写{what}", code="opinion_missing", status=422)
    files = _check_files(session, item.compound_id, decision.file_ids)
    data: dict[str, Any] = {}
    if step["kind"] == "meeting":
        attendees = [a.strip() for a in decision.attendees if a.strip()]
        if not attendees or decision.meeting_date is None:
            raise DomainError("请填写会议日期和参会单位（人员）", code="meeting_details_missing", status=422)
        if action == "approve" and not files:
            raise DomainError("请上传会议纪要", code="minutes_missing", status=422)
        data = {"meeting_date": decision.meeting_date.isoformat(), "attendees": attendees}
    actor = Actor(user_id=caller.user_id, role=role.value)
    _record(session, item, index=index, action=action, actor=actor, opinion=opinion, data=data,
            file_ids=files, audit_action="procedure.step_decided")
    steps = steps_of(item)
    if action == "approve":
        if step.get("gate"):
            item.gate_passed_at = now()
            item.public_at = item.public_at or item.gate_passed_at
        _advance(session, item, after=index, actor=actor)
    elif action == "return":
        ballot_at, gate_at = tpl.ballot_index(steps), tpl.gate_index(steps)
        if index < ballot_at:
            # A revised proposal is reviewed again before it can reach the owners.
            item.gate_passed_at = None
            item.returned_from_step = min(index, gate_at)
        else:
            item.returned_from_step = index
        item.status = ItemStatus.RETURNED
        item.step_started_at = now()
        session.add(item)
    else:
        item.status = ItemStatus.REJECTED
        item.rejected_at = now()
        session.add(item)
        _audit(session, item, actor, "procedure.item_rejected", {"step_key": step["key"], "opinion": opinion})
    return item


# --- the resolution (the owners' ballot) --------------------------------------------------------


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
}


def _link_problem(session: Session, item: AgendaItem, ballot: Ballot, matter: BallotMatter,
                  setting: ProcedureSetting) -> tuple[str, str] | None:
    """Why this ballot matter cannot resolve the item (code, message), or None."""
    if item.ballot_id is not None and item.ballot_id != ballot.id:
        old = session.get(Ballot, item.ballot_id)
        if old is not None and old.noticed_at is not None:
            return "ballot_link_locked", "已关联的表决已经公告，不能更换"
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


def _noticed_before_adoption(ballot: Ballot, setting: ProcedureSetting) -> bool:
    # A ballot noticed before the compound adopted its procedure was not subject to the gate.
    return ballot.noticed_at is not None and (setting.adopted_at is None or ballot.noticed_at < setting.adopted_at)


def link_ballot(session: Session, *, item: AgendaItem, ballot_id: int, matter_id: int,
                caller: Caller) -> AgendaItem:
    """Link the item to the ballot matter that puts it to the owners."""
    index, step = _expect_step(item, None, ("ballot",))
    role = _acting_role(step, caller)
    ballot = voting_service.get_ballot(session, compound_id=item.compound_id, ballot_id=ballot_id)
    matter = session.get(BallotMatter, matter_id)
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
    _record(session, item, index=index, action="link", actor=actor, data={
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


def linked_matter(session: Session, item: AgendaItem) -> tuple[Ballot, BallotMatter] | None:
    if item.ballot_id is None or item.matter_id is None:
        return None
    ballot = session.get(Ballot, item.ballot_id)
    matter = session.get(BallotMatter, item.matter_id)
    if ballot is None or matter is None or matter.ballot_id != ballot.id:
        return None
    return ballot, matter


def record_resolution(session: Session, *, item: AgendaItem, caller: Caller) -> AgendaItem:
    """Complete the resolution step from the linked ballot's published result."""
    index, step = _expect_step(item, None, ("ballot",))
    role = _acting_role(step, caller)
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
    _record(session, item, index=index, action="resolve", actor=actor, data={
        "ballot_id": ballot.id, "matter_id": matter.id, "passed": passed,
        "explanation": summary["result"].get("explanation", ""),
        "result_notice_id": ballot.result_notice_id,
    }, audit_action="procedure.resolution_recorded")
    _advance(session, item, after=index, actor=actor)
    return item


def resolution_line(session: Session, item: AgendaItem) -> str:
    linked = linked_matter(session, item)
    if linked is None or item.resolved_at is None:
        return ""
    ballot, matter = linked
    verdict = {True: "通过", False: "未通过", None: "已完成（意见征集）"}[item.resolution_passed]
    return f"业主大会表决结果：{ballot.title} 第{matter.position}项“{matter.title}”——{verdict}。"


# --- publications -------------------------------------------------------------------------------


def publish(session: Session, *, item: AgendaItem, step_key: str, title: str, body: str,
            attachment_file_ids: Iterable[int], caller: Caller) -> AgendaItem:
    """Publish the step's notice to the owners; the last publication closes the item."""
    index, step = _expect_step(item, step_key, ("notice",))
    role = _acting_role(step, caller)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise DomainError("请填写公告标题和正文", code="notice_content_missing", status=422)
    files = _check_files(session, item.compound_id, attachment_file_ids)
    footer = [f"本公告依照本小区议事规则采用的《{item.template_name}》程序发布"
              f"（第{index + 1}步：{step['name']}）。"]
    if line := resolution_line(session, item):
        footer.insert(0, line)
    linked = linked_matter(session, item)
    scope = json.loads(linked[0].scope_building_ids) if linked else []
    actor = Actor(user_id=caller.user_id, role=role.value)
    notice = notices_service.publish_notice(
        session, compound_id=item.compound_id, kind="procedure", title=title,
        body=body + "\n\n" + "\n".join(footer), audience_building_ids=scope or None,
        attachments=files, source_type=OBJECT, source_id=str(item.id), actor=actor,
    )
    _record(session, item, index=index, action="publish", actor=actor, file_ids=files,
            data={"notice_id": notice.id, "title": title}, audit_action="procedure.publication_published")
    _advance(session, item, after=index, actor=actor)
    return item


# --- the gate (registered with the voting service) ----------------------------------------------


def ballot_gate(session: Session, ballot: Ballot) -> None:
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


# --- observers and observations ---------------------------------------------------------------


def active_item_observer(session: Session, *, compound_id: int, item_id: int, user_id: int) -> AgendaObserver | None:
    return session.execute(
        select(AgendaObserver).where(
            AgendaObserver.compound_id == compound_id, AgendaObserver.item_id == item_id,
            AgendaObserver.user_id == user_id, AgendaObserver.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).scalars().first()


def _staff_account(session: Session, username: str) -> UserAccount:
    account = auth_service.account_by_username(session, username=username)
    if account is None or not account.is_active:
        raise NotFound("未找到该工作人员账号", code="user_not_found")
    return account


def appoint_observer(
    session: Session, *, compound_id: int, username: str, organization: str, item_id: int | None,
    actor: Actor,
) -> dict[str, Any]:
    """Appoint an observer to the whole compound (a role grant) or to one agenda item."""
    account = _staff_account(session, username)
    organization = organization.strip()
    if not organization:
        raise DomainError("请填写观察员的身份（如：区人大代表）", code="observer_org_missing", status=422)
    if item_id is None:
        grant = auth_service.grant_role(session, compound_id=compound_id, user_id=account.id or 0,
                                        role=Role.OBSERVER, organization=organization, actor=actor)
        return {"scope": "compound", "id": grant.id, "user_id": account.id,
                "display_name": account.display_name, "organization": organization, "item_id": None}
    item = get_item(session, compound_id=compound_id, item_id=item_id)
    if active_item_observer(session, compound_id=compound_id, item_id=item_id, user_id=account.id or 0):
        raise Conflict("该账号已是本议题的观察员", code="observer_already_appointed")
    auth_service.check_observer_independent(session, compound_id=compound_id, account=account,
                                            role=Role.OBSERVER)
    row = AgendaObserver(compound_id=compound_id, item_id=item_id, user_id=account.id or 0,
                         organization=organization, appointed_by=actor.user_id, appointed_role=actor.role)
    session.add(row)
    session.flush()
    _audit(session, item, actor, "procedure.observer_appointed",
           {"appointment_id": row.id, "user_id": account.id, "organization": organization})
    return {"scope": "item", "id": row.id, "user_id": account.id, "display_name": account.display_name,
            "organization": organization, "item_id": item_id}


def revoke_item_observer(session: Session, *, compound_id: int, appointment_id: int, actor: Actor) -> AgendaObserver:
    row = session.get(AgendaObserver, appointment_id)
    if row is None or row.compound_id != compound_id:
        raise NotFound("观察员指派记录不存在", code="observer_not_found")
    if row.revoked_at is not None:
        raise Conflict("该指派已撤销", code="observer_already_revoked")
    row.revoked_at, row.revoked_by = now(), actor.user_id
    session.add(row)
    item = get_item(session, compound_id=compound_id, item_id=row.item_id)
    _audit(session, item, actor, "procedure.observer_revoked", {"appointment_id": row.id, "user_id": row.user_id})
    return row


def revoke_compound_observer(session: Session, *, compound_id: int, grant_id: int, actor: Actor) -> RoleGrant:
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.compound_id != compound_id or Role(grant.role) != Role.OBSERVER:
        raise NotFound("观察员授权不存在", code="observer_not_found")
    return auth_service.revoke_role(session, compound_id=compound_id, grant_id=grant_id, actor=actor)


def list_observers(session: Session, *, compound_id: int, item_id: int | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if item_id is None:
        for grant, user in auth_service.list_grants(session, compound_id=compound_id):
            if Role(grant.role) == Role.OBSERVER:
                out.append({"scope": "compound", "id": grant.id, "user_id": user.id,
                            "display_name": user.display_name, "organization": grant.organization,
                            "item_id": None, "appointed_at": grant.granted_at})
    stmt = select(AgendaObserver, UserAccount).join(
        UserAccount, UserAccount.id == AgendaObserver.user_id  # type: ignore[arg-type]
    ).where(AgendaObserver.compound_id == compound_id, AgendaObserver.revoked_at.is_(None))  # type: ignore[union-attr]
    if item_id is not None:
        stmt = stmt.where(AgendaObserver.item_id == item_id)
    for row, user in session.execute(stmt.order_by(AgendaObserver.id)).all():  # type: ignore[arg-type]
        out.append({"scope": "item", "id": row.id, "user_id": user.id, "display_name": user.display_name,
                    "organization": row.organization, "item_id": row.item_id, "appointed_at": row.appointed_at})
    return out


def record_observation(session: Session, *, item: AgendaItem, text: str, caller: Caller) -> AgendaObservation:
    """An observer's observation (观察意见), kept in the item's record and the audit trail."""
    if Role.OBSERVER not in caller.roles:
        raise Forbidden("只有观察员可以记录观察意见", code="observer_only")
    text = text.strip()
    if not text:
        raise DomainError("请填写观察意见", code="observation_empty", status=422)
    actor = Actor(user_id=caller.user_id, role=Role.OBSERVER.value)
    org = organization_of(session, compound_id=item.compound_id, user_id=caller.user_id,
                          role=Role.OBSERVER.value, item_id=item.id)
    index = current_index(item)
    obs = AgendaObservation(compound_id=item.compound_id, item_id=item.id or 0, text=text,
                            step_index=index if index is not None else len(steps_of(item)),
                            observer_user_id=caller.user_id, observer_org=org, at=now())
    session.add(obs)
    session.flush()
    obs.audit_seq, obs.audit_hash = _audit(session, item, actor, "procedure.observation_recorded",
                                           {"observation_id": obs.id, "text": text, "organization": org,
                                            "step_index": obs.step_index})
    session.add(obs)
    return obs


# --- reading ------------------------------------------------------------------------------------


def list_items(session: Session, *, compound_id: int, public_only: bool) -> list[AgendaItem]:
    stmt = select(AgendaItem).where(AgendaItem.compound_id == compound_id)
    if public_only:
        stmt = stmt.where(AgendaItem.public_at.is_not(None))  # type: ignore[union-attr]
    return list(session.execute(stmt.order_by(AgendaItem.id.desc())).scalars())  # type: ignore[union-attr]


def versions(session: Session, *, item: AgendaItem) -> list[AgendaVersion]:
    return list(session.execute(
        select(AgendaVersion).where(AgendaVersion.item_id == item.id).order_by(AgendaVersion.version)
    ).scalars())


def step_records(session: Session, *, item: AgendaItem) -> list[AgendaStepRecord]:
    return list(session.execute(
        select(AgendaStepRecord).where(AgendaStepRecord.item_id == item.id).order_by(AgendaStepRecord.id)  # type: ignore[arg-type]
    ).scalars())


def observations(session: Session, *, item: AgendaItem) -> list[AgendaObservation]:
    return list(session.execute(
        select(AgendaObservation).where(AgendaObservation.item_id == item.id).order_by(AgendaObservation.id)  # type: ignore[arg-type]
    ).scalars())


def waiting_roles(item: AgendaItem) -> list[str]:
    step = current_step(item)
    return list(step["roles"]) if step else []


def item_events(session: Session, *, item: AgendaItem) -> list[AuditEvent]:
    """The audit events about the item and its linked ballot, in chain order."""
    about = (AuditEvent.object_type == OBJECT) & (AuditEvent.object_id == str(item.id))
    if item.ballot_id is not None:
        about = about | ((AuditEvent.object_type == "ballot") & (AuditEvent.object_id == str(item.ballot_id)))
    return list(session.execute(
        select(AuditEvent).where(AuditEvent.compound_id == item.compound_id, about).order_by(AuditEvent.seq)
    ).scalars())


def reviewer_compound_ids(session: Session, *, user: UserAccount) -> list[int]:
    """The compounds where the account holds an active reviewer grant."""
    return sorted(cid for cid, roles in auth_service.compounds_with_grants(session, user=user).items()
                  if Role.REVIEWER in roles)


def reviewer_queue(session: Session, *, user: UserAccount) -> list[AgendaItem]:
    """Open items waiting for a reviewer, or overdue, in the reviewer's compounds only."""
    compound_ids = reviewer_compound_ids(session, user=user)
    if not compound_ids:
        return []
    rows = session.execute(
        select(AgendaItem).where(AgendaItem.compound_id.in_(compound_ids),  # type: ignore[attr-defined]
                                 AgendaItem.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
        .order_by(AgendaItem.id)  # type: ignore[arg-type]
    ).scalars()
    at = now()
    picked = [i for i in rows
              if (i.status == ItemStatus.IN_PROGRESS and Role.REVIEWER.value in waiting_roles(i))
              or is_overdue(i, at)]
    far = datetime.max.replace(tzinfo=calendar.SHANGHAI)
    return sorted(picked, key=lambda i: (not is_overdue(i, at), due_at(i) or far, i.id or 0))
