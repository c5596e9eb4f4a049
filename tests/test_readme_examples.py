"""README's API examples are executed, so a documented request that does nothing cannot come back.

What counts as an example, and what is checked:
- A fenced ```http block holds one or more requests (separated by `###`, as in VS Code's REST
  Client and JetBrains' HTTP client): `METHOD /api/v1/…` (placeholders `{compound_id}` or `{id}`
  for the compound), headers, a blank line, a JSON body. Each runs as a committee member of a
  fresh compound and must answer 2xx with every field it sent: a PUT is read back with a GET of
  the same path, which must show the values sent and must not have shown them before (the
  request had an effect); a POST's answer must show them.
- A fenced ```sh block with `curl` runs its curl requests (ids in the URL mapped to a compound
  with a published ballot) and its `python -m app.…` commands; each must succeed.
- Inline, a code span `METHOD /api/v1/…` or `METHOD …/suffix` must name a route the API serves;
  a body sketch next to it (`{"field", "other": …}`, in the same span or the one right after)
  may name only fields of that route's body, and a body that is complete JSON is run like a
  block.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import FrozenClock
from tests.security.access_helpers import CompoundWorld, build_compound
from tests.test_input_contract import json_writes
from tests.voting.helpers import World, build_world

README = Path(__file__).resolve().parent.parent / "README.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
INLINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) ((?:/api/v1|…)/\S*)(?:\s+(\{.*\}))?$", re.S)
BENCH_ONLY = "/api/v1/bench/"  # served only by bench.ceiling:create_app (README: Performance)


def _text() -> str:
    return README.read_text(encoding="utf-8")


def http_requests(text: str) -> list[tuple[str, str, Any]]:
    """(METHOD, path, body) of every request in the README's ```http blocks."""
    out = []
    for block in re.findall(r"^```http\n(.*?)^```", text, re.S | re.M):
        for part in re.split(r"^###.*$", block, flags=re.M):
            lines = [ln for ln in part.strip().splitlines() if not ln.startswith("#")]
            if not lines:
                continue
            method, path, *_ = lines[0].split()
            head, _, body = "\n".join(lines[1:]).partition("\n\n")
            if not body and head and not re.match(r"^[\w-]+:", head):
                head, body = "", head  # no headers: the body follows the request line
            assert method in METHODS, lines[0]
            out.append((method, path, json.loads(body) if body.strip() else None))
    return out


def inline_requests(text: str) -> list[tuple[str, str, str | None]]:
    """(METHOD, path, body sketch or None) of every inline `METHOD path` code span."""
    prose = re.sub(r"^[ \t]*```.*?^[ \t]*```", "", text, flags=re.S | re.M)  # fences may be indented
    spans = list(re.finditer(r"`([^`]+)`", prose))
    out = []
    for i, span in enumerate(spans):
        match = INLINE.match(span.group(1).strip())
        if not match:
            continue
        method, path, sketch = match.groups()
        following = spans[i + 1] if i + 1 < len(spans) else None
        if (sketch is None and following is not None and not prose[span.end():following.start()].strip()
                and following.group(1).lstrip().startswith("{")):
            sketch = following.group(1)
        out.append((method, path, sketch))
    return out


def top_level_keys(sketch: str) -> list[str]:
    """The keys of a body sketch's outer object: `{"a", "b": {"x": 1}|…}` -> ["a", "b"]."""
    keys, depth, before = [], 0, ""
    for token in re.findall(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,|]', sketch):
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
        elif token.startswith('"') and depth == 1 and before in ("{", ","):
            keys.append(json.loads(token))
        before = "str" if token.startswith('"') else token
    return keys


