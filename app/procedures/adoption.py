"""The compound's adopted procedure: shipped and custom templates, and the major-matter list."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.auth.models import Role
from app.clock import now
from app.errors import Forbidden, Invalid, NotFound, field_message
from app.procedures import majors
from app.procedures import templates as tpl
from app.procedures.agenda import Caller
from app.procedures.models import (
    ProcedureSetting,
    ProcedureTemplate,
)
from app.roster import service as roster_service
from app.voting import rules as voting_rules

CUSTOM_PREFIX = "custom-"


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
        .order_by(ProcedureTemplate.id)
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
        raise Invalid(str(exc), code="procedure_template_invalid") from exc
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
        roster_service.get_compound(session, compound_id=compound_id)  # 404 for an unknown compound
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
                raise Invalid(f"新增重大事项的格式有误：{field_message(exc.errors()[0])}",
                                  code="major_matter_invalid") from exc
            if m.key in majors.DEFAULT_KEYS or m.key == majors.OTHER or m.key in {c["key"] for c in checked}:
                raise Invalid(f"事项标识 {m.key} 已存在", code="major_matter_duplicate")
            if not m.categories and not m.keywords:
                raise Invalid(f"事项“{m.label}”须设置表决类别或关键词，才能识别", code="major_matter_unmatched")
            if not set(m.categories) <= {c.value for c in voting_rules.Category} - majors.UNGATED_CATEGORIES:
                raise Invalid(f"事项“{m.label}”的表决类别不正确", code="major_matter_invalid")
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
