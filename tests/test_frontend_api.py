"""The front end's API layer against the server's contract (the OpenAPI document).

Every call the front end makes is written once, in a domain's `frontend/src/<domain>/api.js` (or the
shared client `frontend/src/shared/api.js`). These tests read those files as text and check each
call's method and path template against `create_app().openapi()["paths"]`, and that no other file
of the front end writes an API path or calls the HTTP client itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.main import create_app

SRC = Path(__file__).resolve().parents[1] / "frontend" / "src"
PREFIX = "/api/v1"

# A quoted path: '…' or `…` (template literals may hold ${…} placeholders, never a backtick).
_LITERAL = r"(?P<q>['`])(?P<path>/[^'`\s]*)(?P=q)"
# The client's ways to reach the server, with the HTTP method each one uses.
_CALLS = [
    (re.compile(r"\bapi\.get\(\s*" + _LITERAL), "get"),
    (re.compile(r"\bapi\.post\(\s*" + _LITERAL), "post"),
    (re.compile(r"\bapi\.put\(\s*" + _LITERAL), "put"),
    (re.compile(r"\bapi\.patch\(\s*" + _LITERAL), "patch"),
    (re.compile(r"\bapi\.del\(\s*" + _LITERAL), "delete"),
    (re.compile(r"\bapi\.upload\(\s*" + _LITERAL), "post"),
    (re.compile(r"\bdownload\(\s*" + _LITERAL), "get"),
    (re.compile(r"\bapiUrl\(\s*" + _LITERAL), "get"),
    (re.compile(r"\bfetch\(\s*API\s*\+\s*" + _LITERAL), "post"),  # the client's own refresh
]
_ANY_LITERAL = re.compile(_LITERAL)
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Calls to the HTTP client that only api.js files may make.
_CLIENT_CALL = re.compile(
    r"\b(?:api\.(?:get|post|put|patch|del|upload)|download|apiUrl|request|fetch)\("
)


def _api_files() -> list[Path]:
    return sorted(SRC.rglob("api.js"))


def _other_files() -> list[Path]:
    files = [*SRC.rglob("*.vue"), *SRC.rglob("*.js")]
    return sorted(f for f in files if f.name != "api.js")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"(?m)(^|[^:'\"`])//.*$", r"\1", text)


def _template(path: str) -> str:
    """A client path with its placeholders as `{}`: `/compounds/${cid}/ballots` → `/compounds/{}/ballots`."""
    return _PLACEHOLDER.sub("{}", path.split("?")[0])


def _route_pattern(openapi_path: str) -> re.Pattern[str]:
    """An OpenAPI path as a pattern a client template must match: a `{name}` parameter matches the
    client's `{}` placeholder, or a literal value (the statement's `.pdf` route names its format)."""
    parts = re.split(r"(\{[^}]+\})", openapi_path.removeprefix(PREFIX))
    body = "".join(r"(?:\{\}|[^/{}]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(body)


@pytest.fixture(scope="module")
def contract() -> dict[str, set[str]]:
    paths = create_app().openapi()["paths"]
    return {path: {m.lower() for m in ops} for path, ops in paths.items()}


def _calls() -> list[tuple[str, str, str]]:
    out = []
    for f in _api_files():
        text = _strip_comments(f.read_text(encoding="utf-8"))
        for pattern, method in _CALLS:
            for m in pattern.finditer(text):
                out.append((f.relative_to(SRC).as_posix(), method, _template(m.group("path"))))
    return out


def _matching(template: str, contract: dict[str, set[str]]) -> list[str]:
    return [p for p in contract if _route_pattern(p).fullmatch(template)]


def test_every_domain_has_its_api_module() -> None:
    found = {f.relative_to(SRC).as_posix() for f in _api_files()}
    for domain in (
        "voting",
        "notices",
        "roster",
        "procedures",
        "ledger",
        "audit",
        "auth",
        "shared",
    ):
        assert f"{domain}/api.js" in found


def test_the_parser_reads_the_calls() -> None:
    # A parser that found nothing would pass the contract test below vacuously.
    calls = _calls()
    assert len(calls) > 80
    assert ("voting/api.js", "get", "/compounds/{}/ballots/{}") in calls
    assert ("notices/api.js", "patch", "/compounds/{}/notices/{}") in calls
    assert ("shared/api.js", "post", "/auth/refresh") in calls


def test_every_call_exists_in_the_openapi_document_with_its_method(
    contract: dict[str, set[str]],
) -> None:
    problems = []
    for where, method, template in _calls():
        routes = _matching(template, contract)
        if not routes:
            problems.append(f"{where}: {method.upper()} {template} is no route of the API")
        elif not any(method in contract[r] for r in routes):
            problems.append(
                f"{where}: {template} has no {method.upper()} (only {sorted(contract[routes[0]])})"
            )
    assert not problems, "\n".join(problems)


def test_every_call_in_a_domain_api_module_names_its_path() -> None:
    # A path built in a variable would escape the contract check; the domains write theirs out.
    problems = []
    for f in _api_files():
        if f.parent == SRC / "shared":
            continue  # the client itself passes paths through
        text = _strip_comments(f.read_text(encoding="utf-8"))
        for m in _CLIENT_CALL.finditer(text):
            if not re.match(r"\s*" + _LITERAL, text[m.end() :]):
                problems.append(
                    f"{f.relative_to(SRC).as_posix()}: {text[m.start() : m.start() + 50]!r}"
                )
    assert not problems, "\n".join(problems)


def test_every_path_in_an_api_module_is_a_route(contract: dict[str, set[str]]) -> None:
    # Paths written outside a call (a helper's prefix, say) must still name real routes.
    problems = []
    for f in _api_files():
        for m in _ANY_LITERAL.finditer(_strip_comments(f.read_text(encoding="utf-8"))):
            template = _template(m.group("path"))
            if template != PREFIX and not _matching(template, contract):
                problems.append(f"{f.relative_to(SRC).as_posix()}: {template}")
    assert not problems, "\n".join(problems)


def test_no_screen_writes_an_api_path_or_calls_the_client(contract: dict[str, set[str]]) -> None:
    api_roots = {p.removeprefix(PREFIX).split("/")[1] for p in contract}
    assert {"compounds", "auth"} <= api_roots
    root = re.compile(r"['`]/(" + "|".join(sorted(map(re.escape, api_roots))) + r")(?=[/'`?$])")
    problems = []
    for f in _other_files():
        text = _strip_comments(f.read_text(encoding="utf-8"))
        for m in root.finditer(text):
            problems.append(
                f"{f.relative_to(SRC).as_posix()}: API path {text[m.start() : m.start() + 40]!r}"
            )
        for m in _CLIENT_CALL.finditer(text):
            problems.append(
                f"{f.relative_to(SRC).as_posix()}: calls the HTTP client ({m.group(0)})"
            )
    assert not problems, "\n".join(problems)


EARLY = SRC.parent / "early.js"


def test_the_early_start_asks_only_for_gets_its_pages_already_make(
    contract: dict[str, set[str]],
) -> None:
    """frontend/early.js asks for a landing page's data before the app runs (the app takes each
    answer for its first identical GET): every path it asks for is a GET that an api.js module
    makes, and a GET route of the API; and it calls nothing but fetch for those."""
    text = _strip_comments(EARLY.read_text(encoding="utf-8"))
    asked = [p for p in re.findall(r"'(/[a-z][^'\s]*)'", text) if p != PREFIX]
    assert "/auth/me" in asked and "/compounds/$1/ballots/$2" in asked  # the parser reads them
    gets = {template for _, method, template in _calls() if method == "get"}
    problems = []
    for path in asked:
        template = re.sub(r"\$\d", "{}", path)
        if template not in gets:
            problems.append(f"early.js: GET {path} is made by no api.js module")
        routes = _matching(template, contract)
        if not any("get" in contract[r] for r in routes):
            problems.append(f"early.js: GET {path} is no GET route of the API")
    assert not problems, "\n".join(problems)
    assert re.findall(r"\bfetch\(", text) == ["fetch("], "early.js makes exactly one kind of call"
    assert "method" not in text, "early.js only reads (GET)"
