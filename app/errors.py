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


class Invalid(DomainError):
    """Well-formed input that breaks a rule (a period too short, a threshold below the law)."""

    code = "invalid"
    status = 422


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status = 503


class ServerFault(DomainError):
    """Something stored is not what it should be (e.g. a file whose bytes no longer match)."""

    code = "server_fault"
    status = 500


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


def _field_path(loc: tuple[Any, ...], body: Any = None) -> str:
    """The field's place in the request as sent, e.g. `matters.0.title`.

    Unions add their member to the location ("literal['compound']", a section's "table"): when
    the body is at hand, only the parts that index into it are kept; else the bracketed ones go.
    """
    parts: list[Any] = []
    node, walking = body, body is not None
    for i, p in enumerate(loc):
        if (i == 0 and p in ("body", "query", "path", "header", "cookie")) or (isinstance(p, str) and "[" in p):
            continue
        if walking:
            inside = ((isinstance(node, dict) and p in node)
                      or (isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node)))
            if inside:
                node = node[p]
            elif i < len(loc) - 1:
                continue  # a union member's tag, not a place in the body
            else:
                walking = False
        parts.append(p)
    return ".".join(str(p) for p in parts)


# Chinese labels of request fields, shown next to the field's name in 422 answers.
FIELD_LABELS = {
    "title": "标题", "description": "说明", "body": "正文", "text": "内容", "name": "名称",
    "reason": "理由", "note": "说明", "opinion": "意见", "opted_out": "退订通知短信", "current_password": "当前密码", "receipt": "回执码", "new_password": "新密码", "answer": "答复", "intro": "简介",
    "category": "类别", "kind": "类型", "matters": "表决事项", "candidates": "候选人",
    "seats": "应选人数", "starts_at": "投票开始时间", "ends_at": "投票结束时间",
    "choices": "表决选择", "subject_id": "投票主体", "matter_id": "表决事项", "ballot_id": "表决",
    "proxy_name": "受托人姓名", "proxy_phone": "受托人手机号", "phone": "手机号", "code": "验证码",
    "username": "用户名", "password": "密码", "display_name": "显示名称", "role": "角色",
    "user_id": "用户", "organization": "单位", "audience": "公告对象", "display_days": "公示天数",
    "posted_on": "张贴日期", "location": "张贴地点", "delivered_at": "送达时间",
    "notice_days": "会议通知提前天数", "min_voting_days": "最短表决天数",
    "max_voting_days": "最长表决天数", "objection_days": "询异期天数", "proxy_limit": "每位受托人的委托上限",
    "publish_unit_record": "是否公开逐户表决记录", "parking_counts_as_area": "车位、车库是否计入表决面积", "thresholds": "表决门槛", "quorum": "参与表决门槛",
    "simple_majority": "一般事项通过门槛", "special_majority": "特别事项通过门槛",
    "direction": "收支", "entry_date": "日期", "amount": "金额", "amount_fen": "金额（分）",
    "cost": "扣除成本", "cost_fen": "扣除成本（分）", "counterparty": "对方", "period_kind": "期间",
    "accept_incoming": "是否采用新提交的表决", "step_key": "步骤", "action": "处理结果",
    "meeting_date": "会议日期", "attendees": "参会方", "template_key": "程序模板",
    "matter_type": "事项类型", "proposer_body": "提议主体", "steps": "步骤", "mode": "登录方式",
    "address": "地址", "developer_name": "开发建设单位名称", "district": "区", "street": "街道",
    "community": "社区", "owner_id": "业主", "affected_building_ids": "涉及的楼栋",
    "scope_building_ids": "表决范围内的楼栋", "scope_entrances": "表决范围内的单元",
    "affected_entrances": "涉及的单元", "audience_entrances": "公告面向的单元", "building_id": "楼栋",
    "entrance": "单元", "document_file_ids": "文件", "document_file_id": "授权委托书文件",
    "scan_file_id": "书面表决票扫描件", "attachment_file_ids": "附件", "extra_body": "补充正文",
    "structured": "结构化内容", "sections": "段落", "type": "段落类型", "heading": "小标题",
    "columns": "表头", "rows": "表格行", "items": "列表项", "data": "附带数据",
    "evidence_file_id": "送达凭证", "photo_file_id": "张贴照片", "file": "文件", "file_id": "文件",
    "file_ids": "附件", "purpose": "文件用途", "known_buildings_only": "是否只导入已有楼栋",
    "voucher_file_ids": "凭证", "cost_evidence_file_ids": "成本凭证", "cost_note": "成本说明",
    "late": "是否补记", "late_for_period_start": "补记所属期间", "starts_on": "起始日",
    "maintenance_share_percent": "计入专项维修资金的比例", "decision_rules": "动用规则",
    "publish_due_days": "结账后公布期限", "voucher_required": "是否须附凭证",
    "annual_audit_required": "是否须年度审计", "extra_major_matters": "新增重大事项",
    "source": "依据", "everywhere": "是否退出所有设备", "refresh_token": "续期令牌",
    "room": "房号", "area_hundredths": "专有面积（0.01㎡）",
    "area_source": "面积来源", "usage": "用途", "import_id": "名册导入记录",
    "typed_count": "输入的数量",
    # work orders (app/workorders)
    "photo_file_ids": "照片", "owner_phone": "业主手机号", "due_at": "办理期限", "rating": "评价",
    "overdue": "只看超期的",
    # surveys (app/surveys)
    "year": "年度", "opens_at": "作答开始时间", "closes_at": "作答结束时间",
    "allow_comments": "是否收集意见建议", "questions": "评价项", "hint": "评价项说明",
    "scale": "评分方式", "answers": "答卷", "question_id": "评价项", "value": "评价",
    "comment": "意见建议",
    # quarterly reports and appraisals (app/appraisals)
    "quarter": "季度", "appraiser_kind": "评议方", "appraiser_name": "评议人", "scores": "各项得分",
    "due_on": "整改期限",
    # credit scores and the red and black list (app/credit)
    "credit_code": "统一社会信用代码", "contract_starts_on": "合同开始日期", "contract_ends_on": "合同终止日期",
    "found_on": "发现日期", "threshold_mode": "上榜方式", "red": "红榜分数线或名额",
    "black": "黑榜分数线或名额", "digest": "计算结果校验码", "correction_reason": "更正原因",
    # query parameters
    "building": "楼栋", "q": "搜索词", "status": "状态", "period_start": "期间",
    "sort": "排序",
    "format": "文件格式", "serial": "表决票编号", "waiting_for_me": "只看待我办理的",
    "limit": "每页条数", "offset": "跳过条数", "after_seq": "起始序号", "before_seq": "截止序号",
    "since": "起始日期", "until": "截止日期", "object_type": "对象类型", "object_id": "对象编号",
}
# What is said of the body as a whole (an error located at the body itself).
_BODY_MESSAGES = {"missing": "缺少请求内容（JSON 对象）", "json_invalid": "请求内容不是有效的 JSON"}

