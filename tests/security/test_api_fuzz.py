"""Schemathesis against the app's own OpenAPI schema: no 5xx, every 4xx in the documented shape.

Every operation of /api/v1/openapi.json is fuzzed with schema-conforming and schema-violating
requests, as the committee member + platform admin, an owner, nobody, or a forged token; path
ids are often real ones of a seeded compound so that handlers run deep. Failures are collected
across all operations and reported together; the runs are derandomized, so they reproduce.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from sqlmodel import Session

from app.audit import service as audit_service
from app.clock import FrozenClock
from app.config import get_settings
from app.db import new_session
from app.files import service as files_service
from app.files.models import StoredFile
from app.notices import pdf
from app.roster.models import Compound
from app.voting.models import BallotResult, VoteCast
from tests.security.fuzz_helpers import (
    FUZZER,
    FuzzWorld,
    bearer_for,
    ensure_fuzzer_grants,
    ids_for_path,
    real_ids,
    seed_world,
)
from tests.voting.helpers import build_world

SCHEMA_PATH = "/api/v1/openapi.json"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Who sends a request, drawn per example: mostly the account that may call most routes.
IDENTITIES = ("fuzzer",) * 5 + ("owner",) * 2 + ("anonymous", "forged")
FORGED = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}
SCHEMA_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance,
                 negative_data_rejection]


@dataclass
class Finding:
    operation: str
    kind: str
    status: int
    request: str
    body: str


@dataclass
class FuzzRun:
    """What the fuzzer sent and what came back."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    deep: int = 0  # requests answered by a handler past authorization (not 401/403/404/422)
    operations: int = 0
    call_seconds: float = 0.0
    environment: int = 0  # 500s for the Chinese PDF font missing on this machine (CI has it)
    findings: list[Finding] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def summary(self) -> str:
        kinds = Counter((f.kind, f.operation) for f in self.findings)
        lines = [f"{n}× {kind} {op}" for (kind, op), n in kinds.most_common()]
        first: dict[tuple[str, str], Finding] = {}
        for f in sorted(self.findings, key=lambda f: f.kind != "server_error"):
            first.setdefault((f.kind, f.operation), f)
        lines += [f"--- {f.kind} {f.operation} → {f.status}\n{f.request}\n{f.body[:1500]}"
                  for f in list(first.values())[:20]]
        return "\n".join(lines)


class GuardedApp:
    """The ASGI app, keeping the exceptions that escaped it (the 500 is already sent)."""

    def __init__(self, app: Any, errors: list[BaseException]) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope.get("type") != "http":
                raise
            self.errors.append(exc)


def _font_missing_here(response: Any) -> bool:
    """The notice PDF needs a Chinese font that CI installs; a bare machine may lack it."""
    return not pdf.FONT_PATH.exists() and b'"pdf_font_missing"' in response.content


def error_shape_problem(response: Any) -> str | None:
    """Why a 4xx response is not {"error": code, "detail": Chinese message}, or None."""
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body is not an object"
    if not isinstance(body.get("error"), str) or not body["error"]:
        return "no string 'error'"
    if not isinstance(body.get("detail"), str) or not CJK.search(body["detail"]):
        return "'detail' is not a Chinese message"
    return None


class Fuzzer:
    """Sends generated cases to the app and checks every answer."""

    def __init__(self, fw: FuzzWorld, session: asgi.ASGIClient, run: FuzzRun) -> None:
        self.fw = fw
        self.session = session
        self.run = run
        self.found = real_ids(fw.cid)
        self.tokens: dict[str, dict[str, str]] = {}

    def refresh_credentials(self) -> None:
        ensure_fuzzer_grants(self.fw)
        self.tokens = {
            "fuzzer": bearer_for(username=FUZZER),
            "owner": bearer_for(phone=self.fw.owner_phone),
            "anonymous": {},
            "forged": FORGED,
        }

    def exercise(self, case: Any, data: st.DataObject) -> None:
        operation = f"{case.operation.method.upper()} {case.operation.path}"
        who = data.draw(st.sampled_from(IDENTITIES), label="identity")
        candidates = ids_for_path(case.operation.path, self.found)
        checks = SCHEMA_CHECKS
        if candidates and data.draw(st.integers(0, 9), label="real ids") < 7:
            for name, values in candidates.items():
                case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
            # The case's record of what it negated no longer holds: judge only the answer's shape.
            checks = [c for c in SCHEMA_CHECKS if c is not negative_data_rejection]
        headers = {**(case.headers or {}), **self.tokens[who]}
        case.headers = headers
        before = len(self.run.errors)
        started = time.perf_counter()
        response = case.call(session=self.session)
        self.run.call_seconds += time.perf_counter() - started
        self.run.requests += 1
        self.run.statuses[response.status_code] += 1
        status = response.status_code
        if status not in (401, 403, 404, 422):
            self.run.deep += 1

        text_body = response.content[:2000].decode("utf-8", "replace")

        def report(kind: str, body: str) -> None:
            sent = response.request
            text = f"{sent.method} {sent.url}\n{sent.body!r:.400}" if sent is not None else ""
            self.run.findings.append(Finding(operation, kind, status, text, body))

        if status >= 500 and _font_missing_here(response):
            self.run.environment += 1
            return
        if status >= 500:
            escaped = self.run.errors[before:]
            report("server_error", text_body + "".join(f"\n{e!r}" for e in escaped))
            return
        if 400 <= status < 500:
            problem = error_shape_problem(response)
            if problem:
                report(f"error_shape: {problem}", text_body)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                report(f"schema: {failure.title}", f"{failure.message}\n{text_body}")


