"""Moving an item through its steps: proposing and revising, meeting/review/record decisions,
and the publications to the owners."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from app.audit.service import Actor
from app.auth.models import Role
from app.clock import now
from app.errors import Invalid
from app.notices import service as notices_service
from app.procedures import majors
from app.procedures import templates as tpl
from app.procedures.adoption import get_setting, get_template, major_list
from app.procedures.agenda import (
    OBJECT,
    Caller,
    ProcedureError,
    acting_role,
    advance,
    audit_item,
    check_files,
    expect_step,
    organization_of,
    record_step,
    steps_of,
)
from app.procedures.models import (
    AgendaItem,
    AgendaVersion,
    ItemStatus,
)
from app.procedures.resolution import linked_matter, resolution_line
from app.roster.scope import Scope
from app.voting import rules as voting_rules
from app.voting import service as voting_service


def _proposer_role(step: dict[str, Any], body: str, caller: Caller) -> Role:
    if body not in step.get("bodies", []):
        raise Invalid("提议主体不在本程序允许的范围内", code="proposer_body_invalid")
    return acting_role(step, caller, allowed=tpl.BODY_ROLES[body])


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
        raise Invalid("请填写议题标题和方案内容", code="proposal_empty")
    if matter_type == majors.OTHER:
        label, is_major = majors.OTHER_LABEL, False
    else:
        kind = majors.find(major_list(session, compound_id=compound_id), matter_type)
        if kind is None:
            raise Invalid("事项类型不在本小区的重大事项清单中", code="matter_type_invalid")
        label, is_major = kind.label, True
    if category is not None and category not in {c.value for c in voting_rules.Category}:
        raise Invalid("表决类别不正确", code="matter_category_invalid")
    files = check_files(session, compound_id, document_file_ids)
    actor = Actor(user_id=caller.user_id, role=role.value)
    item = AgendaItem(
        compound_id=compound_id, title=title, matter_type=matter_type, matter_label=label,
        is_major=is_major, category=category, proposer_body=proposer_body,
        template_key=template["key"], template_name=template["name"],
        steps_json=json.dumps(steps, ensure_ascii=False), current_step=0, created_by=caller.user_id,
    )
    session.add(item)
    session.flush()
    audit_item(session, item, actor, "procedure.item_proposed", {
        "title": title, "matter_type": matter_type, "matter_label": label, "is_major": is_major,
        "category": category, "proposer_body": proposer_body, "template_key": template["key"],
        "steps": [s["key"] for s in steps],
    })
    _add_version(session, item, title=title, text=text, files=files, note="", actor=actor)
    record_step(session, item, index=0, action="submit", actor=actor, file_ids=files,
            data={"title": title, "proposer_body": proposer_body,
                  "proposer_body_label": tpl.BODY_LABELS[proposer_body]})
    advance(session, item, after=0, actor=actor)
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
    version.audit_seq, _ = audit_item(session, item, actor, "procedure.version_submitted", {
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
        raise Invalid("请填写议题标题和方案内容", code="proposal_empty")
    if not note.strip():
        raise Invalid("请说明本次修改的内容", code="revision_note_missing")
    files = check_files(session, item.compound_id, document_file_ids)
    actor = Actor(user_id=caller.user_id, role=role.value)
    item.current_version += 1
    item.title = title
    _add_version(session, item, title=title, text=text, files=files, note=note.strip(), actor=actor)
    record_step(session, item, index=0, action="resubmit", actor=actor, opinion=note.strip(), file_ids=files,
            data={"title": title})
    resume = item.returned_from_step or 1
    item.status = ItemStatus.IN_PROGRESS
    item.returned_from_step = None
    advance(session, item, after=resume - 1, actor=actor)
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
    index, step = expect_step(item, step_key, ("meeting", "review", "record"))
    role = acting_role(step, caller)
    action = decision.action
    if action not in step.get("actions", []):
        raise Invalid(f"“{step['name']}”不能“{tpl.ACTION_LABELS.get(action, action)}”",
                          code="procedure_action_not_allowed")
    opinion = decision.opinion.strip()
    if not opinion:
        what = {"review": "批复意见", "meeting": "会议结论"}.get(step["kind"], "办理情况")
        raise Invalid(f"请填写{what}", code="opinion_missing")
    files = check_files(session, item.compound_id, decision.file_ids)
    data: dict[str, Any] = {}
    if step["kind"] == "meeting":
        attendees = [a.strip() for a in decision.attendees if a.strip()]
        if not attendees or decision.meeting_date is None:
            raise Invalid("请填写会议日期和参会单位（人员）", code="meeting_details_missing")
        if action == "approve" and not files:
            raise Invalid("请上传会议纪要", code="minutes_missing")
        data = {"meeting_date": decision.meeting_date.isoformat(), "attendees": attendees}
    actor = Actor(user_id=caller.user_id, role=role.value)
    record_step(session, item, index=index, action=action, actor=actor, opinion=opinion, data=data,
            file_ids=files, audit_action="procedure.step_decided")
    steps = steps_of(item)
    if action == "approve":
        if step.get("gate"):
            item.gate_passed_at = now()
            item.public_at = item.public_at or item.gate_passed_at
        advance(session, item, after=index, actor=actor)
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
        audit_item(session, item, actor, "procedure.item_rejected", {"step_key": step["key"], "opinion": opinion})
    return item



# --- publications -------------------------------------------------------------------------------


def publish(session: Session, *, item: AgendaItem, step_key: str, title: str, body: str,
            attachment_file_ids: Iterable[int], caller: Caller) -> AgendaItem:
    """Publish the step's notice to the owners; the last publication closes the item."""
    index, step = expect_step(item, step_key, ("notice",))
    role = acting_role(step, caller)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise Invalid("请填写公告标题和正文", code="notice_content_missing")
    files = check_files(session, item.compound_id, attachment_file_ids)
    footer = [f"本公告依照本小区议事规则采用的《{item.template_name}》程序发布"
              f"（第{index + 1}步：{step['name']}）。"]
    if line := resolution_line(session, item):
        footer.insert(0, line)
    linked = linked_matter(session, item)
    scope = voting_service.ballot_scope(linked[0]) if linked else Scope()
    actor = Actor(user_id=caller.user_id, role=role.value)
    notice = notices_service.publish_notice(
        session, compound_id=item.compound_id, kind="procedure", title=title,
        body=body + "\n\n" + "\n".join(footer),
        audience_building_ids=None if scope.whole_compound else sorted(scope.building_ids),
        audience_entrances=sorted(scope.entrances),
        attachments=files, source_type=OBJECT, source_id=str(item.id), actor=actor,
    )
    record_step(session, item, index=index, action="publish", actor=actor, file_ids=files,
            data={"notice_id": notice.id, "title": title}, audit_action="procedure.publication_published")
    advance(session, item, after=index, actor=actor)
    return item