def _pattern(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def routes_for(spec: dict[str, Any], method: str, path: str) -> list[str]:
    """The API paths a README path names: a full path, or `…/suffix` (placeholders by position)."""
    wanted = _pattern(path.removeprefix("…"))
    found = []
    for api_path, ops in spec["paths"].items():
        if method.lower() not in ops:
            continue
        mine = _pattern(api_path)
        if mine == wanted or (path.startswith("…") and mine.endswith(wanted)):
            found.append(api_path)
    return found


def contains(got: Any, sent: Any) -> bool:
    """Whether an answer shows every value sent (objects by key, lists item by item)."""
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(k in got and contains(got[k], v) for k, v in sent.items())
    if isinstance(sent, list):
        return (isinstance(got, list) and len(got) == len(sent)
                and all(contains(g, s) for g, s in zip(got, sent, strict=True)))
    return bool(got == sent)


def run(client: TestClient, world: World, method: str, path: str, body: Any) -> None:
    """One documented write: 2xx, and its values are there afterwards (and were not before)."""
    url = re.sub(r"^/api/v1/compounds/\{(?:compound_id|id)\}", world.url(), path)
    assert "{" not in url, f"README example {method} {path}: only the compound may be a placeholder"
    before = client.get(url, headers=world.committee) if method == "PUT" else None
    r = client.request(method, url, headers=world.committee, json=body)
    assert 200 <= r.status_code < 300, (method, path, r.status_code, r.text)
    if method == "PUT":
        assert before is not None and before.status_code == 200, before
        assert not contains(before.json(), body), f"{method} {path}: the example changes nothing here"
        after = client.get(url, headers=world.committee)
        assert contains(after.json(), body), (method, path, body, after.json())
    elif method == "POST" and isinstance(body, dict):
        assert contains(r.json(), body), (method, path, body, r.json())


@pytest.fixture
def fresh(db: Session, client: TestClient) -> World:
    """A compound with its roster and committee, nothing configured yet."""
    return build_world(db, client)


def test_the_readme_has_executable_examples() -> None:
    blocks = http_requests(_text())
    assert ("PUT", "/api/v1/compounds/{compound_id}/voting/settings") in {(m, p) for m, p, _ in blocks}
    # Issue 18: `{"quorum": ">=3/4"}` was documented; the levels live under `thresholds`.
    levels = {"quorum", "simple_majority", "special_majority"}
    for span in re.findall(r"`([^`]+)`", _text()):
        try:
            value = json.loads(span)
        except json.JSONDecodeError:
            continue
        assert not (isinstance(value, dict) and levels & value.keys()), span


def test_http_blocks_change_what_they_say(client: TestClient, fresh: World) -> None:
    requests = http_requests(_text())
    assert requests
    for method, path, body in requests:
        run(client, fresh, method, path, body)


def test_voting_settings_example_sets_the_quorum(client: TestClient, fresh: World) -> None:
    """The README's settings example, read back the way a committee would check it."""
    example = next(b for m, p, b in http_requests(_text()) if p.endswith("/voting/settings") and m == "PUT")
    assert example["thresholds"]["quorum"] == ">=3/4"
    before = client.get(fresh.url("/voting/settings"), headers=fresh.committee).json()
    assert before["thresholds"]["quorum"] == ">=2/3"  # the statute's
    run(client, fresh, "PUT", "/api/v1/compounds/{compound_id}/voting/settings", example)
    after = client.get(fresh.url("/voting/settings"), headers=fresh.committee).json()
    assert after["thresholds"]["quorum"] == ">=3/4"


def test_inline_requests_name_real_routes_and_fields(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    bodies = {(m, p): s for m, p, s in json_writes(spec)}
    found = inline_requests(_text())
    assert len(found) >= 20  # the README's prose was read
    wrong = []
    for method, path, sketch in found:
        if path.startswith(BENCH_ONLY):
            continue
        routes = routes_for(spec, method, path)
        if not routes:
            wrong.append(f"{method} {path}: no such route")
            continue
        if sketch is None:
            continue
        fields = set()
        for route in routes:
            schema = bodies.get((method, route))
            if schema is not None:
                ref = schema["$ref"].rsplit("/", 1)[-1]
                fields |= set(spec["components"]["schemas"][ref].get("properties", {}))
        unknown = [k for k in top_level_keys(sketch) if k not in fields]
        if unknown or not top_level_keys(sketch):
            wrong.append(f"{method} {path} {sketch!r}: not fields of its body: {unknown}")
    assert wrong == [], "\n".join(wrong)


def test_inline_requests_with_a_complete_body_run(client: TestClient, fresh: World) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    ran = 0
    for method, path, sketch in inline_requests(_text()):
        try:
            body = json.loads(sketch) if sketch else None
        except json.JSONDecodeError:
            continue  # a sketch of the fields, checked above
        if body is None:
            continue
        (route,) = routes_for(spec, method, path)
        run(client, fresh, method, route, body)
        ran += 1
    assert ran >= 1


@pytest.fixture
def published(db: Session, client: TestClient, frozen_clock: FrozenClock, outbox: Any) -> CompoundWorld:
    """A compound with a ballot published (tally inputs ready), as a committee sees it."""
    return build_compound(db, client, frozen_clock, outbox, tag="a", community="甲社区", base=0)


def shell_commands(text: str) -> list[list[str]]:
    """The commands of every ```sh block that calls the API with curl."""
    out = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        if "curl " not in block:
            continue
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                out.append(words)
    return out


def test_curl_examples_run(client: TestClient, published: CompoundWorld, tmp_path: Path) -> None:
    commands = shell_commands(_text())
    assert any(c[0] == "curl" for c in commands)
    for words in commands:
        if words[0] == "curl":
            url = next(w for w in words if w.startswith("http"))
            path = re.sub(r"^https?://[^/]+", "", url)

            def real_id(m: re.Match[str]) -> str:
                kind = m.group(1)
                value = published.cid if kind == "compounds" else published.ids[kind.removesuffix("s")]
                return f"/{kind}/{value}"

            path = re.sub(r"/(\w+)/\d+", real_id, path)
            method = words[words.index("-X") + 1] if "-X" in words else "GET"
            r = client.request(method, path, headers=published.h("wy"))
            assert r.status_code == 200, (path, r.text[:300])
            if "-o" in words:
                (tmp_path / words[words.index("-o") + 1]).write_bytes(r.content)
        else:
            assert words[:3] == [".venv/bin/python", "-m", "app.voting"] or words[1:3] == ["-m", "app"], words
            done = subprocess.run([sys.executable, *words[1:]], cwd=tmp_path, capture_output=True,
                                  text=True, check=False, timeout=120,
                                  env={**os.environ, "PYTHONPATH": str(README.parent)})
            assert done.returncode == 0, (words, done.stdout[-500:], done.stderr[-500:])
