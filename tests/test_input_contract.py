"""The input contract, walked from the OpenAPI document: every request body refuses what it does not know.

Statically, every JSON request body model derives from `app.schemas.InputModel` and every object
in a request body schema says `additionalProperties: false`, except the few free-form maps listed
in FREE_FORM (each refuses unknown keys in its service, tested below). Dynamically, every write
route with a JSON body gets a schema-valid example built from its schema plus one unknown field,
at the top and inside each nested object, and must answer 422 `unknown_field` naming it; the
same request without a token gets 401, so validation never tells an anonymous caller more than
that they must sign in (FastAPI resolves a route's dependencies, authorization included, before
it validates the body). A new route whose body model does not forbid extras fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.params import Form
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from app.schemas import InputModel
from tests.security.access_helpers import (
    ADMIN,
    ANONYMOUS,
    CLERK,
    COMMITTEE,
    EXPECTED,
    OBSERVER,
    OWNER,
    REVIEWER,
    CompoundWorld,
    build_compound,
)

UNKNOWN = "gongjue_unknown_field"
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]+ [a-z]+ [a-z]+")  # a sentence of pydantic's ("Input should be")
WRITE_METHODS = ("post", "put", "patch", "delete")
# Free-form maps in request bodies: their keys are data, not fields; each refuses unknown keys
# in its service (schema name, property).
FREE_FORM = {
    ("VoteIn", "choices"),  # matter id -> choice: vote_unknown_matter, vote_choice_invalid
    ("PaperIn", "choices"),
    ("LedgerSettingsIn", "decision_rules"),  # category -> fen: ledger_category_invalid
    ("StructuredContent", "data"),  # the publishing domain's own record, never printed
    ("ProcedureSettingsIn", "extra_major_matters"),  # items: MajorMatter (forbid)
    ("ProcedureTemplateIn", "steps"),  # items: StepSpec (forbid), with the template's order checks
}
# Who acts on a route in the example world (tests/security/access_helpers.py), by preference.
LOGIN_OF = {COMMITTEE: "wy", ADMIN: "admin", REVIEWER: "sh", CLERK: "wg", OBSERVER: "gc",
            OWNER: "owner0"}
# Texts for string patterns; a pattern none of them fits needs `examples` on its field.
PATTERN_TEXTS = ("123456", "example_1", "示例")


# --- the OpenAPI document --------------------------------------------------------------------


def _spec(client: TestClient) -> dict[str, Any]:
    return client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = schema.get("$ref")
    if ref is None:
        return None, schema
    name = ref.rsplit("/", 1)[-1]
    return name, spec["components"]["schemas"][name]


def json_writes(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, body schema) of every write route that takes a JSON body."""
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if method in WRITE_METHODS and "application/json" in content:
                out.append((method.upper(), path, content["application/json"]["schema"]))
    return sorted(out, key=lambda r: (r[1].startswith("/api/v1/auth"), r[1], r[0]))


