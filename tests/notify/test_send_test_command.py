"""`python -m app.notify send-test`, and the fake providers run as a process (browser tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app import config
from app.config import Settings
from app.notify import __main__ as command
from tests.fakes.sms_server import TEMPLATES, FakeSmsServer, provider_env, settings_kwargs

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13912345678"


@pytest.fixture
def aliyun_process() -> Iterator[str]:
    """The fake as its own process on a free port; yields its URL."""
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.sms_server", "--provider", "aliyun", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        yield json.loads(fake.stdout.readline())["url"]
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        if fake.stdout is not None:
            fake.stdout.close()


def _send_test(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    return subprocess.run(
        [sys.executable, "-m", "app.notify", "send-test", "--phone", PHONE, *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_send_test_reports_the_providers_answer_in_chinese(aliyun_process: str) -> None:
    env = provider_env("aliyun", aliyun_process)
    done = _send_test(env, "--kind", "ballot_opened")
    assert done.returncode == 0, done.stderr
    assert "短信服务商：aliyun；类型：ballot_opened；模板：SMS_100000002；发往 139****5678" in done.stdout
    assert "结果：已发送" in done.stdout and "回执编号：" in done.stdout
    with httpx.Client(base_url=aliyun_process) as fake:
        [got] = fake.get("/_fake/messages").json()["messages"]
        assert (got["phone"], got["template"]) == (PHONE, TEMPLATES["ballot_opened"])
        assert got["params"] == {"compound": "测试小区", "title": "短信测试", "end": "12月31日 18:00"}

        mode = {"mode": "error", "code": "isv.SMS_TEMPLATE_ILLEGAL"}
        assert fake.post("/_fake/mode", json=mode).status_code == 200
        done = _send_test(env)
        assert done.returncode == 1
        assert "结果：失败" in done.stdout and "应答代码：isv.SMS_TEMPLATE_ILLEGAL" in done.stdout
        assert "说明：模板不存在或未审核通过" in done.stdout
        assert [m["answer"] for m in fake.get("/_fake/messages").json()["messages"]] == [
            "OK", "isv.SMS_TEMPLATE_ILLEGAL"]

        assert fake.post("/_fake/reset").status_code == 200
        assert fake.get("/_fake/messages").json()["messages"] == []


def test_send_test_sends_a_login_code_it_does_not_print(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSmsServer("aliyun") as fake:
        settings = Settings(**settings_kwargs("aliyun", fake.url))
        monkeypatch.setattr(config, "get_settings", lambda: settings)
        assert command.main(["send-test", "--phone", PHONE]) == 0
        [got] = fake.received
    out = capsys.readouterr().out
    assert got.template == TEMPLATES["login_code"] and len(got.params["code"]) == 6
    assert "结果：已发送" in out and got.params["code"] not in out and PHONE not in out


def test_send_test_explains_a_wrong_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSmsServer("tencent") as fake:
        settings = Settings(**settings_kwargs("tencent", fake.url,
                                              sms_tencent_secret_key="wrong-secret-key"))
        monkeypatch.setattr(config, "get_settings", lambda: settings)
        assert command.main(["send-test", "--phone", "+86 139-1234-5678"]) == 1
    out = capsys.readouterr().out
    assert "结果：失败" in out and "应答代码：AuthFailure.SignatureFailure" in out
    assert "说明：签名校验失败：GONGJUE_SMS_TENCENT_SECRET_KEY 不正确" in out
    assert PHONE not in out


def test_send_test_names_missing_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGJUE_SMS_PROVIDER", "aliyun")
    monkeypatch.setattr(config, "get_settings", Settings)  # reads the environment afresh
    assert command.main(["send-test", "--phone", PHONE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("配置有误，无法发送：")
    assert "GONGJUE_SMS_ALIYUN_ACCESS_KEY_ID" in err and "GONGJUE_SMS_TEMPLATE_LOGIN_CODE" in err


def test_send_test_refuses_a_malformed_phone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(config, "get_settings", lambda: Settings(sms_provider="memory"))
    assert command.main(["send-test", "--phone", "12345"]) == 2
    assert "手机号码格式不正确" in capsys.readouterr().err
