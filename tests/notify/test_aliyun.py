"""Alibaba Cloud SMS: the official SDK sends to a local fake of dysmsapi that checks signatures."""

from __future__ import annotations

import logging
import threading

import pytest

from app.notify.messages import MESSAGE_KINDS, TEMPLATE_PARAMS, MessageKind
from app.notify.providers import make_provider
from app.notify.providers.aliyun import AliyunProvider
from app.notify.providers.base import Outgoing, SendResult
from tests.fakes.sms_server import ALIYUN_KEY_ID, SIGN_NAME, TEMPLATES, FakeSmsServer
from tests.notify.conftest import fake_settings

PHONE = "13912345678"
CODE = "583920"


def _params(kind: MessageKind) -> dict[str, str]:
    sample = {"code": CODE, "compound": "阳光花园", "title": "续聘物业“安居”& 公共收益+分配",
              "end": "12月31日 18:00"}
    return {name: sample[name] for name in TEMPLATE_PARAMS[kind]}


def _send(fake: FakeSmsServer, kind: MessageKind = "login_code", **settings: object) -> SendResult:
    provider = AliyunProvider(fake_settings(fake, **settings))
    return provider.send(Outgoing(PHONE, kind, _params(kind)))


@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_each_kind_sends_its_template_with_named_parameters(
    aliyun_fake: FakeSmsServer, kind: MessageKind
) -> None:
    result = _send(aliyun_fake, kind)
    [got] = aliyun_fake.received
    assert (got.phone, got.template, got.sign_name) == (PHONE, TEMPLATES[kind], SIGN_NAME)
    assert got.params == _params(kind)  # TemplateParam JSON by name
    assert result == SendResult("sent", "aliyun", message_id=got.message_id, code="OK",
                                detail="OK")
    assert result.message_id


def test_make_provider_builds_it_from_the_settings(aliyun_fake: FakeSmsServer) -> None:
    provider = make_provider("aliyun", fake_settings(aliyun_fake))
    assert isinstance(provider, AliyunProvider)
    assert provider.send(Outgoing(PHONE, "login_code", {"code": CODE})).outcome == "sent"


def test_a_wrong_secret_is_refused_by_the_signature_check(aliyun_fake: FakeSmsServer) -> None:
    result = _send(aliyun_fake, sms_aliyun_access_key_secret="not-the-secret-0123456789")
    assert (result.outcome, result.code) == ("failed", "SignatureDoesNotMatch")
    assert aliyun_fake.received == [] and aliyun_fake.refused == ["SignatureDoesNotMatch"]


def test_an_unknown_access_key_is_refused(aliyun_fake: FakeSmsServer) -> None:
    result = _send(aliyun_fake, sms_aliyun_access_key_id=ALIYUN_KEY_ID + "x")
    assert (result.outcome, result.code) == ("failed", "InvalidAccessKeyId.NotFound")
    assert aliyun_fake.received == []


@pytest.mark.parametrize("code", ["isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR"])
def test_throttling_and_system_errors_are_retried(aliyun_fake: FakeSmsServer, code: str) -> None:
    aliyun_fake.set_mode("error", code)
    result = _send(aliyun_fake)
    assert (result.outcome, result.code, result.message_id) == ("retry", code, None)
    assert result.detail == f"fake answer {code}"


@pytest.mark.parametrize("code", [
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS", "isv.OUT_OF_SERVICE", "isp.RAM_PERMISSION_DENY",
    "isv.SOMETHING_NEW",  # unknown codes: failed, and recorded
])
def test_permanent_answers_fail(aliyun_fake: FakeSmsServer, code: str) -> None:
    aliyun_fake.set_mode("error", code)
    result = _send(aliyun_fake)
    assert (result.outcome, result.code) == ("failed", code)
    assert [r.answer for r in aliyun_fake.received] == [code]


def test_a_throttled_gateway_answer_is_retried(aliyun_fake: FakeSmsServer) -> None:
    aliyun_fake.set_mode("error", "Throttling.User", status=400)
    assert (_send(aliyun_fake).outcome, _send(aliyun_fake).code) == ("retry", "Throttling.User")


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(aliyun_fake: FakeSmsServer, status: int) -> None:
    aliyun_fake.set_mode("5xx", status=status)
    result = _send(aliyun_fake)
    assert (result.outcome, result.code) == ("retry", "ServiceUnavailable")


def test_an_unreadable_server_error_is_retried(aliyun_fake: FakeSmsServer) -> None:
    aliyun_fake.set_mode("5xx", status=502)  # HTML from a load balancer
    result = _send(aliyun_fake)
    assert (result.outcome, result.code) == ("retry", "bad_answer")


def test_a_hanging_server_gives_retry_after_the_time_out(aliyun_fake: FakeSmsServer) -> None:
    aliyun_fake.set_mode("hang")
    results: list[SendResult] = []
    worker = threading.Thread(target=lambda: results.append(
        _send(aliyun_fake, sms_timeout_seconds=0.5)))
    worker.start()
    worker.join(timeout=30)  # the fake would hang for 60 s: returning at all is the point
    assert not worker.is_alive()
    assert [(r.outcome, r.code) for r in results] == [("retry", "timeout")]
    assert [r.answer for r in aliyun_fake.received] == ["hang"]


def test_no_server_gives_retry(aliyun_fake: FakeSmsServer) -> None:
    url = aliyun_fake.url
    aliyun_fake.stop()
    result = _send(aliyun_fake, sms_endpoint=url)
    assert (result.outcome, result.code) == ("retry", "connection_error")


def test_phone_numbers_and_codes_stay_out_of_results_and_logs(
    aliyun_fake: FakeSmsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    results = [_send(aliyun_fake)]
    aliyun_fake.set_mode("error", "isv.MOBILE_NUMBER_ILLEGAL")
    results.append(_send(aliyun_fake))
    aliyun_fake.set_mode("hang")
    results.append(_send(aliyun_fake, sms_timeout_seconds=0.5))
    url = aliyun_fake.url
    aliyun_fake.stop()  # connection errors quote the request URL, whose query holds both
    results.append(_send(aliyun_fake, sms_endpoint=url))
    assert [r.outcome for r in results] == ["sent", "failed", "retry", "retry"]
    text = repr(results) + caplog.text
    assert PHONE not in text and CODE not in text
    assert "139****5678" in caplog.text  # the log names the masked number
