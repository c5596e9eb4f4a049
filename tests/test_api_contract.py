"""The OpenAPI document is the contract: models, security, unique names (issue 12)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

PREFIX = "/api/v1"
# Routes still answering with an untyped dict on this branch, as (method, path under /api/v1).
# Other slices are giving them response models; the test fails once one of them has a model, so
# whoever merges deletes the line. The list only shrinks: a new route without a model fails.
STILL_WITHOUT_MODEL = {
    ("PUT", "/compounds/{compound_id}/subjects/{subject_id}/representative"),
    ("GET", "/compounds/{compound_id}/ledger/settings"),
    ("PUT", "/compounds/{compound_id}/ledger/settings"),
    ("GET", "/compounds/{compound_id}/ledger/status"),
    ("GET", "/compounds/{compound_id}/ledger/decisions"),
    ("POST", "/compounds/{compound_id}/ledger/entries"),
    ("GET", "/compounds/{compound_id}/ledger/entries"),
    ("GET", "/compounds/{compound_id}/ledger/entries/{entry_id}"),
    ("POST", "/compounds/{compound_id}/ledger/entries/{entry_id}/approve"),
    ("POST", "/compounds/{compound_id}/ledger/entries/{entry_id}/reject"),
    ("POST", "/compounds/{compound_id}/ledger/entries/{entry_id}/reverse"),
    ("GET", "/compounds/{compound_id}/ledger/periods"),
    ("GET", "/compounds/{compound_id}/ledger/periods/{start_date}"),
    ("POST", "/compounds/{compound_id}/ledger/periods/{start_date}/close"),
    ("POST", "/compounds/{compound_id}/ledger/periods/{start_date}/audit-report"),
    ("GET", "/compounds/{compound_id}/ledger/periods/{start_date}/audit-report"),
    ("POST", "/compounds/{compound_id}/ledger/periods/{start_date}/publish"),
    ("POST", "/compounds/{compound_id}/ledger/imports"),
    ("GET", "/compounds/{compound_id}/ledger/imports"),
    ("GET", "/compounds/{compound_id}/ledger/imports/{import_id}"),
    ("POST", "/compounds/{compound_id}/ledger/imports/{import_id}/rows/{row_id}/accept"),
    ("POST", "/compounds/{compound_id}/ledger/imports/{import_id}/rows/{row_id}/discard"),
    ("GET", "/compounds/{compound_id}/procedures/settings"),
    ("PUT", "/compounds/{compound_id}/procedures/settings"),
    ("GET", "/compounds/{compound_id}/procedures/templates"),
    ("POST", "/compounds/{compound_id}/procedures/templates"),
    ("GET", "/compounds/{compound_id}/procedures/items"),
    ("POST", "/compounds/{compound_id}/procedures/items"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/revisions"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/decisions"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}/linkable-ballots"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/ballot-link"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/resolution"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/publications"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/observations"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}/timeline"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}/ballot/progress"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}/ballot/tally-inputs"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}/audit"),
    ("GET", "/compounds/{compound_id}/procedures/observers"),
    ("POST", "/compounds/{compound_id}/procedures/observers"),
    ("POST", "/compounds/{compound_id}/procedures/observers/{grant_id}/revoke"),
    ("GET", "/compounds/{compound_id}/procedures/items/{item_id}/observers"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/observers"),
    ("POST", "/compounds/{compound_id}/procedures/items/{item_id}/observers/{appointment_id}/revoke"),
    ("GET", "/reviewer/queue"),
}
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
