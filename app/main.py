"""The FastAPI application: API under /api/v1, health check, and the built front end at /."""

from __future__ import annotations

import logging
import mimetypes
import stat
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import Scope

from app.appraisals.router import router as appraisals_router
from app.audit.router import router as audit_router
from app.auth.router import accounts_router
from app.auth.router import router as auth_router
from app.config import get_settings
from app.credit.router import router as credit_router
from app.db import get_engine
from app.deps import CSRF_COOKIE, CSRF_HEADER, SAFE_METHODS
from app.errors import ERROR_RESPONSES, NotFound, RequestSizeLimit, install_error_handlers
from app.files.router import router as files_router
from app.ledger.router import router as ledger_router
from app.notices.router import router as notices_router
from app.notify.router import router as notify_router
from app.notify.worker import get_worker
from app.pdf_pages import require_pdf_font
from app.procedures.gate import ballot_gate, ballot_review
from app.procedures.router import router as procedures_router
from app.roster.router import router as roster_router
from app.security import SecurityHeadersMiddleware, StrictCORSMiddleware
from app.supervision.router import router as supervision_router
from app.surveys.router import router as surveys_router
from app.voting.router import router as voting_router
from app.voting.schedule import get_scheduler
from app.voting.service import register_open_guard, register_review_reporter
from app.workorders.router import router as workorders_router

API_PREFIX = "/api/v1"


DOMAIN_ROUTERS = (
    auth_router, accounts_router, roster_router, audit_router, files_router, notices_router,
    voting_router, ledger_router, procedures_router, notify_router, surveys_router,
    workorders_router, appraisals_router, supervision_router, credit_router,
)


def include_api(app: FastAPI) -> None:
    """Every domain's routes under /api/v1, each router included in the app itself.

    Not through one intermediate /api/v1 router: FastAPI matches a request again at every level
    of inclusion it passes through (the app, then that router, then the domain's), so one more
    level made every API request scan the routes of the domains before its own once more
    (bench/PROFILE.md §14).
    """
    for router in DOMAIN_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)


CSRF_SCHEME = {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
               "description": f"以 Cookie 登录时写操作须带此请求头，值为 {CSRF_COOKIE} Cookie"}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the cookie scheme of every write paired with the CSRF header.

    Operations that need a signed-in caller carry `security` from app/deps.py get_principal's
    schemes (Bearer, or the access cookie); a write by cookie also needs the CSRF header.
    """
    doc = FastAPI.openapi(app)
    doc.setdefault("components", {}).setdefault("securitySchemes", {})["csrfHeader"] = CSRF_SCHEME
    for operations in doc.get("paths", {}).values():
        for method, operation in operations.items():
            if method.upper() in SAFE_METHODS or "security" not in operation:
                continue
            operation["security"] = [
                {**requirement, "csrfHeader": []} if "cookieAuth" in requirement else requirement
                for requirement in operation["security"]
            ]
    return doc


# The build writes a brotli and a gzip copy beside each script and stylesheet (frontend/vite.config.js
# precompress), preferred in this order when the browser accepts the encoding.
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(accept_encoding: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (`q=0` refuses one)."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        refused = any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
        if coding and not refused:
            accepted.add(coding)
    return accepted


class ImmutableStaticFiles(StaticFiles):
    """Vite's asset names carry a content hash, so browsers may keep them for a year. A browser
    that accepts brotli or gzip gets the build's compressed copy, so no request is compressed on
    the fly; the copies themselves are not addressable."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.endswith(tuple(suffix for _, suffix in PRECOMPRESSED)):
            raise HTTPException(status_code=404)  # as StaticFiles answers a missing file
        accepted = accepted_encodings(Headers(scope=scope).get("accept-encoding", ""))
        if "*" in accepted:
            accepted |= {coding for coding, _ in PRECOMPRESSED}
        for coding, suffix in PRECOMPRESSED:
            if coding not in accepted or scope["method"] not in ("GET", "HEAD"):
                continue
            try:
                full_path, stat_result = await run_in_threadpool(self.lookup_path, path + suffix)
            except (OSError, ValueError):
                break  # the plain file's lookup below answers as StaticFiles does
            if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
                continue
            response = self.file_response(full_path, stat_result, scope)
            # The copy's type is the file's own (x.js.br is JavaScript), sent encoded.
            response.headers["Content-Type"] = _media_type(path)
            if response.status_code == 200:
                response.headers["Content-Encoding"] = coding
            response.headers["Vary"] = "Accept-Encoding"
            return self._cacheable(response)
        # The plain file; GZipMiddleware compresses it (and says Vary) if it has no copy.
        return self._cacheable(await super().get_response(path, scope))

    @staticmethod
    def _cacheable(response: Response) -> Response:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _media_type(path: str) -> str:
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def _mount_frontend(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", ImmutableStaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        if path.startswith("api/"):
            raise NotFound("接口不存在", code="not_found")
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and dist.resolve() in candidate.parents:
            return FileResponse(candidate)
        if not index.is_file():
            raise NotFound("前端尚未构建：请运行 scripts/run.sh", code="frontend_not_built")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


SWAGGER_CDN = "https://cdn.jsdelivr.net"
# The docs page alone may load Swagger UI from its CDN and run FastAPI's inline start-up script;
# every other page keeps PAGE_CSP (app/security.py). Off in production unless GONGJUE_API_DOCS.
DOCS_CSP = "; ".join((
    "default-src 'none'",
    f"script-src {SWAGGER_CDN} 'unsafe-inline'",
    f"style-src {SWAGGER_CDN}",
    "img-src 'self' data: https://fastapi.tiangolo.com",
    "connect-src 'self'",
    "frame-ancestors 'none'",
))


def _mount_docs(app: FastAPI) -> None:
    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=f"{API_PREFIX}/openapi.json",
                                   title="共决 Gongjue API")
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page


