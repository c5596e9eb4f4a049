"""Response shapes: the staff record of an item, the owners' timeline, lists and the queue."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.models import ROLE_LABELS, Role
from app.clock import now
from app.errors import NotFound
from app.files import service as files_service
from app.notices import service as notices_service
from app.notices.models import KIND_LABELS, NoticeKind
from app.procedures import adoption, agenda, majors, observers, reading, resolution
from app.procedures import templates as tpl
from app.procedures.models import AgendaItem, AgendaStepRecord, ItemStatus, ProcedureSetting
from app.procedures.schemas import (
    AgendaItemRecordOut,
    AgendaItemSummaryOut,
    AgendaTimelineOut,
    ProcedureSettingsOut,
    ProcedureTemplateOut,
    ReviewerQueueItemOut,
)
from app.roster import service as roster_service
from app.voting import rules as voting_rules
from app.voting import service as voting_service

STATUS_LABELS = {
    ItemStatus.IN_PROGRESS: "办理中", ItemStatus.RETURNED: "已退回修改", ItemStatus.REJECTED: "未获同意（程序终止）",
    ItemStatus.CLOSED: "已办结",
}


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return "系统" if role == "system" else role


def by_label(role: str, org: str) -> str:
    """“社区党组织审核人（幸福社区党委）”: a role and an organization, never a person's name."""
    label = role_label(role)
    return f"{label}（{org}）" if org and org not in label else label


def _files(session: Session, compound_id: int, ids: Collection[int]) -> list[dict[str, Any]]:
    rows = files_service.files_by_id(session, compound_id=compound_id, file_ids=ids)
    return [{"id": f.id, "file_name": f.file_name, "content_type": f.content_type, "size_bytes": f.size_bytes}
            for i in ids if (f := rows.get(i)) is not None]


def _step_out(step: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "index": index, "key": step["key"], "name": step["name"], "kind": step["kind"],
        "kind_label": tpl.KIND_LABELS[step["kind"]], "creates": step.get("creates"),
        "roles": step["roles"], "role_labels": [role_label(r) for r in step["roles"]],
        "actions": step.get("actions", []), "gate": bool(step.get("gate")),
        "only_if_passed": bool(step.get("only_if_passed")), "deadline_days": step.get("deadline_days"),
        "organization": step.get("organization", ""), "description": step.get("description", ""),
        "bodies": step.get("bodies", []),
    }


def template_out(t: dict[str, Any]) -> ProcedureTemplateOut:
    return ProcedureTemplateOut.model_validate({
        "key": t["key"], "shipped": t["shipped"], "name": t["name"], "description": t.get("description", ""),
        "source": t.get("source", ""), "steps": [_step_out(s, i) for i, s in enumerate(t["steps"])]})


def settings_out(session: Session, *, compound_id: int) -> ProcedureSettingsOut:
    setting = adoption.get_setting(session, compound_id=compound_id)
    template = (adoption.get_template(session, compound_id=compound_id, key=setting.template_key)
                if setting.template_key else None)
    extra = {m["key"] for m in json.loads(setting.extra_major_json)}
    return ProcedureSettingsOut.model_validate({
        "adopted": setting.template_key is not None,
        "template_key": setting.template_key,
        "adopted_at": setting.adopted_at,
        "template": template_out(template) if template else None,
        "major_matters": [
            {**m.model_dump(), "default": m.key not in extra,
             "category_labels": [voting_rules.Category(c).label for c in m.categories]}
            for m in adoption.major_list(session, compound_id=compound_id)
        ],
        "other_matter": {"key": majors.OTHER, "label": majors.OTHER_LABEL},
        "bodies": tpl.BODY_LABELS,
        "categories": [{"value": c.value, "label": c.label} for c in voting_rules.Category if c.is_art278],
        "disclaimer": agenda.DISCLAIMER,
    })


