"""Validation errors speak Chinese: every request field has a Chinese label, and the messages use it.

The labels have one home, `app.errors.FIELD_LABELS` (by field name); a field whose name means
something else in its model says so with a Chinese `title` on the field (`Field(title="操作类别")`),
which the OpenAPI document carries. The walk below covers every request body (JSON and forms,
nested objects included) and every query parameter of the OpenAPI document: a new field
without a label fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from app.auth.models import Role
from app.errors import FIELD_LABELS, field_label, validation_body
from app.main import create_app
from app.procedures.schemas import DecisionIn
from tests.factories import bearer, make_compound, make_staff

CJK = re.compile(r"[\u4e00-\u9fff]")


def _schemas(spec: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> Iterator[dict[str, Any]]:
    """The object schemas inside `schema` (through $ref, unions, arrays and maps)."""
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        yield from _schemas(spec, spec["components"]["schemas"][name], seen)
        return
    if "properties" in schema:
        yield schema
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key, []):
            yield from _schemas(spec, sub, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _schemas(spec, schema[key], seen)
    for sub in schema.get("properties", {}).values():
        yield from _schemas(spec, sub, seen)


def _labelled(name: str, prop: dict[str, Any]) -> bool:
    return bool(CJK.search(str(prop.get("title", "")))) or name in FIELD_LABELS


def request_fields(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(METHOD, path, field, its schema) of every body property and query parameter."""
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param.get("in") == "query":
                    yield method.upper(), path, param["name"], param.get("schema", {})
            for media in op.get("requestBody", {}).get("content", {}).values():
                for schema in _schemas(spec, media.get("schema", {}), set()):
                    for name, prop in schema["properties"].items():
                        yield method.upper(), path, name, prop


def test_every_request_field_and_query_parameter_has_a_chinese_label() -> None:
    spec = create_app().openapi()
    fields = list(request_fields(spec))
    assert len(fields) > 100  # the walk reaches the bodies, nested objects and queries
    missing = sorted({(name, f"{m} {p}") for m, p, name, prop in fields if not _labelled(name, prop)})
    assert missing == [], "fields without a Chinese label (add them to app.errors.FIELD_LABELS): " + str(missing)
    assert all(CJK.search(label) for label in FIELD_LABELS.values())


def test_the_walk_catches_a_field_without_a_label() -> None:
    spec = {"paths": {"/x": {"post": {
        "parameters": [{"in": "query", "name": "gongjue_new_query", "schema": {"type": "integer"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}}}}},
        "components": {"schemas": {"B": {"properties": {
            "title": {"type": "string"},
            "items": {"type": "array", "items": {"properties": {"gongjue_nested": {"type": "string"}}}},
            "kind": {"type": "string", "title": "操作类别"}}}}}}
    unlabelled = {name for _, _, name, prop in request_fields(spec) if not _labelled(name, prop)}
    assert unlabelled == {"gongjue_new_query", "gongjue_nested"}


def test_messages_name_the_field_in_chinese() -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        try:
            DecisionIn.model_validate(body)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            return validation_body(errors, DecisionIn, body)
        raise AssertionError("accepted")

    missing = answer({"step_key": "review", "action": "approve"})
    assert missing["error"] == "validation_error"
    assert missing["detail"] == "请填写意见"
    assert missing["fields"] == [{"field": "opinion", "label": "意见", "message": "请填写意见"}]
    assert answer({"step_key": "review", "action": "approve", "opinion": ""})["detail"] == "请填写意见"
    too_long = answer({"step_key": "review", "action": "approve", "opinion": "长" * 10001})
    assert too_long["detail"] == "意见不能超过10000个字符"
    wrong = answer({"step_key": "review", "action": "approve", "opinion": 5})
    assert wrong["detail"] == "意见须为文本"
    extra = answer({"step_key": "review", "action": "approve", "opinion": "同意", "colour": "red"})
    assert extra["error"] == "unknown_field" and extra["detail"].startswith("不支持的字段：colour")
    assert not any("opinion" in f["message"] for f in missing["fields"])


def test_a_nested_field_is_named_by_its_parent_and_position() -> None:
    assert field_label("matters.1.title") == "表决事项第2项的标题"
    assert field_label("thresholds.quorum") == "参与表决门槛"
    assert field_label("gongjue_unheard_of") == "字段 gongjue_unheard_of"


@pytest.mark.parametrize(("query", "detail"), [
    ({"limit": "many"}, "每页条数须为整数"),
    ({"limit": "0"}, "每页条数不能小于1"),
    ({"kind": "votes"}, "操作类别取值不正确"),
])
def test_query_messages_are_labelled_too(
    client: TestClient, db: Session, query: dict[str, str], detail: str,
) -> None:
    compound = make_compound(db)
    make_staff(db, roles={compound.id: [Role.OBSERVER]}, username="gcy")  # type: ignore[dict-item]
    db.commit()
    r = client.get(f"/api/v1/compounds/{compound.id}/audit/events", params=query,
                   headers=bearer(client, "gcy"))
    assert r.status_code == 422 and r.json()["detail"].startswith(detail), r.text