_MESSAGES = {
    "missing": "为必填项",
    "int_type": "须为整数", "int_parsing": "须为整数", "int_from_float": "须为整数",
    "bool_type": "须为 true 或 false", "bool_parsing": "须为 true 或 false",
    "string_type": "须为文本", "float_type": "须为数字", "float_parsing": "须为数字",
    "list_type": "须为列表（数组）", "dict_type": "须为对象", "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "string_pattern_mismatch": "格式不正确", "timezone_aware": "须带时区，如 2026-07-15T09:00:00+08:00",
    "json_invalid": "请求内容不是有效的 JSON", "json_type": "请求内容须为 JSON",
}


def _message(error: dict[str, Any]) -> str:
    """A Chinese message for one pydantic error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少{ctx.get('min_length')}个字符"
    if kind == "string_too_long":
        return f"不能超过{ctx.get('max_length')}个字符"
    if kind == "too_short":
        return f"至少{ctx.get('min_length')}项"
    if kind == "too_long":
        return f"最多{ctx.get('max_length')}项"
    if kind in ("literal_error", "enum"):
        return f"取值不正确，可选：{str(ctx.get('expected', '')).replace(' or ', '、').replace(', ', '、')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "不能小于", "greater_than": "须大于", "less_than_equal": "不能大于",
                 "less_than": "须小于"}
        limit = next(iter(ctx.values()), "")
        return f"{words[kind]}{limit}"
    if kind.startswith(("date_", "datetime_")):
        return "须为日期或时间文本，如 2026-07-15 或 2026-07-15T09:00:00+08:00"
    if kind == "value_error":
        text = str(ctx.get("error", "")) or str(error.get("msg", ""))
        return text if _CJK.search(text) else "取值不正确"
    return "取值不正确"


def field_message(error: Any) -> str:
    """`field：message` in Chinese for one pydantic error, for services that validate data themselves."""
    path = _field_path(tuple(error.get("loc", ())))
    message = "不支持的字段" if error.get("type") == "extra_forbidden" else _message(error)
    return f"{path}：{message}" if path else message


def _title_in(model: Any, parts: list[str | int]) -> str | None:
    """The Chinese `title` a model gives the field at `parts`, if it gives one."""
    field = None
    for part in parts:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        field = fields.get(part) if fields else None
        if field is None:
            return None
        model = _model_in(field.annotation)
    title = getattr(field, "title", None)
    return title if isinstance(title, str) and _CJK.search(title) else None


def field_label(path: str, model: Any = None, title: str | None = None) -> str:
    """A field in Chinese: its model's own Chinese title, else `FIELD_LABELS` by name.

    A field inside a list is named by the list and its position: `matters.1.title` →
    表决事项第2项的标题. A name without a label is shown as sent (tests/test_field_labels.py
    keeps every request field labelled).
    """
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")] if path else []
    own = title or (_title_in(model, parts) if model is not None else None)
    names = [p for p in parts if isinstance(p, str)]
    if not names:
        return "请求内容"
    label = own or FIELD_LABELS.get(names[-1])
    if label is None:
        return f"字段 {path}"
    # The nearest list position above the field: "第N项的".
    for i in range(len(parts) - 1, 0, -1):
        if isinstance(parts[i], int) and isinstance(parts[i - 1], str):
            parent = FIELD_LABELS.get(str(parts[i - 1]), str(parts[i - 1]))
            inner = parts[i + 1:]
            return f"{parent}第{int(parts[i]) + 1}项" + (f"的{label}" if inner else "")
    return label


def _sentence(label: str, error: dict[str, Any], message: str) -> str:
    """One refusal as a sentence: 请填写意见, 意见不能超过10000个字符."""
    kind = str(error.get("type", ""))
    empty = kind == "missing" or (kind == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1)
    return f"请填写{label}" if empty else f"{label}{message}"


def _nested_home(model: Any, loc: tuple[Any, ...]) -> str | None:
    """For an unknown field at `loc`, the sibling object field that does take it, if any."""
    parts = [p for p in loc if p != "body"]
    for part in parts[:-1]:  # walk down to the model the unknown field was sent to
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        model = _model_in(field.annotation) if field else None
        if model is None:
            return None
    for name, field in getattr(model, "model_fields", {}).items():
        inner = _model_in(field.annotation)
        if inner is not None and parts and parts[-1] in inner.model_fields:
            return ".".join([*(str(p) for p in parts[:-1]), name])
    return None


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside `X`, `X | None` or `list[X]`, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validation_body(errors: list[dict[str, Any]], body_model: Any = None, body: Any = None,
                    titles: dict[str, str] | None = None) -> dict[str, Any]:
    """The 422 answer for a request the schema refuses: unknown fields first, every other
    refusal a Chinese sentence naming the field by its label (`field_label`); `titles` are the
    Chinese titles of the route's query parameters, by name."""
    unknown: list[dict[str, str]] = []
    fields: list[dict[str, str]] = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        path = _field_path(loc, body)
        if e.get("type") == "extra_forbidden":
            home = _nested_home(body_model, loc) if body_model is not None else None
            unknown.append({"field": path, "message": "不支持的字段" + (f"，应写在 {home} 中" if home else "")})
        elif e.get("type") == "json_invalid" or not path:
            # The body as a whole: not JSON, missing, or not an object.
            fields.append({"field": "", "message": _BODY_MESSAGES.get(str(e.get("type")), "请求内容须为 JSON 对象")})
            break
        elif not any(f["field"] == path for f in fields):  # a union's members: one message is enough
            label = field_label(path, body_model, (titles or {}).get(path))
            fields.append({"field": path, "label": label, "message": _sentence(label, e, _message(e))})
    if unknown:
        names = "、".join(f["field"] for f in unknown)
        which = "此字段" if len(unknown) == 1 else "这些字段"
        hint = "".join(f"；{f['field']} {f['message'].removeprefix('不支持的字段，')}" for f in unknown
                       if "，" in f["message"])
        return {"error": "unknown_field", "detail": f"不支持的字段：{names}（请求体中不接受{which}{hint}）",
                "fields": unknown + fields}
    shown = "；".join(f["message"] for f in fields) or "请求有误"
    return {"error": "validation_error", "detail": shown, "fields": fields}


def _query_titles(params: list[Any]) -> dict[str, str]:
    """Chinese titles of query parameters, by name (a query model's fields included)."""
    titles: dict[str, str] = {}
    for param in params:
        model = _model_in(param.field_info.annotation)
        pairs = (list(model.model_fields.items()) if model is not None
                 else [(param.alias or param.name, param.field_info)])
        for name, info in pairs:
            if isinstance(info.title, str) and _CJK.search(info.title):
                titles[getattr(info, "alias", None) or name] = info.title
    return titles


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as JSON with a stable code and a Chinese message."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.code, "detail": exc.message}
        body.update(exc.extra)
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        route = request.scope.get("route")
        body_field = getattr(route, "body_field", None)
        model = body_field.field_info.annotation if body_field is not None else None
        dependant = getattr(route, "dependant", None)
        titles = _query_titles(dependant.query_params if dependant else [])
        return JSONResponse(validation_body(list(exc.errors()), model, exc.body, titles), status_code=422)

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