def _state(item: AgendaItem, index: int, records: list[AgendaStepRecord]) -> str:
    if agenda.current_index(item) == index:
        return "current"
    mine = [r for r in records if r.step_index == index]
    if not mine:
        return "pending"
    return {"skip": "skipped", "reject": "rejected", "return": "returned"}.get(mine[-1].action, "done")


STATE_LABELS = {"done": "已完成", "current": "进行中", "pending": "未开始", "skipped": "不适用",
                "rejected": "未获同意", "returned": "已退回修改"}


def summary(item: AgendaItem, *, compound_name: str | None = None) -> dict[str, Any]:
    step = agenda.current_step(item)
    index = agenda.current_index(item)
    due = agenda.due_at(item)
    steps = agenda.steps_of(item)
    out = {
        "id": item.id, "compound_id": item.compound_id, "title": item.title,
        "matter_type": item.matter_type, "matter_label": item.matter_label, "is_major": item.is_major,
        "category": item.category,
        "category_label": voting_rules.Category(item.category).label if item.category else None,
        "template_key": item.template_key, "template_name": item.template_name,
        "status": item.status, "status_label": STATUS_LABELS[item.status],
        "current_step": ({"index": index, "key": step["key"], "name": step["name"], "kind": step["kind"],
                          "role_labels": [role_label(r) for r in step["roles"]],
                          "waiting_for_revision": item.status == ItemStatus.RETURNED}
                         if step is not None and index is not None else None),
        "step_count": len(steps), "version": item.current_version,
        "due_at": due, "overdue": agenda.is_overdue(item),
        "gate_passed": item.gate_passed_at is not None, "public": item.public_at is not None,
        "resolution_passed": item.resolution_passed,
        "created_at": item.created_at, "closed_at": item.closed_at, "rejected_at": item.rejected_at,
    }
    if compound_name is not None:
        out["compound_name"] = compound_name
    return out


def summary_out(item: AgendaItem) -> AgendaItemSummaryOut:
    return AgendaItemSummaryOut.model_validate(summary(item))


APPROVE_LABELS = {"meeting": "商议通过", "record": "已办理", "review": "同意"}


def action_label(item: AgendaItem, r: AgendaStepRecord) -> str:
    if r.action == "approve":
        kind = agenda.steps_of(item)[r.step_index]["kind"]
        return APPROVE_LABELS.get(kind, "同意")
    return tpl.ACTION_LABELS.get(r.action, r.action)


def _record_out(session: Session, item: AgendaItem, r: AgendaStepRecord, *,
                names: dict[int, str] | None) -> dict[str, Any]:
    out = {
        "id": r.id, "step_index": r.step_index, "step_key": r.step_key, "step_name": r.step_name,
        "action": r.action, "action_label": action_label(item, r),
        "opinion": r.opinion, "data": json.loads(r.data_json), "version": r.version,
        "files": _files(session, r.compound_id, json.loads(r.file_ids)),
        "by": by_label(r.actor_role, r.actor_org), "actor_role": r.actor_role, "at": r.at,
        "audit_seq": r.audit_seq,
    }
    if names is not None:
        out["actor_name"] = names.get(r.actor_user_id or 0, "")
    return out


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    return auth_service.display_names(session, ids)


def _ballot_out(session: Session, item: AgendaItem) -> dict[str, Any] | None:
    if item.ballot_id is None:
        return None
    linked = resolution.linked_matter(session, item)
    ballot = voting_service.get_ballot(session, compound_id=item.compound_id, ballot_id=item.ballot_id)
    status = voting_service.status_of(ballot)
    out: dict[str, Any] = {
        "ballot_id": ballot.id, "title": ballot.title, "status": status,
        "status_label": voting_service.STATUS_LABELS[status], "starts_at": ballot.starts_at,
        "ends_at": ballot.ends_at, "notice_id": ballot.notice_id, "result_notice_id": ballot.result_notice_id,
        "matter_id": item.matter_id, "matter_missing": linked is None,
        "noticed_before_adoption": item.linked_before_adoption,
        "opened": ballot.opened_at is not None, "closed": ballot.closed_at is not None,
        "published": ballot.published_at is not None,
    }
    if linked is not None:
        matter = linked[1]
        out.update({"matter_title": matter.title, "matter_position": matter.position,
                    "category": matter.category, "category_label": voting_rules.Category(matter.category).label})
    if item.resolved_at is not None:
        out["resolution"] = {"passed": item.resolution_passed, "line": resolution.resolution_line(session, item)}
    return out


