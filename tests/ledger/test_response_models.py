"""Every ledger, procedures and audit route declares its response model (the OpenAPI document is
the contract); schema names are unique; times keep the form the JSON always had."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args, get_origin, get_type_hints

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.responses import Response

from app.audit.router import router as audit_router
from app.ledger.router import router as ledger_router
from app.procedures.router import router as procedures_router
from app.procedures.schemas import AgendaBallotOut
from app.schemas import OutputModel


def _routes() -> list[APIRoute]:
    return [r for router in (ledger_router, procedures_router, audit_router)
            for r in router.routes if isinstance(r, APIRoute)]


def _model_of(route: APIRoute) -> type[BaseModel] | None:
    model = route.response_model
    if get_origin(model) is list:
        (model,) = get_args(model)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _answers_raw(route: APIRoute) -> bool:
    """A file, a download, a stream or plain text: the answer is not JSON."""
    hints = get_type_hints(route.endpoint)
    returned = hints.get("return")
    return (isinstance(returned, type) and issubclass(returned, Response)) or route.response_model is str


def test_every_route_declares_a_response_model_or_answers_a_file() -> None:
    missing = [f"{sorted(r.methods)} {r.path}" for r in _routes()
               if _model_of(r) is None and not _answers_raw(r)]
    assert missing == []


def test_json_routes_have_component_schemas(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    paths = spec["paths"]
    for route in _routes():
        if _answers_raw(route):
            continue
        for method in route.methods:
            op = paths["/api/v1" + route.path][method.lower()]
            status = str(route.status_code or 200)
            content = op["responses"][status]["content"]
            assert "application/json" in content, (method, route.path, list(content))
            schema = content["application/json"]["schema"]
            assert "$ref" in schema or "$ref" in schema.get("items", {}), (method, route.path)


def test_schema_names_are_unique_across_the_app(client: TestClient) -> None:
    names = list(client.app.openapi()["components"]["schemas"])  # type: ignore[attr-defined]
    # FastAPI qualifies a name shared by two models with their module ("app__x__schemas__Name").
    assert [n for n in names if n.startswith("app__")] == []
    assert len(names) == len(set(names))


def test_a_view_key_the_model_lacks_is_an_error_not_dropped() -> None:
    class Shape(OutputModel):
        a: int

    try:
        Shape.model_validate({"a": 1, "b": 2})
    except ValueError:
        return
    raise AssertionError("an undeclared key was dropped silently")


def test_times_are_written_as_isoformat_and_optional_keys_stay_absent() -> None:
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    ballot = AgendaBallotOut(
        ballot_id=1, title="t", status="draft", status_label="草稿", starts_at=at, ends_at=at,
        notice_id=None, result_notice_id=None, matter_id=None, matter_missing=True,
        noticed_before_adoption=False, opened=False, closed=False, published=False)
    data = ballot.model_dump(mode="json")
    assert data["starts_at"] == "2026-03-01T08:00:00+00:00"
    assert "matter_title" not in data and "resolution" not in data
    assert data["notice_id"] is None  # declared always: present as null
