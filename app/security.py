"""HTTP hardening: security headers on every response and a strict CORS policy for the API.

Both are plain ASGI middleware (no per-request task or body buffering), so the vote path pays
only for a few header appends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The built front end (Vite + Vue + Vant) loads only its own module scripts and stylesheets;
# Vue and Vant set inline style attributes, and Vant's CSS carries data: SVG icons.
PAGE_CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# JSON and other non-page answers never load anything; PDFs keep only the frame denial, because
# browsers render them in a built-in viewer that a "default-src 'none'" may block.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCUMENT_CSP = "frame-ancestors 'none'"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"
NO_STORE_PREFIXES = ("/api/", "/healthz")

CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = frozenset({"authorization", "content-type", "x-csrf-token"})
CORS_MAX_AGE = "600"


def _csp_for(content_type: str) -> str:
    if content_type.startswith("text/html"):
        return PAGE_CSP
    if content_type.startswith("application/pdf"):
        return DOCUMENT_CSP
    return API_CSP


def apply_security_headers(headers: MutableHeaders, *, no_store: bool, hsts: bool) -> None:
    """Set the hardening headers a route did not set itself."""
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", _csp_for(headers.get("content-type", "")))
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if hsts:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if no_store:
        headers.setdefault("Cache-Control", "no-store")


class SecurityHeadersMiddleware:
    """Add nosniff, frame denial, CSP, referrer and permissions policies (HSTS in production).

    API answers get `Cache-Control: no-store` unless the route set its own caching.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                apply_security_headers(MutableHeaders(scope=message), no_store=no_store,
                                       hsts=self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StrictCORSMiddleware:
    """Answer CORS only for the configured origins; any other origin gets no Access-Control-*.

    Same-origin requests need no CORS headers and pass untouched. A preflight from an origin not
    configured is refused with 403 and no allow headers; other requests from it are served
    without Access-Control-Allow-Origin, so the browser does not let that page read the answer.
    """

    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = origin in self.origins
        preflight = (scope["method"] == "OPTIONS"
                     and "access-control-request-method" in request_headers)
        if preflight:
            await self._preflight(request_headers, allowed, send)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = origin
                headers["Access-Control-Allow-Credentials"] = "true"
                headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, request_headers: Headers, allowed: bool, send: Send) -> None:
        requested = {
            h.strip().lower()
            for h in request_headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        }
        method = request_headers.get("access-control-request-method", "").upper()
        headers: list[tuple[bytes, bytes]] = [(b"vary", b"Origin")]
        if allowed and method in CORS_METHODS.split(", ") and requested <= CORS_HEADERS:
            status = 204
            headers += [
                (b"access-control-allow-origin", request_headers["origin"].encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-allow-methods", CORS_METHODS.encode()),
                (b"access-control-allow-headers", ", ".join(sorted(CORS_HEADERS)).encode()),
                (b"access-control-max-age", CORS_MAX_AGE.encode()),
            ]
            body = b""
        else:
            status = 403
            body = json.dumps(
                {"error": "cors_forbidden", "detail": "不允许该来源的跨域请求"}, ensure_ascii=False
            ).encode()
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]
        if status == 204:
            headers.append((b"content-length", b"0"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