def _notices(session: Session, item: AgendaItem, viewer: notices_service.Viewer) -> list[dict[str, Any]]:
    ids: list[int] = []
    if item.ballot_id is not None:
        ballot = voting_service.get_ballot(session, compound_id=item.compound_id, ballot_id=item.ballot_id)
        ids += [i for i in (ballot.notice_id, ballot.result_notice_id) if i]
    ids += [n.id or 0 for n in reversed(notices_service.notices_for_source(
        session, compound_id=item.compound_id, source_type=agenda.OBJECT, source_id=item.id or 0))]
    out = []
    for nid in ids:
        try:
            notice = notices_service.get_notice(session, compound_id=item.compound_id, notice_id=nid, viewer=viewer)
        except NotFound:
            continue
        view = notices_service.describe_notice(session, notice=notice)
        out.append({"id": notice.id, "title": notice.title, "body": notice.body,
                    "kind": notice.kind, "kind_label": KIND_LABELS[NoticeKind(notice.kind)],
                    "published_at": notice.published_at,
                    "attachments": [{"id": f.id, "file_name": f.file_name} for f in view.attachments]})
    return out


def _steps_with_state(item: AgendaItem, records: list[AgendaStepRecord]) -> list[dict[str, Any]]:
    out = []
    for i, s in enumerate(agenda.steps_of(item)):
        state = _state(item, i, records)
        out.append({**_step_out(s, i), "state": state, "state_label": STATE_LABELS[state]})
    return out


def my_actions(session: Session, item: AgendaItem, roles: frozenset[Role]) -> dict[str, Any]:
    """What the caller may do now (the service checks again)."""
    step = agenda.current_step(item)
    held = {r.value for r in roles}
    out: dict[str, Any] = {"decide": [], "resubmit": False, "link": False, "resolve": False,
                           "publish": False, "observe": Role.OBSERVER in roles,
                           "appoint_observers": bool(held & {"platform_admin", "reviewer"})}
    if step is None:
        return out
    acts = bool(held & set(step["roles"]))
    if item.status == ItemStatus.RETURNED:
        body_roles = set(tpl.BODY_ROLES[item.proposer_body]) & set(step["roles"])
        out["resubmit"] = bool(held & body_roles)
    elif acts and step["kind"] in ("meeting", "review", "record"):
        out["decide"] = list(step.get("actions", []))
    elif acts and step["kind"] == "ballot":
        linked = resolution.linked_matter(session, item)
        out["link"] = True
        out["resolve"] = linked is not None and linked[0].published_at is not None
    elif acts and step["kind"] == "notice":
        out["publish"] = True
    return out


