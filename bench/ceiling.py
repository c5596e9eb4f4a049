"""Benchmark-only routes: the framework ceiling the vote path is compared with.

Served only by this module's app factory, `uvicorn bench.ceiling:create_app --factory`, which
the bench's servers run (bench/server.py); the deployment's `app.main:create_app` never has them.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from app.auth import tokens
from app.deps import CurrentPrincipal
from app.errors import Unauthorized

router = APIRouter(prefix="/bench", tags=["bench"])


def create_app() -> FastAPI:
    """The deployment's app plus the ceiling routes under /api/v1/bench."""
    from app.main import create_app as app_factory

    return app_factory(extra_routers=[router])


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
