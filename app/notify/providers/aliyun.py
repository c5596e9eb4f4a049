"""Alibaba Cloud SMS (dysmsapi 2017-05-25, SendSms) through its official SDK.

One attempt per `send`: the outbox decides about retries. The SDK signs each request with the
AccessKey (ACS3-HMAC-SHA256) and raises for HTTP errors; answers with HTTP 200 carry a business
Code ("OK" or isv.*/isp.*).
"""

from __future__ import annotations

import json
import logging

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_tea_openapi.exceptions import (
    AlibabaCloudException,
    ServerException,
    ThrottlingException,
)
from darabonba.exceptions import RetryError
from darabonba.runtime import RuntimeOptions

from app.config import Settings
from app.notify.messages import check_params
from app.notify.providers.base import Outcome, Outgoing, SendResult
from app.notify.providers.common import is_timeout, safe_detail, split_endpoint
from app.privacy import mask_phone

log = logging.getLogger("gongjue.sms")

PUBLIC_HOST = "dysmsapi.aliyuncs.com"

# Documented answers worth trying again later (https://help.aliyun.com/document_detail/101346.html
# and the OpenAPI gateway's common errors). Every other code except "OK" is permanent.
RETRY_CODES = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL",  # 业务限流: per-number frequency control
    "isp.SYSTEM_ERROR",  # 系统错误
    "isp.GATEWAY_ERROR",
    "Throttling", "Throttling.User", "Throttling.Api", "Throttling.System",
    "ServiceUnavailable", "InternalError", "UnknownError",
    "SignatureNonceUsed",  # a nonce collision: the next attempt has a fresh nonce
})

# What the IT volunteer should do about the permanent answers that mean a set-up mistake.
HINTS: dict[str, str] = {
    "OK": "发送成功",
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式不正确",
    "isv.SMS_TEMPLATE_ILLEGAL": "模板不存在或未审核通过：检查 GONGJUE_SMS_TEMPLATE_* 填写的模板 CODE",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量与申请的模板不一致：模板须按说明中的文字申请",
    "isv.SMS_SIGNATURE_ILLEGAL": "签名不存在或未审核通过：检查 GONGJUE_SMS_SIGN_NAME",
    "isv.SMS_SIGN_ILLEGAL": "签名禁止使用：请在短信控制台申请合规签名",
    "isv.SIGN_STATE_ILLEGAL": "签名状态为“不可用”：请在短信控制台查看签名状态",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": "签名与模板类型不一致：请使用“通用”类型的签名",
    "isv.INVALID_PARAMETERS": "参数异常",
    "isv.INVALID_JSON_PARAM": "模板变量格式不正确",
    "isv.PARAM_LENGTH_LIMIT": "模板变量超出长度限制（标题过长）",
    "isv.BLACK_KEY_CONTROL_LIMIT": "手机号在黑名单中（用户退订或运营商管控）",
    "isv.SMS_CONTENT_ILLEGAL": "短信内容包含禁止发送的内容",
    "isv.DAY_LIMIT_CONTROL": "已达到控制台设置的日发送限额：请在 国内消息设置 > 安全设置 调整",
    "isv.MONTH_LIMIT_CONTROL": "已达到控制台设置的月发送限额：请在 国内消息设置 > 安全设置 调整",
    "isv.OUT_OF_SERVICE": "业务停机（账户余额不足）：请充值",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足：请充值",
    "isv.PRODUCT_UN_SUBSCRIPT": "该阿里云账号未开通短信服务",
    "isv.PRODUCT_UNSUBSCRIBE": "该阿里云账号未开通短信服务",
    "isv.ACCOUNT_NOT_EXISTS": "账户不存在：检查 AccessKey",
    "isv.ACCOUNT_ABNORMAL": "账户异常",
    "isv.DENY_IP_RANGE": "服务器 IP 所在地区被禁止发送国内短信",
    "isp.RAM_PERMISSION_DENY": "RAM 权限不足：请给该 AccessKey 的 RAM 用户授权 AliyunDysmsFullAccess",
    "SignatureDoesNotMatch": "签名校验失败：GONGJUE_SMS_ALIYUN_ACCESS_KEY_SECRET 不正确",
    "IncompleteSignature": "签名校验失败：GONGJUE_SMS_ALIYUN_ACCESS_KEY_SECRET 不正确",
    "InvalidAccessKeyId.NotFound": "AccessKey ID 不存在：检查 GONGJUE_SMS_ALIYUN_ACCESS_KEY_ID",
    "InvalidAccessKeyId.Inactive": "AccessKey 已被禁用",
    "InvalidTimeStamp.Expired": "服务器时间与标准时间相差过大：请校准服务器时钟",
    "isv.BUSINESS_LIMIT_CONTROL": "触发发送频率限制（同一号码短时间内过多），稍后重试",
    "isp.SYSTEM_ERROR": "阿里云系统错误，稍后重试",
}