def item_record(session: Session, *, item: AgendaItem, roles: frozenset[Role]) -> AgendaItemRecordOut:
    """The full procedure record for staff and observers: every version, step and observation."""
    records = reading.step_records(session, item=item)
    obs = reading.observations(session, item=item)
    vers = reading.versions(session, item=item)
    names = _names(session, {r.actor_user_id for r in records if r.actor_user_id}
                   | {o.observer_user_id for o in obs} | {v.submitted_by for v in vers if v.submitted_by})
    staff_viewer = notices_service.Viewer(can_see_drafts=False, building_ids=None)
    return AgendaItemRecordOut.model_validate({
        **summary(item),
        "proposer_body_label": tpl.BODY_LABELS.get(item.proposer_body, item.proposer_body),
        "steps": _steps_with_state(item, records),
        "versions": [{
            "version": v.version, "title": v.title, "text": v.text, "note": v.note,
            "files": _files(session, item.compound_id, json.loads(v.document_file_ids)),
            "by": by_label(v.submitted_role, v.submitted_org), "submitted_by_name": names.get(v.submitted_by or 0, ""),
            "submitted_at": v.submitted_at, "audit_seq": v.audit_seq,
        } for v in vers],
        "history": [_record_out(session, item, r, names=names) for r in records],
        "observations": [{
            "id": o.id, "text": o.text, "by": by_label(Role.OBSERVER.value, o.observer_org),
            "observer_name": names.get(o.observer_user_id, ""), "at": o.at, "step_index": o.step_index,
            "audit_seq": o.audit_seq,
        } for o in obs],
        "ballot": _ballot_out(session, item),
        "notices": _notices(session, item, staff_viewer),
        "observers": observers.list_observers(session, compound_id=item.compound_id, item_id=item.id),
        "my_actions": my_actions(session, item, roles),
        "disclaimer": agenda.DISCLAIMER,
    })


def timeline(session: Session, *, item: AgendaItem, viewer: notices_service.Viewer) -> AgendaTimelineOut:
    """The owners' page: where the matter is, what was decided at each step and by whom
    (role and organization only), and the published documents."""
    records = reading.step_records(session, item=item)
    latest = reading.versions(session, item=item)[-1]
    steps = []
    for s in _steps_with_state(item, records):
        decisions = []
        for r in records:
            if r.step_index != s["index"]:
                continue
            data = json.loads(r.data_json)
            public_data = {k: data[k] for k in ("meeting_date", "attendees", "ballot_title", "matter_title",
                                                 "passed", "explanation", "title", "proposer_body_label")
                           if k in data}
            decisions.append({"action": r.action, "action_label": action_label(item, r),
                              "opinion": r.opinion, "data": public_data, "version": r.version,
                              "by": by_label(r.actor_role, r.actor_org), "at": r.at})
        steps.append({key: s[key] for key in ("index", "key", "name", "kind_label", "organization",
                                               "description", "state", "state_label", "gate")}
                     | {"decisions": decisions})
    return AgendaTimelineOut.model_validate({
        **{k: v for k, v in summary(item).items() if k not in ("due_at", "overdue")},
        "proposer_body_label": tpl.BODY_LABELS.get(item.proposer_body, item.proposer_body),
        "proposal": {"version": latest.version, "title": latest.title, "text": latest.text,
                     "files": _files(session, item.compound_id, json.loads(latest.document_file_ids))},
        "steps": steps,
        "ballot": _ballot_out(session, item),
        "notices": _notices(session, item, viewer),
        "disclaimer": agenda.DISCLAIMER,
        "generated_at": now(),
    })


def queue_out(session: Session, *, items: list[AgendaItem]) -> list[ReviewerQueueItemOut]:
    """The reviewer's queue rows, with the current documents and the latest history."""
    names = {c.id: c.name for c in roster_service.list_compounds(session, ids=sorted({i.compound_id for i in items}))}
    out = []
    for item in items:
        latest = reading.versions(session, item=item)[-1]
        history = reading.step_records(session, item=item)[-5:]
        row = summary(item, compound_name=names.get(item.compound_id, ""))
        row["waiting_for_reviewer"] = (item.status == ItemStatus.IN_PROGRESS
                                       and Role.REVIEWER.value in agenda.waiting_roles(item))
        row["documents"] = _files(session, item.compound_id, json.loads(latest.document_file_ids))
        row["history"] = [_record_out(session, item, r, names=None) for r in history]
        out.append(ReviewerQueueItemOut.model_validate(row))
    return out


def adopted(session: Session, compound_id: int) -> bool:
    setting = session.get(ProcedureSetting, compound_id)
    return setting is not None and setting.template_key is not None