def fuzz(fw: FuzzWorld, app: Any, *, at_least: int) -> FuzzRun:
    """Run every operation of the schema, sharing out `at_least` positive and negative cases."""
    run = FuzzRun()
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # A few operations have fewer distinct inputs than their share: a small margin covers them.
    examples = math.ceil(at_least * 1.04 / len(operations))
    guarded = GuardedApp(app, run.errors)
    with asgi.get_client(guarded) as session:
        fuzzer = Fuzzer(fw, session, run)
        for operation in operations:
            strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                                 operation.as_strategy(GenerationMode.NEGATIVE))
            fuzzer.refresh_credentials()

            @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], verbosity=Verbosity.quiet,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy, data=st.data())
            def exercise(case: Any, data: st.DataObject) -> None:
                fuzzer.exercise(case, data)

            exercise()
            run.operations += 1
    return run


def stored_state(fw: FuzzWorld) -> dict[str, Any]:
    """What bad input must never corrupt: audit chains, stored files, the closed ballot's record."""
    closed = fw.ballots["closed"]
    with new_session(write=False) as session:
        chains = {
            cid: audit_service.verify_compound(session, compound_id=cid)["ok"]
            for cid in session.execute(select(Compound.id)).scalars()
        }
        files = [(f.id, f.sha256, hashlib.sha256(files_service.read_bytes(f)).hexdigest())
                 for f in session.execute(select(StoredFile)).scalars()]
        results = session.execute(
            select(BallotResult.matter_id, BallotResult.passed, BallotResult.result_json)
            .where(BallotResult.ballot_id == closed).order_by(BallotResult.matter_id)).all()
        casts = session.execute(
            select(VoteCast.id, VoteCast.subject_id, VoteCast.choices_json, VoteCast.commitment,
                   VoteCast.superseded_at)
            .where(VoteCast.ballot_id == closed).order_by(VoteCast.id)).all()
    return {"chains": chains, "files": files, "results": [tuple(r) for r in results],
            "casts": [tuple(c) for c in casts]}


@pytest.fixture
def fuzz_world(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any,
               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FuzzWorld]:
    monkeypatch.setattr(get_settings(), "files_dir", tmp_path / "files")
    yield seed_world(db, client, frozen_clock, outbox)


def _fuzz_and_check(fw: FuzzWorld, app: Any, *, at_least: int) -> FuzzRun:
    before = stored_state(fw)
    assert before["results"] and before["casts"] and before["files"]
    run = fuzz(fw, app, at_least=at_least)
    print(f"\nfuzz: {run.requests} requests over {run.operations} operations, {run.deep} past "
          f"authorization and validation; statuses {dict(sorted(run.statuses.items()))}; "
          f"PDF font missing here: {run.environment}; {run.call_seconds:.0f} s in the app")
    assert not run.findings, run.summary()
    assert run.requests >= at_least
    assert run.deep >= run.requests // 10, "the fuzzer hardly reached the handlers"
    after = stored_state(fw)
    assert all(after["chains"].values()), after["chains"]
    assert all(sha == actual for _, sha, actual in after["files"])
    assert set(before["files"]) <= set(after["files"])
    assert (after["results"], after["casts"]) == (before["results"], before["casts"])
    return run


def test_fuzz_every_operation_briefly(fuzz_world: FuzzWorld, app: Any) -> None:
    _fuzz_and_check(fuzz_world, app, at_least=200)


@pytest.mark.heavy
def test_fuzz_every_operation_2000_requests(fuzz_world: FuzzWorld, app: Any) -> None:
    _fuzz_and_check(fuzz_world, app, at_least=2000)



def test_every_operation_documents_the_error_shape(app: Any) -> None:
    spec = app.openapi()
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) == {"error", "detail"}
    assert all(error_body["properties"][k]["type"] == "string" for k in ("error", "detail"))
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items() for method, op in operations.items()
        if {"$ref": "#/components/schemas/ErrorBody"} not in [
            media.get("schema") for media in op["responses"].get("4XX", {}).get("content", {})
            .values()]
    ]
    assert len(spec["paths"]) > 50 and undocumented == []


def test_the_bad_inputs_the_fuzzer_found_are_refused_in_the_error_shape(
    client: TestClient, db: Session
) -> None:
    """Regressions: each of these was a 500 or an English message before."""
    world = build_world(db, client)
    cases = [
        # A body that is not UTF-8 (FastAPI: "There was an error parsing the body").
        (client.post("/api/v1/auth/login", content=b"\xb4\xa9",
                     headers={"content-type": "application/json"}), {400: "bad_request"}),
        # Broken multipart framing (Starlette: "Invalid multipart data.").
        (client.post(world.url("/files"), content=b"--x\r\n35830959--x--\r\n",
                     headers={**world.committee,
                              "content-type": "multipart/form-data; boundary=x"}),
         {400: "bad_request"}),
        # Ids beyond the database's integers (SQLite: OverflowError; PostgreSQL compares them).
        (client.get(world.url(f"/ballots/{2**70}"), headers=world.committee),
         {422: "value_out_of_range", 404: "ballot_not_found"}),
        (client.post(world.url("/notices"), headers=world.committee,
                     json={"kind": "general", "title": "t", "attachment_file_ids": [2**70]}),
         {422: "value_out_of_range"}),
    ]
    for response, expected in cases:
        assert error_shape_problem(response) is None, response.text
        assert expected.get(response.status_code) == response.json()["error"], response.text