def _objects(spec: dict[str, Any], schema: dict[str, Any], where: str,
             seen: set[str]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """Every object schema reachable in a request body: (where, model name, schema)."""
    name, schema = _resolve(spec, schema)
    if name is not None:
        if name in seen:
            return
        seen = seen | {name}
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _objects(spec, option, where, seen)
    if "items" in schema:
        yield from _objects(spec, schema["items"], where + "[]", seen)
    if schema.get("type") == "object" or "properties" in schema:
        yield where, name, schema
        for prop, sub in schema.get("properties", {}).items():
            yield from _objects(spec, sub, f"{where}.{prop}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield from _objects(spec, extra, where + ".*", seen)


def test_every_json_body_forbids_unknown_fields_in_the_openapi_document(client: TestClient) -> None:
    spec = _spec(client)
    writes = json_writes(spec)
    assert len(writes) >= 40  # the walk found the API (every JSON write route)
    loose = []
    for method, path, body in writes:
        name, resolved = _resolve(spec, body)
        assert name is not None and "properties" in resolved, f"{method} {path}: the body is not a model"
        for where, model, schema in _objects(spec, body, f"{method} {path}", set()):
            if schema.get("properties") and schema.get("additionalProperties") is not False:
                loose.append(f"{where} ({model})")
        for model_name, model in _named_objects(spec, body):
            for prop, sub in model.get("properties", {}).items():
                _, target = _resolve(spec, _non_null(sub))
                if target.get("type") == "array":
                    target = _resolve(spec, _non_null(target.get("items", {})))[1]
                if _free_form(target) and (model_name, prop) not in FREE_FORM:
                    loose.append(f"{method} {path}: {model_name}.{prop} is a free-form map")
    assert loose == [], "request bodies that accept unknown fields:\n" + "\n".join(sorted(set(loose)))


def _free_form(schema: dict[str, Any]) -> bool:
    """An object without declared properties, or a value of any shape (`Any`)."""
    if schema.get("type") == "object":
        return not schema.get("properties")
    return not any(k in schema for k in ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"))


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    return options[0] if len(options) == 1 else schema


def _named_objects(spec: dict[str, Any], body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every named model reachable from a body schema."""
    todo, seen = [body], set()
    while todo:
        schema = todo.pop()
        name, resolved = _resolve(spec, schema)
        if name is not None:
            if name in seen:
                continue
            seen.add(name)
            yield name, resolved
        for option in resolved.get("anyOf", []) + resolved.get("oneOf", []):
            todo.append(option)
        if isinstance(resolved.get("items"), dict):
            todo.append(resolved["items"])
        todo.extend(s for s in resolved.get("properties", {}).values() if isinstance(s, dict))


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and inner is not route:
            yield from _api_routes(list(getattr(inner, "routes", [])))


def body_models(client: TestClient) -> dict[tuple[str, str], Any]:
    """(METHOD, full path) -> the body model of every JSON write route (routes keep their path
    without the /api/v1 prefix: matched by the longest suffix)."""
    routes = [r for r in _api_routes(client.app.routes)  # type: ignore[attr-defined]
              if r.body_field is not None and not isinstance(r.body_field.field_info, Form)]
    out = {}
    for method, path, _ in json_writes(_spec(client)):
        found = [r for r in routes if method in (r.methods or ()) and path.endswith(r.path)]
        assert found, f"{method} {path}: no route with a body"
        out[(method, path)] = max(found, key=lambda r: len(r.path)).body_field.field_info.annotation
    return out


def test_every_body_model_derives_from_input_model(client: TestClient) -> None:
    models = body_models(client)
    wrong = {f"{m} {p}": getattr(model, "__name__", str(model)) for (m, p), model in models.items()
             if not (isinstance(model, type) and issubclass(model, InputModel))}
    assert wrong == {}, f"body models not derived from app.schemas.InputModel: {wrong}"


# --- examples built from the schema ------------------------------------------------------------


def example(spec: dict[str, Any], schema: dict[str, Any], *, full: bool = False) -> Any:
    """A value the schema accepts: required properties only, or every property when `full`."""
    _, schema = _resolve(spec, schema)
    if "examples" in schema:
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return example(spec, options[0], full=full)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        wanted = props if full else {k: props[k] for k in schema.get("required", [])}
        return {k: example(spec, v, full=full) for k, v in wanted.items()}
    if kind == "array":
        return [example(spec, schema["items"], full=full)] * max(schema.get("minItems", 0), int(full))
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date":
            return "2026-03-20"
        if schema.get("format") == "date-time":
            return "2026-03-20T09:00:00+08:00"
        if "pattern" in schema:
            fits = [t for t in PATTERN_TEXTS if re.fullmatch(schema["pattern"], t)]
            assert fits, f"no example text fits {schema['pattern']!r}: give the field `examples`"
            return fits[0]
        return "示例" * max(1, (schema.get("minLength", 1) + 1) // 2)
    if kind == "null":
        return None
    raise AssertionError(f"no example for schema {schema}")


def model_paths(spec: dict[str, Any], schema: dict[str, Any], value: Any,
                path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The location of every model object inside an example (the body itself included); free-form
    maps are data, not models, and are left out."""
    _, schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            yield from model_paths(spec, options[0], value, path)
            return
    if isinstance(value, dict) and schema.get("properties"):
        yield path
        for k, v in value.items():
            yield from model_paths(spec, schema["properties"][k], v, (*path, k))
    elif isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            yield from model_paths(spec, schema["items"], v, (*path, i))


def with_unknown(value: Any, at: tuple[Any, ...]) -> Any:
    """A deep copy of the example with UNKNOWN added to the object at `at`."""
    if not at:
        return {**value, UNKNOWN: 1}
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[at[0]] = with_unknown(value[at[0]], at[1:])
    return copy


def test_examples_are_valid_for_their_models(client: TestClient) -> None:
    """The generator itself: each example (minimal and full) validates against its model."""
    spec = _spec(client)
    models = body_models(client)
    for method, path, body in json_writes(spec):
        for full in (False, True):
            models[(method, path)].model_validate(example(spec, body, full=full))


# --- every write route, for real ---------------------------------------------------------------


@pytest.fixture
def world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> CompoundWorld:
    return build_compound(db, client, frozen_clock, outbox, tag="a", community="甲社区", base=0)


def _who(method: str, path: str) -> str | None:
    allowed = EXPECTED[(method, path)]
    if ANONYMOUS in allowed:
        return None
    return next(LOGIN_OF[p] for p in LOGIN_OF if p in allowed)


def test_every_write_route_refuses_an_unknown_field(client: TestClient, world: CompoundWorld) -> None:
    spec = _spec(client)
    writes = json_writes(spec)
    wrong = []
    checked = 0
    for method, path, schema in writes:
        url = world.fill(path)
        who = _who(method, path)
        headers = world.h(who) if who else {}
        full = example(spec, schema, full=True)
        for at in model_paths(spec, schema, full):
            body = with_unknown(full if at else example(spec, schema), at)
            r = client.request(method, url, headers=headers, json=body)
            name = ".".join(str(p) for p in (*at, UNKNOWN))
            got = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            ok = (r.status_code == 422 and got.get("error") == "unknown_field"
                  and name in got.get("detail", "") and "不支持的字段" in got.get("detail", "")
                  and {"field": name, "message": "不支持的字段"} in got.get("fields", []))
            if not ok:
                wrong.append((method, path, name, r.status_code, r.text[:200]))
            checked += 1
        # Every field of the wrong JSON type: each one named, every message in Chinese.
        props = _resolve(spec, schema)[1]["properties"]
        r = client.request(method, url, headers=headers, json={key: [[]] for key in props})
        got = r.json()
        if not (r.status_code == 422 and got.get("error") == "validation_error"
                and all(any(f["field"] == k or f["field"].startswith(f"{k}.") for f in got["fields"])
                        for k in props)
                and all(CJK.search(f["message"]) for f in got["fields"])
                and not ENGLISH.search(got["detail"])):
            wrong.append((method, path, "wrong types", r.status_code, r.text[:300]))
        if who is not None:
            # Without a token: 401 before any word about the body.
            r = client.request(method, url, json=with_unknown(example(spec, schema), ()))
            if r.status_code != 401:
                wrong.append((method, path, "anonymous", r.status_code, r.text[:200]))
    assert wrong == [], "\n".join(map(str, wrong))
    assert checked > len(writes)  # nested objects were reached too

    # Each example without the unknown field passes validation (whatever the route then decides
    # about it), so the 422s above are the unknown field's alone. Sign-in routes go last: logout
    # ends the session whose token the others use.
    for method, path, schema in writes:
        who = _who(method, path)
        r = client.request(method, world.fill(path), headers=world.h(who) if who else {},
                           json=example(spec, schema, full=True))
        assert r.json().get("error") not in ("unknown_field", "validation_error"), (method, path, r.text)


def test_a_misplaced_setting_is_refused_and_its_place_named(client: TestClient, world: CompoundWorld) -> None:
    """The README's old settings example: 200 and nothing changed; now a 422 that says where it goes."""
    before = client.get(world.url("/voting/settings"), headers=world.h("wy")).json()
    r = client.put(world.url("/voting/settings"), headers=world.h("wy"), json={"quorum": ">=3/4"})
    assert r.status_code == 422, r.text
    assert r.json() == {
        "error": "unknown_field",
        "detail": "不支持的字段：quorum（请求体中不接受此字段；quorum 应写在 thresholds 中）",
        "fields": [{"field": "quorum", "message": "不支持的字段，应写在 thresholds 中"}],
    }
    r = client.put(world.url("/voting/settings"), headers=world.h("wy"),
                   json={"thresholds": {"quorom": ">=3/4"}})  # a typo inside the object
    assert r.status_code == 422 and r.json()["error"] == "unknown_field", r.text
    assert "thresholds.quorom" in r.json()["detail"]
    assert client.get(world.url("/voting/settings"), headers=world.h("wy")).json() == before


@pytest.mark.parametrize(("path", "body", "code", "named"), [
    ("/procedures/settings", {"template_key": "sanyi_yishen", "extra_major_matters": [
        {"key": "garden", "label": "绿地改造", "keywords": ["绿地"], "color": "green"}]},
     "major_matter_invalid", "color"),
    ("/ledger/settings", {"decision_rules": {"维修养护": 100, "旅游": 0}}, "ledger_category_invalid", "旅游"),
])
def test_free_form_maps_refuse_unknown_keys_in_their_service(
    client: TestClient, world: CompoundWorld, path: str, body: dict[str, Any], code: str, named: str,
) -> None:
    r = client.put(world.url(path), headers=world.h("wy"), json=body)
    assert r.status_code == 422 and r.json()["error"] == code, r.text
    assert named in r.json()["detail"]


def test_a_template_step_with_an_unknown_field_is_refused(client: TestClient, world: CompoundWorld) -> None:
    template = client.get(world.url("/procedures/templates"), headers=world.h("wy")).json()[0]
    steps = [{k: v for k, v in s.items() if k in _STEP_FIELDS} for s in template["steps"]]
    steps[0]["colour"] = "red"
    r = client.post(world.url("/procedures/templates"), headers=world.h("wy"),
                    json={"name": "自定义", "steps": steps})
    assert r.status_code == 422 and r.json()["error"] == "procedure_template_invalid", r.text
    assert r.json()["detail"] == "模板格式有误：steps.0.colour：不支持的字段"


_STEP_FIELDS = ("key", "name", "kind", "creates", "roles", "actions", "bodies", "gate",
                "only_if_passed", "deadline_days", "organization", "description")


# --- multipart forms ---------------------------------------------------------------------------


def form_writes(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, form schema) of every write route that takes a multipart form."""
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if method in WRITE_METHODS and "multipart/form-data" in content:
                out.append((method.upper(), path, _resolve(spec, content["multipart/form-data"]["schema"])[1]))
    return sorted(out)


def test_every_form_route_refuses_unknown_fields(client: TestClient, world: CompoundWorld) -> None:
    """Uploads: a form field the route does not declare is refused (after authorization)."""
    spec = _spec(client)
    forms = form_writes(spec)
    assert len(forms) >= 3
    wrong = []
    for method, path, schema in forms:
        fields = {k: "true" if v.get("type") == "boolean" else "document"
                  for k, v in schema["properties"].items() if v.get("format") != "binary"
                  and v.get("contentMediaType") != "application/octet-stream"}
        files = {"file": ("x.csv", b"a,b\n", "text/csv")}
        url = world.fill(path)
        who = _who(method, path)
        assert who is not None
        r = client.request(method, url, headers=world.h(who), data={**fields, UNKNOWN: "1"}, files=files)
        if not (r.status_code == 422 and r.json().get("error") == "unknown_field"
                and UNKNOWN in r.json().get("detail", "")):
            wrong.append((method, path, r.status_code, r.text[:200]))
        r = client.request(method, url, data={**fields, UNKNOWN: "1"}, files=files)
        if r.status_code != 401:
            wrong.append((method, path, "anonymous", r.status_code, r.text[:200]))
    assert wrong == [], "\n".join(map(str, wrong))


def test_every_form_route_declares_its_fields(client: TestClient) -> None:
    """A new upload route must list its form fields with app.schemas.only_form_fields."""
    spec = _spec(client)
    routes = [r for r in _api_routes(client.app.routes)  # type: ignore[attr-defined]
              if r.body_field is not None and isinstance(r.body_field.field_info, Form)]
    assert len(routes) == len(form_writes(spec))
    missing = [r.path for r in routes
               if not any("only_form_fields" in getattr(d.call, "__qualname__", "")
                          for d in r.dependant.dependencies)]
    assert missing == []
