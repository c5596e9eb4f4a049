"""Tencent Cloud SMS: the official SDK sends to a local fake of its TC3 API that checks signatures."""

from __future__ import annotations

import logging
import threading

import pytest

from app.notify.messages import MESSAGE_KINDS, TEMPLATE_PARAMS, MessageKind
from app.notify.providers import make_provider
from app.notify.providers.base import Outgoing, SendResult
from app.notify.providers.tencent import TencentProvider
from tests.fakes.sms_server import SIGN_NAME, TENCENT_SECRET_ID, TENCENT_TEMPLATES, FakeSmsServer
from tests.notify.conftest import fake_settings

PHONE = "13912345678"
CODE = "583920"


def _params(kind: MessageKind) -> dict[str, str]:
    sample = {"code": CODE, "compound": "阳光花园", "title": "续聘物业“安居”& 公共收益+分配",
              "end": "12月31日 18:00"}
    return {name: sample[name] for name in TEMPLATE_PARAMS[kind]}


def _send(fake: FakeSmsServer, kind: MessageKind = "login_code", **settings: object) -> SendResult:
    provider = TencentProvider(fake_settings(fake, **settings))
    return provider.send(Outgoing(PHONE, kind, _params(kind)))


@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_each_kind_sends_its_template_with_positional_parameters(
    tencent_fake: FakeSmsServer, kind: MessageKind
) -> None:
    # Parameters given in another order still go out in TEMPLATE_PARAMS order.
    params = dict(reversed(_params(kind).items()))
    result = TencentProvider(fake_settings(tencent_fake)).send(Outgoing(PHONE, kind, params))
    [got] = tencent_fake.received
    assert (got.phone, got.template, got.sign_name) == ("+86" + PHONE, TENCENT_TEMPLATES[kind],
                                                        SIGN_NAME)
    assert got.params == [_params(kind)[name] for name in TEMPLATE_PARAMS[kind]]
    assert result == SendResult("sent", "tencent", message_id=got.message_id, code="Ok",
                                detail="send success")
    assert result.message_id


def test_make_provider_builds_it_from_the_settings(tencent_fake: FakeSmsServer) -> None:
    provider = make_provider("tencent", fake_settings(tencent_fake))
    assert isinstance(provider, TencentProvider)
    assert provider.send(Outgoing(PHONE, "login_code", {"code": CODE})).outcome == "sent"


def test_a_wrong_secret_is_refused_by_the_signature_check(tencent_fake: FakeSmsServer) -> None:
    result = _send(tencent_fake, sms_tencent_secret_key="not-the-secret-key")
    assert (result.outcome, result.code) == ("failed", "AuthFailure.SignatureFailure")
    assert tencent_fake.received == [] and tencent_fake.refused == ["AuthFailure.SignatureFailure"]


def test_an_unknown_secret_id_is_refused(tencent_fake: FakeSmsServer) -> None:
    result = _send(tencent_fake, sms_tencent_secret_id=TENCENT_SECRET_ID + "x")
    assert (result.outcome, result.code) == ("failed", "AuthFailure.SecretIdNotFound")


def test_a_wrong_sdk_app_id_fails(tencent_fake: FakeSmsServer) -> None:
    result = _send(tencent_fake, sms_tencent_sdk_app_id="1400999999")
    assert (result.outcome, result.code) == ("failed", "InvalidParameterValue.SdkAppIdNotExist")


@pytest.mark.parametrize("code", [
    "LimitExceeded.PhoneNumberDailyLimit",  # per number, in SendStatusSet
    "LimitExceeded.DeliveryFrequencyLimit",
    "RequestLimitExceeded",  # Response.Error
    "InternalError.Timeout",
    "InternalError.OtherError",
])
def test_throttling_and_internal_errors_are_retried(tencent_fake: FakeSmsServer, code: str) -> None:
    tencent_fake.set_mode("error", code)
    result = _send(tencent_fake)
    assert (result.outcome, result.code, result.message_id) == ("retry", code, None)


@pytest.mark.parametrize("code", [
    "InvalidParameterValue.IncorrectPhoneNumber",  # per number, in SendStatusSet
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.TemplateIncorrectOrUnapproved",  # Response.Error
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.InsufficientBalanceInSmsPackage",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
    "FailedOperation.SomethingNew",  # unknown codes: failed, and recorded
])
def test_permanent_answers_fail(tencent_fake: FakeSmsServer, code: str) -> None:
    tencent_fake.set_mode("error", code)
    result = _send(tencent_fake)
    assert (result.outcome, result.code) == ("failed", code)
    assert result.detail == f"fake answer {code}"


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_are_retried(tencent_fake: FakeSmsServer, status: int) -> None:
    tencent_fake.set_mode("5xx", status=status)
    result = _send(tencent_fake)
    assert (result.outcome, result.code) == ("retry", "ServerNetworkError")


def test_a_hanging_server_gives_retry_after_the_time_out(tencent_fake: FakeSmsServer) -> None:
    tencent_fake.set_mode("hang")
    results: list[SendResult] = []
    worker = threading.Thread(target=lambda: results.append(
        _send(tencent_fake, sms_timeout_seconds=0.5)))
    worker.start()
    worker.join(timeout=30)  # the fake would hang for 60 s: returning at all is the point
    assert not worker.is_alive()
    assert [(r.outcome, r.code) for r in results] == [("retry", "timeout")]


def test_no_server_gives_retry(tencent_fake: FakeSmsServer) -> None:
    url = tencent_fake.url
    tencent_fake.stop()
    result = _send(tencent_fake, sms_endpoint=url)
    assert (result.outcome, result.code) == ("retry", "connection_error")


def test_phone_numbers_and_codes_stay_out_of_results_and_logs(
    tencent_fake: FakeSmsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    results = [_send(tencent_fake)]
    tencent_fake.set_mode("error", "InvalidParameterValue.IncorrectPhoneNumber")
    results.append(_send(tencent_fake))
    tencent_fake.set_mode("hang")
    results.append(_send(tencent_fake, sms_timeout_seconds=0.5))
    url = tencent_fake.url
    tencent_fake.stop()
    results.append(_send(tencent_fake, sms_endpoint=url))
    assert [r.outcome for r in results] == ["sent", "failed", "retry", "retry"]
    text = repr(results) + caplog.text
    assert PHONE not in text and CODE not in text
    assert "139****5678" in caplog.text
