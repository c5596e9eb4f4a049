"""Domain errors and the one handler that renders them as {"error", "detail"}."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings


class ErrorBody(BaseModel):
    """Every refusal: a stable code and a Chinese message; some add fields (e.g. row errors)."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str


# Declared on every API route so that the OpenAPI schema documents the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "请求被拒绝：error 为稳定的错误代码，detail 为中文说明"},
    503: {"model": ErrorBody, "description": "数据库暂时不可用或繁忙（database_busy）：本次请求未生效，可稍后重试"},
}


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
    400: ("bad_request", "请求格式有误，无法解析请求内容"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持该请求内容类型"),
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Room for the multipart framing and form fields around a file of the largest allowed size.
REQUEST_OVERHEAD_BYTES = 64 * 1024


def max_request_bytes() -> int:
    """The largest request body accepted: the upload limit plus the form around it."""
    return get_settings().max_upload_bytes + REQUEST_OVERHEAD_BYTES


def _too_large_message(limit: int) -> str:
    return f"请求内容超过 {limit // (1024 * 1024)} MB 上限，请压缩或拆分文件后重试"


class RequestSizeLimit:
    """Refuse bodies over max_request_bytes() with 413, before or while they arrive.

    A declared Content-Length over the limit is answered at once, before any route runs or a
    byte is read; a body without one is counted as it streams and cut off at the limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max_request_bytes()
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            response = JSONResponse(
                {"error": "payload_too_large", "detail": _too_large_message(limit)}, status_code=413
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTP errors met while reading the body; _http renders it.
                    raise StarletteHTTPException(413, detail=_too_large_message(limit))
            return message

        await self.app(scope, limited_receive, send)


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

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(_: Request, exc: Exception) -> JSONResponse:
        # An id or number beyond what the database column holds (SQLite: 64-bit, PostgreSQL:
        # 32-bit integers), or text the column cannot take: the request's fault, nothing stored.
        logging.getLogger("gongjue").info("value out of range: %s", exc)
        return JSONResponse(
            {"error": "value_out_of_range", "detail": "请求中的编号、数值或文本超出允许范围"},
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    async def _database_busy(_: Request, exc: OperationalError) -> JSONResponse:
        # The database refused or dropped the connection (too many clients, a restart, a
        # deadlock victim, SQLite's lock timeout): the transaction was rolled back, so nothing of
        # the request was stored and the client may simply try again.
        logging.getLogger("gongjue").error("database unavailable: %s", exc, exc_info=exc)
        return JSONResponse(
            {"error": "database_busy", "detail": "系统繁忙，本次操作未生效，请稍后重试"},
            status_code=503, headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        from app.security import NO_STORE_PREFIXES, apply_security_headers

        logging.getLogger("gongjue").exception("unhandled error", exc_info=exc)
        response = JSONResponse(
            {"error": "internal_error", "detail": "服务器内部错误，请稍后再试；如持续出现请联系管理员"},
            status_code=500,
        )
        # Starlette sends this answer from its outermost layer, past the security-header
        # middleware: the headers are set here instead.
        apply_security_headers(response.headers, hsts=get_settings().env == "production",
                               no_store=request.url.path.startswith(NO_STORE_PREFIXES))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _STATUS_MESSAGES.get(exc.status_code, ("http_error", "请求失败"))
        if isinstance(exc.detail, str) and _CJK.search(exc.detail):
            message = exc.detail  # the framework's own details are English: keep ours only
        return JSONResponse(
            {"error": code, "detail": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
