"""Procedure templates are data: an ordered list of steps, validated for shape here.

Shipped templates live as JSON in app/procedures/templates/; a compound's own templates are rows
(app.procedures.models.ProcedureTemplate) holding the same JSON. Nothing here touches the database.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from app.errors import field_message
from app.schemas import InputModel

StepKind = Literal["propose", "meeting", "review", "record", "ballot", "notice"]
Action = Literal["approve", "return", "reject"]
ActingRole = Literal["committee", "clerk", "reviewer", "platform_admin"]
Body = Literal["party_branch", "committee", "property_company"]

TEMPLATE_DIR = Path(__file__).with_name("templates")
SHIPPED_ORDER = ("sanyi_yishen", "sanyi_yishen_street", "wuyi_yibei")
DEFAULT_TEMPLATE = "sanyi_yishen"

KIND_LABELS = {
    "propose": "提议", "meeting": "会议", "review": "审核", "record": "登记",
    "ballot": "业主大会表决", "notice": "公告公开",
}
ACTION_LABELS = {
    "submit": "提交议题", "resubmit": "修改后重新提交", "approve": "同意", "return": "退回修改",
    "reject": "不同意", "link": "关联表决", "resolve": "记录表决结果", "publish": "发布公告",
    "skip": "不适用（表决未通过）",
}
# Which role may speak for which proposing body (the party branch secretary often chairs the
# committee too, "一肩挑", so a committee member may propose for it).
BODY_ROLES: dict[str, tuple[str, ...]] = {
    "party_branch": ("committee", "reviewer"),
    "committee": ("committee",),
    "property_company": ("clerk",),
}
BODY_LABELS = {"party_branch": "小区党组织", "committee": "业主委员会",
               "property_company": "物业服务企业"}


class TemplateError(ValueError):
    """A template whose shape or order is not acceptable; the message is shown to users."""


class StepSpec(InputModel):
    """One step: who acts, what they may do, and whether it creates a ballot or a notice."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name: str = Field(min_length=1, max_length=40)
    kind: StepKind
    creates: Literal["ballot", "notice"] | None = None
    roles: list[ActingRole] = Field(min_length=1, max_length=4)
    actions: list[Action] = Field(default_factory=list, max_length=3)
    bodies: list[Body] = Field(default_factory=list, max_length=3)
    gate: bool = False
    only_if_passed: bool = False
    deadline_days: int | None = Field(default=None, ge=1, le=365)
    organization: str = Field(default="", max_length=60)
    description: str = Field(default="", max_length=500)


class TemplateSpec(InputModel):
    """A whole template as a compound submits it (the key is assigned by the platform)."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    source: str = Field(default="", max_length=500)
    steps: list[StepSpec] = Field(min_length=3, max_length=20)


def _check_order(spec: TemplateSpec) -> None:
    steps = spec.steps
    keys = [s.key for s in steps]
    if len(set(keys)) != len(keys):
        raise TemplateError("步骤标识（key）不能重复")
    if steps[0].kind != "propose" or any(s.kind == "propose" for s in steps[1:]):
        raise TemplateError("第一步必须是提议（propose），且只能有一个提议步骤")
    ballots = [i for i, s in enumerate(steps) if s.kind == "ballot"]
    if len(ballots) != 1:
        raise TemplateError("模板须有且只有一个业主大会表决（ballot）步骤")
    ballot_at = ballots[0]
    gates = [i for i, s in enumerate(steps) if s.gate]
    if len(gates) != 1 or gates[0] >= ballot_at:
        raise TemplateError("模板须有且只有一个审核关口（gate），且位于表决步骤之前：未经审核同意的事项不得提交业主")
    if steps[-1].kind != "notice" or not any(s.kind == "notice" for s in steps[ballot_at + 1:]):
        raise TemplateError("表决之后须有公开步骤，且最后一步须为公开（notice），以办结议题")
    for i, s in enumerate(steps):
        expected = s.kind if s.kind in ("ballot", "notice") else None
        if s.creates != expected:
            raise TemplateError(f"步骤“{s.name}”：creates 须为 {expected or 'null'}（由步骤类型决定）")
        if s.kind in ("propose", "ballot", "notice"):
            if s.actions:
                raise TemplateError(f"步骤“{s.name}”的类型不设 approve/return/reject 动作")
        elif "approve" not in s.actions:
            raise TemplateError(f"步骤“{s.name}”须允许 approve（同意）")
        if len(set(s.actions)) != len(s.actions):
            raise TemplateError(f"步骤“{s.name}”的动作不能重复")
        if s.gate and s.kind not in ("meeting", "review", "record"):
            raise TemplateError("审核关口只能设在会议、审核或登记步骤上")
        if s.kind == "propose":
            if not s.bodies:
                raise TemplateError("提议步骤须列出可提议的主体（bodies）")
            for body in s.bodies:
                if not set(BODY_ROLES[body]) & set(s.roles):
                    raise TemplateError(f"提议主体“{BODY_LABELS[body]}”没有可代表它的角色")
        elif s.bodies:
            raise TemplateError(f"只有提议步骤可以设置 bodies（步骤“{s.name}”）")
        if s.only_if_passed and i <= ballot_at:
            raise TemplateError("only_if_passed 只能用于表决之后的步骤")
        if s.kind == "ballot" and "platform_admin" not in s.roles and "committee" not in s.roles:
            raise TemplateError("表决步骤须由业主委员会（或平台管理员）办理")


def validate_template(data: dict[str, Any]) -> TemplateSpec:
    """Parse and check a template; raises TemplateError with a Chinese message."""
    try:
        spec = TemplateSpec.model_validate(data)
    except ValidationError as exc:
        raise TemplateError(f"模板格式有误：{field_message(exc.errors()[0])}") from exc
    _check_order(spec)
    return spec


@cache
def shipped_templates() -> dict[str, dict[str, Any]]:
    """The templates shipped with the platform, by key, in display order."""
    out: dict[str, dict[str, Any]] = {}
    for key in SHIPPED_ORDER:
        raw = json.loads((TEMPLATE_DIR / f"{key}.json").read_text(encoding="utf-8"))
        assert raw.pop("key") == key
        spec = validate_template(raw)
        out[key] = {"key": key, "shipped": True, **spec.model_dump()}
    return out


def gate_index(steps: list[dict[str, Any]]) -> int:
    return next(i for i, s in enumerate(steps) if s.get("gate"))


def ballot_index(steps: list[dict[str, Any]]) -> int:
    return next(i for i, s in enumerate(steps) if s["kind"] == "ballot")
