"""The OpenAPI document is the contract: models, security, unique names (issue 12)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

PREFIX = "/api/v1"
# Routes answering without a declared model, as (method, path under /api/v1): none; a new route
# without one fails, and so does a listed route that has one.
STILL_WITHOUT_MODEL: set[tuple[str, str]] = set()
# Operations anyone may call: signing in, and the audit chain's public key.
PUBLIC = {
    ("POST", "/auth/otp/request"), ("POST", "/auth/otp/verify"), ("POST", "/auth/login"),
    ("POST", "/auth/refresh"), ("GET", "/audit/public-key"),
}


def _spec(client: TestClient) -> dict[str, Any]:
    return client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def _operations(spec: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path.removeprefix(PREFIX), operation


def _declares_model(operation: dict[str, Any]) -> bool:
    """A 2xx answer that is a named schema (or a list/union of them), or a file download."""
    code = next(c for c in operation["responses"] if c.startswith("2"))
    content = operation["responses"][code].get("content", {})
    if code == "204" or set(content) - {"application/json"}:
        return True
    return "$ref" in json.dumps(content.get("application/json", {}).get("schema", {}))


def test_every_route_declares_its_response_model(client: TestClient) -> None:
    without = {(m, p) for m, p, op in _operations(_spec(client)) if not _declares_model(op)}
    assert without - STILL_WITHOUT_MODEL == set(), "new routes without a response model"
    assert STILL_WITHOUT_MODEL - without == set(), "stale: these now have a model; delete the lines"


def test_schema_names_are_unique(client: TestClient) -> None:
    """FastAPI disambiguates two models of one name as app__pkg__module__Name: a generated
    client then drops one of them. Every component has its own name."""
    names = list(_spec(client)["components"]["schemas"])
    assert [n for n in names if n.startswith("app__")] == []
    assert {"LedgerSettingsIn", "ProcedureSettingsIn", "VotingSettingsIn"} <= set(names)


def test_security_schemes_are_declared(client: TestClient) -> None:
    schemes = _spec(client)["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"]["in"] == "cookie" and schemes["cookieAuth"]["name"] == "gj_access"
    assert schemes["csrfHeader"]["in"] == "header"
    assert schemes["csrfHeader"]["name"] == "x-csrf-token"


def test_security_matches_what_the_server_enforces(client: TestClient) -> None:
    """Each operation marked `security` refuses an anonymous caller with 401, and each one that
    refuses is so marked; a write by cookie also names the CSRF header."""
    mismatched = []
    for method, path, operation in _operations(_spec(client)):
        url = PREFIX + re.sub(r"\{[^}]+\}", "1", path).replace("/1/statement", "/2026-01-01/statement")
        url = re.sub(r"/periods/1(/|$)", r"/periods/2026-01-01\1", url)
        status = client.request(method, url).status_code
        security = operation.get("security")
        if (method, path) in PUBLIC:
            if security or status == 401:
                mismatched.append((method, path, status, "public"))
            continue
        if not security or status != 401:
            mismatched.append((method, path, status, security))
            continue
        cookie = next(r for r in security if "cookieAuth" in r)
        if (method in {"GET", "HEAD"}) == ("csrfHeader" in cookie):
            mismatched.append((method, path, "csrf", cookie))
        assert {"bearerAuth": []} in security
    assert mismatched == []