def classify(code: str | None, status: int = 200) -> Outcome:
    if status == 200 and code == "OK":
        return "sent"
    if status >= 500 or status == 429 or code in RETRY_CODES:
        return "retry"
    return "failed"


class AliyunProvider:
    """Sends through Alibaba Cloud SMS with the GONGJUE_SMS_ALIYUN_* settings."""

    name = "aliyun"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        scheme, host = split_endpoint(settings.sms_endpoint, PUBLIC_HOST)
        timeout_ms = int(settings.sms_timeout_seconds * 1000)
        self.runtime = RuntimeOptions(
            connect_timeout=timeout_ms, read_timeout=timeout_ms, autoretry=False, max_attempts=1,
        )
        self.client = Client(openapi_models.Config(
            access_key_id=settings.sms_aliyun_access_key_id,
            access_key_secret=settings.sms_aliyun_access_key_secret.get_secret_value(),
            region_id=settings.sms_aliyun_region,
            endpoint=host,
            protocol=scheme,
            connect_timeout=timeout_ms,
            read_timeout=timeout_ms,
        ))

    def send(self, message: Outgoing) -> SendResult:
        try:
            check_params(message.kind, message.params)
        except ValueError as exc:
            return self._done(message, SendResult("failed", self.name, code="gongjue.params",
                                                  detail=safe_detail(exc)))
        request = sms_models.SendSmsRequest(
            phone_numbers=message.phone,
            sign_name=self.settings.sms_sign_name,
            template_code=self.settings.sms_template(message.kind),
            template_param=json.dumps(message.params, ensure_ascii=False),
        )
        try:
            response = self.client.send_sms_with_options(request, self.runtime)
        except Exception as exc:  # the SDK raises many kinds; none may escape the outbox
            return self._done(message, self._from_exception(exc))
        body = response.body
        code = body.code if body is not None else None
        result = SendResult(
            classify(code, response.status_code or 200), self.name,
            message_id=(body.biz_id or None) if body is not None else None,
            code=code, detail=safe_detail(body.message if body is not None else ""),
        )
        return self._done(message, result)

    def _from_exception(self, exc: Exception) -> SendResult:
        if isinstance(exc, AlibabaCloudException):
            status = exc.status_code or 0
            code = exc.code if exc.code and exc.code != "None" else f"HTTP{status}"
            message = (exc.data or {}).get("Message") if isinstance(exc.data, dict) else None
            outcome: Outcome = ("retry" if isinstance(exc, ServerException | ThrottlingException)
                                else classify(code, status))
            return SendResult(outcome, self.name, code=code,
                              detail=safe_detail(message or exc.message))
        inner = getattr(exc, "inner_exception", None) or exc
        if not isinstance(inner, RetryError):  # e.g. a load balancer's HTML error page
            return SendResult("retry", self.name, code="bad_answer",
                              detail=safe_detail(f"阿里云短信服务的应答无法解析（{type(inner).__name__}）"))
        if is_timeout(inner):
            return SendResult("retry", self.name, code="timeout", detail="等待阿里云应答超时")
        return SendResult("retry", self.name, code="connection_error",
                          detail=safe_detail(f"无法连接阿里云短信服务（{type(inner).__name__}）"))

    def _done(self, message: Outgoing, result: SendResult) -> SendResult:
        log.info("SMS %s to %s via aliyun: %s %s %s", message.kind, mask_phone(message.phone),
                 result.outcome, result.code, result.message_id or "")
        return result
