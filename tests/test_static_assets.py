"""The built front end's files as the app serves them: hashed assets cached for a year, the build's
brotli or gzip copy sent to a browser that accepts it (no compression per request), the copies
themselves not addressable, and the early start linked from index.html with its chunk list."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import get_settings
from app.main import accepted_encodings, create_app

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ("console.log('共决');\n" * 200).encode()
BROTLI_STANDIN = b"brotli-bytes"  # the test never decodes it: only which copy was sent matters


@pytest.fixture
def client(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    dist = tmp_path / "dist"
    assets = dist / "assets"
    assets.mkdir(parents=True)
    (dist / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="/assets/index-abc.js"></script>'
        '</head><body><div id="app"></div></body></html>', encoding="utf-8")
    (assets / "index-abc.js").write_bytes(SCRIPT)
    (assets / "index-abc.js.gz").write_bytes(gzip.compress(SCRIPT, 9))
    (assets / "index-abc.js.br").write_bytes(BROTLI_STANDIN)
    (assets / "small-abc.css").write_text("a{color:red}", encoding="utf-8")  # below the copy size
    monkeypatch.setattr(get_settings(), "frontend_dist", dist)
    with TestClient(create_app()) as c:
        yield c


def _raw(client: TestClient, path: str, accept: str) -> tuple[dict[str, str], bytes]:
    """Headers and the body as sent (not decoded by the test client)."""
    with client.stream("GET", path, headers={"Accept-Encoding": accept}) as response:
        assert response.status_code == 200, path
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_browser_that_accepts_brotli_gets_the_brotli_copy(client: TestClient) -> None:
    headers, body = _raw(client, "/assets/index-abc.js", "gzip, deflate, br, zstd")
    assert headers["content-encoding"] == "br" and body == BROTLI_STANDIN
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["content-length"] == str(len(BROTLI_STANDIN))
    assert headers["vary"] == "Accept-Encoding"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"


def test_gzip_only_gets_the_gzip_copy_and_identity_the_file(client: TestClient) -> None:
    headers, body = _raw(client, "/assets/index-abc.js", "gzip, deflate")
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == SCRIPT
    assert body == (get_settings().frontend_dist / "assets" / "index-abc.js.gz").read_bytes()
    headers, body = _raw(client, "/assets/index-abc.js", "br;q=0, gzip")
    assert headers["content-encoding"] == "gzip"
    headers, body = _raw(client, "/assets/index-abc.js", "identity")
    assert "content-encoding" not in headers and body == SCRIPT
    assert headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_file_without_copies_is_served_as_before(client: TestClient) -> None:
    headers, body = _raw(client, "/assets/small-abc.css", "gzip, br")
    assert body == b"a{color:red}" and "content-encoding" not in headers  # under 500 B: as is
    assert headers["content-type"].startswith("text/css")
    assert headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_copies_are_not_addressable(client: TestClient) -> None:
    for path in ("/assets/index-abc.js.br", "/assets/index-abc.js.gz"):
        assert client.get(path).status_code == 404, path
    assert client.get("/assets/missing-abc.js", headers={"Accept-Encoding": "br"}).status_code == 404


def test_revalidation_of_a_copy_answers_304(client: TestClient) -> None:
    first = client.get("/assets/index-abc.js", headers={"Accept-Encoding": "gzip"})
    again = client.get("/assets/index-abc.js", headers={"Accept-Encoding": "gzip",
                                                        "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}),
    ("br;q=0, gzip;q=0.8", {"gzip"}),
    ("GZIP ; q=1.0", {"gzip"}),
    ("", set()),
    ("identity;q=0", set()),
])
def test_accept_encoding_is_read_with_refusals(header: str, expected: set[str]) -> None:
    assert accepted_encodings(header) == expected


def test_the_built_page_links_the_early_start_with_its_view_files() -> None:
    """dist (when built here): index.html loads early-*.js with `async` before the bundle, and
    the early start's chunk list names files that exist, each with brotli and gzip copies."""
    dist = ROOT / "frontend" / "dist"
    if not (dist / "index.html").is_file():
        pytest.skip("frontend/dist is not built on this machine")
    html = (dist / "index.html").read_text(encoding="utf-8")
    early = re.search(r'<script async src="/(assets/early-[\w-]+\.js)"></script>', html)
    assert early, "index.html does not load the early start"
    assert html.index(early.group(0)) < html.index('<script type="module"')
    code = (dist / early.group(1)).read_text(encoding="utf-8")
    files = json.loads(re.search(r"var FILES = (\{.*?\});", code).group(1))  # type: ignore[union-attr]
    listed = files["src/voting/views/BallotView.vue"]
    assert any(re.fullmatch(r"/assets/BallotView-[\w-]+\.js", f) for f in listed)
    for f in listed:
        assert (dist / f.lstrip("/")).is_file(), f
        if (dist / f.lstrip("/")).stat().st_size >= 1024:
            assert (dist / (f.lstrip("/") + ".br")).is_file() and (dist / (f.lstrip("/") + ".gz")).is_file(), f
