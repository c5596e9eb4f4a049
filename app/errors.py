"""Domain errors and the one handler that renders them as {"error", "detail"}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    """A refusal with a stable code, a Chinese message and an HTTP status."""

    code = "domain_error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra or {}
        # Commit what the request recorded before refusing (e.g. a counted failed attempt).
        self.keep_changes = keep_changes


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Conflict(DomainError):
    code = "conflict"
    status = 409


class TooManyRequests(DomainError):
    code = "rate_limited"
    status = 429


_STATUS_MESSAGES = {
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "上传内容过大"),
}


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path"))


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as JSON with a stable code and a Chinese message."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.code, "detail": exc.message}
        body.update(exc.extra)
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field_path(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        names = "、".join(f["field"] for f in fields if f["field"]) or "请求"
        return JSONResponse(
            {"error": "validation_error", "detail": f"请求参数有误：{names}", "fields": fields},
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("gongjue").exception("unhandled error", exc_info=exc)
        return JSONResponse(
            {"error": "internal_error", "detail": "服务器内部错误，请稍后再试；如持续出现请联系管理员"},
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _STATUS_MESSAGES.get(exc.status_code, ("http_error", "请求失败"))
        if isinstance(exc.detail, str) and exc.detail and exc.status_code not in _STATUS_MESSAGES:
            message = exc.detail
        return JSONResponse(
            {"error": code, "detail": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
