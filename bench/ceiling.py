"""Benchmark-only routes: the framework ceiling the vote path is compared with.

Served only by this module's app factory, `uvicorn bench.ceiling:create_app --factory`, which
the bench's servers run (bench/server.py); the deployment's `app.main:create_app` never has them.
The factory also adds `Server-Timing: app;dur=<ms>` to every answer: the time from the moment
uvicorn handed the request to the application to the moment the answer's head left it, so the
load generator can tell time spent in the application from time spent before and after it
(uvicorn, the event loop, the network, the load generator itself). With `BENCH_DB_TIMING=1` in
the server's environment (bench/profile_openloop.py --db-timing) it also splits the application's
time: `pre` until the request first asks the pool for a connection (routing, authentication's
token check, waiting for a write turn and for a worker thread), `pool` in the pool (waiting for a
connection, the pre-ping), `db` in SQL statements, `commit` in COMMIT (PostgreSQL's WAL flush),
`post` from the last COMMIT to the answer's head; the rest is Python between statements
(including waiting for the GIL and for threads between the dependency hops).
"""

from __future__ import annotations

import os
import time
from contextvars import ContextVar
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
    if os.environ.get("BENCH_DB_TIMING") == "1":
        _install_db_timing()
    return app


_PHASES: ContextVar[dict[str, float] | None] = ContextVar("bench_phases", default=None)


def _install_db_timing() -> None:
    """Charge pool checkouts, SQL statements and commits to the request that runs them.

    The request's dict travels in a context variable, which Starlette copies into the threads it
    runs dependencies and endpoints in (the dict itself is shared, so every hop adds to it).
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.default import DefaultDialect
    from sqlalchemy.pool import Pool

    def timed(key: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            phases = _PHASES.get()
            if phases is None:
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            if key == "pool" and "first_pool" not in phases:
                phases["first_pool"] = t0
            try:
                return fn(*args, **kwargs)
            finally:
                t1 = time.perf_counter()
                phases[key] = phases.get(key, 0.0) + t1 - t0
                if key == "commit":
                    phases["last_commit"] = t1

        return wrapper

    Pool.connect = timed("pool", Pool.connect)  # type: ignore[method-assign]
    DefaultDialect.do_commit = timed("commit", DefaultDialect.do_commit)  # type: ignore[method-assign]

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn: Any, *_args: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn: Any, *_args: Any) -> None:
        phases = _PHASES.get()
        started = conn.info.pop("bench_t0", None)
        if phases is not None and started is not None:
            phases["db"] = phases.get("db", 0.0) + time.perf_counter() - started
            phases["statements"] = phases.get("statements", 0.0) + 1


class ServerTiming:
    """`Server-Timing: app;dur=<ms>` on every HTTP answer: the application's own time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        phases: dict[str, float] = {}
        token = _PHASES.set(phases)

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = time.perf_counter()
                parts = [f"app;dur={(now - started) * 1000:.3f}"]
                if "first_pool" in phases:
                    parts.append(f"pre;dur={(phases['first_pool'] - started) * 1000:.3f}")
                if "last_commit" in phases:
                    parts.append(f"post;dur={(now - phases['last_commit']) * 1000:.3f}")
                parts += [f"{k};dur={v * 1000:.3f}" for k, v in phases.items()
                          if k in ("pool", "db", "commit")]
                if "statements" in phases:
                    parts.append(f"statements;desc={int(phases['statements'])}")
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", ", ".join(parts).encode())]}
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _PHASES.reset(token)


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
