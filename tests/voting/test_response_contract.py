"""The voting routes' OpenAPI document is their contract (issue 12)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from app.clock import FrozenClock
from app.main import create_app
from app.voting import responses
from app.voting.router import router
from tests.voting.helpers import build_world, open_ballot


def test_every_voting_route_declares_its_response() -> None:
    untyped = []
    for route in router.routes:
        assert isinstance(route, APIRoute)
        # A file download declares its response class; everything else a response model.
        if route.response_model is None and route.response_class.__name__ == "JSONResponse":
            untyped.append(f"{sorted(route.methods)} {route.path}")
    assert untyped == []


def test_voting_response_schemas_are_unique_and_named_in_the_openapi_document() -> None:
    schemas = create_app().openapi()["components"]["schemas"]
    ours = {name for name, value in vars(responses).items()
            if isinstance(value, type) and issubclass(value, responses.Out) and value is not responses.Out}
    assert ours <= set(schemas)  # not mangled into module-qualified names by a collision
    detail = schemas["BallotDetailOut"]
    assert "rule_text" in schemas["BallotMatterOut"]["required"]
    assert detail["properties"]["my_subjects"]["items"]["$ref"].endswith("/BallotMySubjectOut")
    assert "as" in schemas["BallotMySubjectOut"]["properties"]  # the key owners' clients read


def test_a_presenter_key_missing_from_the_contract_is_refused() -> None:
    with pytest.raises(ValidationError):
        responses.BallotObjectionOut.model_validate({
            "id": 1, "subject_id": 2, "text": "t", "raised_at": "2026-03-02T02:00:00+00:00",
            "answer": None, "answered_at": None, "raised_by": 7})


def test_times_keep_their_iso_form(client: TestClient, db: Session, frozen_clock: FrozenClock) -> None:
    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    assert ballot["starts_at"] == "2026-03-16T16:00:00+00:00"
    assert ballot["opened_at"].endswith("+00:00")
    assert [s["as"] for s in ballot["my_subjects"]] == []