def install_domain_hooks() -> None:
    """Checks a domain plugs into one it depends on, registered here and nowhere else (no import
    side effects): procedures' review gate runs before voting notices or opens a ballot
    (procedures ──► voting; voting imports nothing of procedures), and its report of the matters
    that need review is shown on the ballot's draft and page."""
    register_open_guard(ballot_gate)
    register_review_reporter(ballot_review)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """The outbox worker and the ballot scheduler run in every server process unless
    GONGJUE_NOTIFY_WORKER / GONGJUE_SCHEDULE_WORKER is false."""
    worker = get_worker()
    started = get_settings().notify_worker and not worker.running
    if started:
        worker.start()
    scheduler = get_scheduler()
    scheduling = get_settings().schedule_worker and not scheduler.running
    if scheduling:
        scheduler.start()
    try:
        yield
    finally:
        if scheduling:
            scheduler.stop()
        if started:
            worker.stop()


def create_app(*, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The application. `extra_routers` go under /api/v1 too, before the front end's catch-all:
    the bench adds its ceiling routes this way (bench/ceiling.py create_app); app/ never imports
    bench/."""
    settings = get_settings()
    if settings.env == "production":
        require_pdf_font()  # refuse to start rather than fail on the first notice PDF
    install_domain_hooks()
    logging.basicConfig(level=logging.INFO)
    app = FastAPI(
        title="共决 Gongjue",
        version="0.1.0",
        docs_url=None,  # _mount_docs, when settings.api_docs_enabled
        openapi_url=f"{API_PREFIX}/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Bodies over the upload limit are refused (413) before a route reads them.
    app.add_middleware(RequestSizeLimit)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    # Added last = outermost: every answer, CORS refusals included, carries the headers.
    app.add_middleware(StrictCORSMiddleware, origins=settings.cors_origin_list)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.env == "production")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # report, do not crash the probe
            return JSONResponse(
                {"status": "error", "database": f"unavailable: {type(exc).__name__}"},
                status_code=503,
            )
        return JSONResponse(
            {"status": "ok", "database": database, "dialect": get_engine().dialect.name}
        )

    if settings.api_docs_enabled:
        _mount_docs(app)
    include_api(app)
    for extra in extra_routers:
        app.include_router(extra, prefix=API_PREFIX)
    _mount_frontend(app, settings.frontend_dist)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app
