"""Benchmark-only routes: the framework ceiling the vote path is compared with.

Served only by this module's app factory, `uvicorn bench.ceiling:create_app --factory`, which
the bench's servers run (bench/server.py); the deployment's `app.main:create_app` never has them.
The factory also adds `Server-Timing: app;dur=<ms>` to every answer: the time from the moment
uvicorn handed the request to the application to the moment the answer's head left it, so the
load generator can tell time spent in the application from time spent before and after it
(uvicorn, the event loop, the network, the load generator itself).
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import tokens
from app.deps import CurrentPrincipal
from app.errors import Unauthorized

router = APIRouter(prefix="/bench", tags=["bench"])


def create_app() -> FastAPI:
    """The deployment's app plus the ceiling routes under /api/v1/bench, timed (ServerTiming)."""
    from app.main import create_app as app_factory

    app = app_factory(extra_routers=[router])
    app.add_middleware(ServerTiming)  # added last: outermost, around every other middleware
    return app


class ServerTiming:
    """`Server-Timing: app;dur=<ms>` on every HTTP answer: the application's own time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={took:.3f}".encode())]}
            await send(message)

        await self.app(scope, receive, timed_send)


@router.get("/ceiling")
def ceiling(principal: CurrentPrincipal) -> dict[str, Any]:
    """Authenticated exactly as every API route is (JWT check plus the account/revocation read)."""
    return {"ok": True, "user_id": principal.user_id, "pid": os.getpid()}


@router.get("/ceiling-nodb")
def ceiling_nodb(request: Request) -> dict[str, Any]:
    """Only the token's signature and expiry are checked: no database at all."""
    auth = request.headers.get("authorization", "")
    try:
        claims = tokens.decode(auth[7:].strip(), "access")
    except tokens.InvalidToken as exc:
        raise Unauthorized("登录已过期，请重新登录", code="token_invalid") from exc
    return {"ok": True, "user_id": claims.user_id, "pid": os.getpid()}
