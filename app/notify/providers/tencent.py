"""Tencent Cloud SMS (SendSms 2021-01-11) through its official SDK.

One attempt per `send`: the outbox decides about retries. The SDK signs each request with the
SecretId/SecretKey (TC3-HMAC-SHA256) and raises TencentCloudSDKException for Response.Error;
per-number results come in SendStatusSet with Code "Ok" or an error code.
"""

from __future__ import annotations

import logging

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from app.config import Settings
from app.notify.messages import TEMPLATE_PARAMS, check_params
from app.notify.providers.base import Outcome, Outgoing, SendResult
from app.notify.providers.common import is_timeout, safe_detail, split_endpoint
from app.privacy import mask_phone

log = logging.getLogger("gongjue.sms")

PUBLIC_HOST = "sms.tencentcloudapi.com"

# Documented answers worth trying again later (https://cloud.tencent.com/document/api/382/52075):
# frequency and quota limits, internal errors, and the SDK's network errors. Every other code
# except "Ok" is permanent.
RETRY_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded", "InternalError")
RETRY_CODES = frozenset({
    "LimitExceeded", "InternalError", "ServiceUnavailable", "ResourceUnavailable",
    "ServerNetworkError",  # the SDK: the answer's HTTP status was not 200
    "ClientNetworkError",  # the SDK: no answer (connection refused, reset, time-out)
    "FailedOperation.JsonParseFail",
})

HINTS: dict[str, str] = {
    "Ok": "发送成功",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号码格式不正确",
    "FailedOperation.TemplateIncorrectOrUnapproved":
        "模板未审核通过或内容不匹配：检查 GONGJUE_SMS_TEMPLATE_* 填写的模板 ID",
    "FailedOperation.SignatureIncorrectOrUnapproved":
        "签名未审核通过或格式错误：检查 GONGJUE_SMS_SIGN_NAME",
    "FailedOperation.PhoneNumberInBlacklist": "手机号在免打扰名单中（用户退订或运营商管控）",
    "FailedOperation.InsufficientBalanceInSmsPackage": "短信套餐包余量不足：请购买套餐包",
    "FailedOperation.ContainSensitiveWord": "短信内容含有敏感词",
    "FailedOperation.MissingTemplateToModify": "模板不存在：检查模板 ID",
    "InvalidParameterValue.TemplateParameterFormatError": "模板变量格式错误（应为纯文本）",
    "InvalidParameterValue.TemplateParameterLengthLimit": "模板变量超出长度限制（标题过长）",
    "InvalidParameterValue.SdkAppIdNotExist": "SdkAppId 不存在：检查 GONGJUE_SMS_TENCENT_SDK_APP_ID",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SdkAppId 校验失败：检查 GONGJUE_SMS_TENCENT_SDK_APP_ID",
    "UnauthorizedOperation.RequestPermissionDeny": "请求没有权限：请联系腾讯云短信小助手",
    "UnauthorizedOperation.RequestIpNotInWhitelist": "服务器 IP 不在短信控制台设置的白名单中",
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": "个人用户不能发送营销短信",
    "AuthFailure.SignatureFailure": "签名校验失败：GONGJUE_SMS_TENCENT_SECRET_KEY 不正确",
    "AuthFailure.SecretIdNotFound": "SecretId 不存在或已禁用：检查 GONGJUE_SMS_TENCENT_SECRET_ID",
    "AuthFailure.InvalidSecretId": "SecretId 不是云 API 密钥：检查 GONGJUE_SMS_TENCENT_SECRET_ID",
    "AuthFailure.UnauthorizedOperation": "该密钥的子用户没有短信权限（CAM 授权 QcloudSMSFullAccess）",
    "AuthFailure.SignatureExpire": "服务器时间与标准时间相差超过五分钟：请校准服务器时钟",
    "LimitExceeded.PhoneNumberDailyLimit": "该号码今天收到的短信已达上限（控制台频率限制）",
    "LimitExceeded.PhoneNumberOneHourLimit": "该号码一小时内收到的短信已达上限",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "该号码30秒内收到的短信已达上限",
    "LimitExceeded.DeliveryFrequencyLimit": "触发频率限制策略，稍后重试",
    "LimitExceeded.AppDailyLimit": "已达到控制台设置的应用日发送上限",
}


def classify(code: str | None) -> Outcome:
    if code == "Ok":
        return "sent"
    if code and (code in RETRY_CODES or code.startswith(RETRY_PREFIXES)):
        return "retry"
    return "failed"


def e164(phone: str) -> str:
    return phone if phone.startswith("+") else "+86" + phone


class TencentProvider:
    """Sends through Tencent Cloud SMS with the GONGJUE_SMS_TENCENT_* settings."""

    name = "tencent"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        scheme, host = split_endpoint(settings.sms_endpoint, PUBLIC_HOST)
        # requests applies reqTimeout to connecting and to each read alike.
        http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=settings.sms_timeout_seconds)
        self.client = SmsClient(
            credential.Credential(settings.sms_tencent_secret_id,
                                  settings.sms_tencent_secret_key.get_secret_value()),
            settings.sms_tencent_region,
            ClientProfile(httpProfile=http, language="zh-CN"),
        )

    def send(self, message: Outgoing) -> SendResult:
        try:
            check_params(message.kind, message.params)
        except ValueError as exc:
            return self._done(message, SendResult("failed", self.name, code="gongjue.params",
                                                  detail=safe_detail(exc)))
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [e164(message.phone)]
        request.SmsSdkAppId = self.settings.sms_tencent_sdk_app_id
        request.SignName = self.settings.sms_sign_name
        request.TemplateId = self.settings.sms_template(message.kind)
        request.TemplateParamSet = [message.params[name] for name in TEMPLATE_PARAMS[message.kind]]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            return self._done(message, self._from_exception(exc))
        except Exception as exc:  # the SDK wraps most errors; none may escape the outbox
            return self._done(message, SendResult("retry", self.name, code="ClientError",
                                                  detail=safe_detail(type(exc).__name__)))
        statuses = response.SendStatusSet or []
        if not statuses:
            return self._done(message, SendResult("retry", self.name, code="EmptyAnswer",
                                                  detail="腾讯云应答中没有发送状态"))
        status = statuses[0]
        return self._done(message, SendResult(
            classify(status.Code), self.name, message_id=status.SerialNo or None,
            code=status.Code, detail=safe_detail(status.Message),
        ))

    def _from_exception(self, exc: TencentCloudSDKException) -> SendResult:
        code = exc.get_code() or "ClientError"
        if code == "ClientNetworkError":
            if is_timeout(exc.get_message()):
                return SendResult("retry", self.name, code="timeout", detail="等待腾讯云应答超时")
            return SendResult("retry", self.name, code="connection_error",
                              detail="无法连接腾讯云短信服务")
        if code == "ServerNetworkError":
            return SendResult("retry", self.name, code=code, detail="腾讯云短信服务应答异常（非200）")
        return SendResult(classify(code), self.name, code=code,
                          detail=safe_detail(exc.get_message()))

    def _done(self, message: Outgoing, result: SendResult) -> SendResult:
        log.info("SMS %s to %s via tencent: %s %s %s", message.kind, mask_phone(message.phone),
                 result.outcome, result.code, result.message_id or "")
        return result
