"""Local fakes of Alibaba Cloud's and Tencent Cloud's SMS APIs, for the real SDKs to talk to.

A threaded HTTP server on 127.0.0.1 that speaks just enough of each API for the official SDK to
send one message: Alibaba Cloud's RPC-style SendSms (2017-05-25) signed ACS3-HMAC-SHA256, and
Tencent Cloud's TC3-HMAC-SHA256 JSON API (SendSms 2021-01-11). It verifies each request's
signature with the known test secret, like the real services refuses what does not verify,
records the messages it accepted, and can be switched to answer with an error code, a 5xx, or to
hang (time-out tests).

From pytest: the `sms_fake` fixtures in tests/notify/conftest.py. As a process (browser tests):

    python -m tests.fakes.sms_server --provider aliyun --port 8125

plus `GET /_fake/messages`, `POST /_fake/mode` ({"mode": "ok" | "error" | "5xx" | "hang",
"code": "isv.BUSINESS_LIMIT_CONTROL", "status": 200}) and `POST /_fake/reset`; `provider_env()`
gives the GONGJUE_* settings that point the app at it.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

ALIYUN_KEY_ID = "LTAI5tGongjueFakeKeyId"
ALIYUN_KEY_SECRET = "gongjue-fake-aliyun-access-key-secret"
TENCENT_SECRET_ID = "AKIDGongjueFakeSecretId0000000000000"
TENCENT_SECRET_KEY = "gongjue-fake-tencent-secret-key"
TENCENT_SDK_APP_ID = "1400000001"
SIGN_NAME = "共决"
# Template codes the settings point at (GONGJUE_SMS_TEMPLATE_<KIND>).
TEMPLATES = {
    "login_code": "SMS_100000001",
    "ballot_opened": "SMS_100000002",
    "ballot_reminder": "SMS_100000003",
    "result_published": "SMS_100000004",
    "notice_published": "SMS_100000005",
}
TENCENT_TEMPLATES = {kind: str(2000001 + i) for i, kind in enumerate(TEMPLATES)}
# Tencent answers these per number in SendStatusSet; other error codes come as Response.Error.
TENCENT_PER_NUMBER = ("LimitExceeded.", "InvalidParameterValue.IncorrectPhoneNumber",
                      "FailedOperation.PhoneNumberInBlacklist")
HANG_SECONDS = 60.0


def provider_env(provider: str, url: str, *, secret: str | None = None) -> dict[str, str]:
    """GONGJUE_* settings that send through the fake at `url` (e.g. http://127.0.0.1:8125)."""
    templates = TEMPLATES if provider == "aliyun" else TENCENT_TEMPLATES
    env = {"GONGJUE_SMS_PROVIDER": provider, "GONGJUE_SMS_ENDPOINT": url,
           "GONGJUE_SMS_SIGN_NAME": SIGN_NAME}
    env.update({f"GONGJUE_SMS_TEMPLATE_{kind.upper()}": code for kind, code in templates.items()})
    if provider == "aliyun":
        env.update({"GONGJUE_SMS_ALIYUN_ACCESS_KEY_ID": ALIYUN_KEY_ID,
                    "GONGJUE_SMS_ALIYUN_ACCESS_KEY_SECRET": secret or ALIYUN_KEY_SECRET})
    else:
        env.update({"GONGJUE_SMS_TENCENT_SECRET_ID": TENCENT_SECRET_ID,
                    "GONGJUE_SMS_TENCENT_SECRET_KEY": secret or TENCENT_SECRET_KEY,
                    "GONGJUE_SMS_TENCENT_SDK_APP_ID": TENCENT_SDK_APP_ID})
    return env


def settings_kwargs(provider: str, url: str, **overrides: Any) -> dict[str, Any]:
    """`provider_env` as keyword arguments of app.config.Settings."""
    kwargs: dict[str, Any] = {name.removeprefix("GONGJUE_").lower(): value
                              for name, value in provider_env(provider, url).items()}
    kwargs.update(overrides)
    return kwargs


@dataclass
class Received:
    """One signed request the fake accepted for processing, and what it answered."""

    phone: str
    template: str
    params: Any  # Aliyun: the TemplateParam object; Tencent: the TemplateParamSet list
    sign_name: str
    answer: str  # the code answered ("OK", "Ok", an error code, "5xx", "hang")
    message_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Mode:
    mode: str = "ok"  # ok | error | 5xx | hang
    code: str = ""
    status: int = 200


@dataclass
class _State:
    provider: str
    key_id: str
    secret: str
    mode: Mode = field(default_factory=Mode)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # codes of requests refused before sending
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    serial: int = 0


class FakeSmsServer:
    """The fake of one provider ("aliyun" or "tencent") on 127.0.0.1."""

    def __init__(self, provider: str, port: int = 0, *, key_id: str | None = None,
                 secret: str | None = None) -> None:
        if provider not in ("aliyun", "tencent"):
            raise ValueError(f"unknown provider {provider!r}")
        self.state = _State(
            provider,
            key_id or (ALIYUN_KEY_ID if provider == "aliyun" else TENCENT_SECRET_ID),
            secret or (ALIYUN_KEY_SECRET if provider == "aliyun" else TENCENT_SECRET_KEY),
        )
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def provider(self) -> str:
        return self.state.provider

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env(self, *, secret: str | None = None) -> dict[str, str]:
        return provider_env(self.provider, self.url, secret=secret)

    def start(self) -> FakeSmsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.state.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def set_mode(self, mode: str = "ok", code: str = "", status: int = 200) -> None:
        if mode not in ("ok", "error", "5xx", "hang"):
            raise ValueError(f"unknown mode {mode!r}")
        with self.state.lock:
            self.state.mode = Mode(mode, code, status)
            if mode == "hang":
                self.state.release.clear()
            else:
                self.state.release.set()

    def reset(self) -> None:
        self.set_mode("ok")
        with self.state.lock:
            self.state.received.clear()
            self.state.refused.clear()

    @property
    def received(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.received)

    @property
    def refused(self) -> list[str]:
        with self.state.lock:
            return list(self.state.refused)

    def __enter__(self) -> FakeSmsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _auth_fields(header: str, algorithm: str) -> dict[str, str]:
    if not header.startswith(algorithm + " "):
        return {}
    fields = {}
    for part in header[len(algorithm) + 1:].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


class _Handler(BaseHTTPRequestHandler):
    state: _State
    server_version = "GongjueFakeSms/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the records
        return

    # --- plumbing -------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(
            payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/_fake/messages":
            with self.state.lock:
                self._answer(200, {"provider": self.state.provider,
                                   "messages": [r.as_dict() for r in self.state.received],
                                   "refused": list(self.state.refused)})
            return
        self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        if path == "/_fake/mode":
            wanted = json.loads(body or b"{}")
            mode = Mode(wanted.get("mode", "ok"), wanted.get("code", ""),
                        int(wanted.get("status", 200)))
            if mode.mode not in ("ok", "error", "5xx", "hang"):
                self._answer(400, {"error": f"unknown mode {mode.mode}"})
                return
            with self.state.lock:
                self.state.mode = mode
                (self.state.release.clear if mode.mode == "hang" else self.state.release.set)()
            self._answer(200, {"mode": mode.__dict__})
            return
        if path == "/_fake/reset":
            with self.state.lock:
                self.state.mode = Mode()
                self.state.release.set()
                self.state.received.clear()
                self.state.refused.clear()
            self._answer(200, {"reset": True})
            return
        if self.state.provider == "aliyun":
            self._aliyun(body)
        else:
            self._tencent(body)

    def _record(self, received: Received) -> Mode:
        with self.state.lock:
            self.state.serial += 1
            mode = self.state.mode
            received.answer = {"ok": "OK" if self.state.provider == "aliyun" else "Ok",
                               "error": mode.code, "5xx": "5xx", "hang": "hang"}[mode.mode]
            if mode.mode == "ok":
                received.message_id = f"{900000 + self.state.serial}^{self.state.serial}"
            self.state.received.append(received)
            return mode

    def _refuse(self, code: str) -> None:
        with self.state.lock:
            self.state.refused.append(code)

    def _hang(self) -> None:
        self.state.release.wait(HANG_SECONDS)
        self.close_connection = True  # no answer: the client's read time-out fires first

    # --- Alibaba Cloud: RPC style, ACS3-HMAC-SHA256 ---------------------------------------------

    def _aliyun_error(self, status: int, code: str, message: str) -> None:
        self._answer(status, {"RequestId": str(uuid.uuid4()).upper(), "HostId":
                              "dysmsapi.aliyuncs.com", "Code": code, "Message": message})

    def _aliyun(self, body: bytes) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        auth = _auth_fields(self.headers.get("Authorization", ""), "ACS3-HMAC-SHA256")
        if not auth:
            self._refuse("MissingAuthorization")
            self._aliyun_error(400, "IncompleteSignature", "The request signature is missing.")
            return
        if auth.get("Credential") != self.state.key_id:
            self._refuse("InvalidAccessKeyId.NotFound")
            self._aliyun_error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            return
        signed = auth.get("SignedHeaders", "").split(";")
        if not {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date",
                "x-acs-signature-nonce"} <= set(signed):
            self._refuse("IncompleteSignature")
            self._aliyun_error(400, "IncompleteSignature", "The request signature is incomplete.")
            return
        canonical_headers = "".join(
            f"{name}:{','.join(sorted(v.strip() for v in self.headers.get_all(name) or []))}\n"
            for name in signed)
        canonical_query = "&".join(f"{k}={quote(query[k], safe='~')}" for k in sorted(query))
        payload_hash = self.headers.get("x-acs-content-sha256", "")
        canonical = "\n".join([self.command, url.path or "/", canonical_query, canonical_headers,
                               ";".join(signed), payload_hash])
        to_sign = "ACS3-HMAC-SHA256\n" + _sha256_hex(canonical.encode("utf-8"))
        expected = _hmac(self.state.secret.encode("utf-8"), to_sign).hex()
        if payload_hash != _sha256_hex(body) or not hmac.compare_digest(
                expected, auth.get("Signature", "")):
            self._refuse("SignatureDoesNotMatch")
            self._aliyun_error(400, "SignatureDoesNotMatch",
                               "Specified signature does not match our calculation.")
            return
        if (self.headers.get("x-acs-action"), self.headers.get("x-acs-version")) != (
                "SendSms", "2017-05-25"):
            self._refuse("InvalidAction")
            self._aliyun_error(400, "InvalidAction.NotFound", "Specified api is not found.")
            return
        try:
            params = json.loads(query.get("TemplateParam") or "{}")
        except ValueError:
            self._aliyun_error(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            return
        received = Received(query.get("PhoneNumbers", ""), query.get("TemplateCode", ""), params,
                            query.get("SignName", ""), "")
        mode = self._record(received)
        request_id = str(uuid.uuid4()).upper()
        if mode.mode == "hang":
            self._hang()
        elif mode.mode == "5xx" and mode.status == 502:  # a load balancer's page, not JSON
            self._answer(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif mode.mode == "5xx":
            self._aliyun_error(mode.status if mode.status >= 500 else 503, "ServiceUnavailable",
                               "The request has failed due to a temporary failure of the server.")
        elif mode.mode == "error":
            self._answer(mode.status, {"RequestId": request_id, "Code": mode.code,
                                       "Message": f"fake answer {mode.code}"})
        else:
            self._answer(200, {"RequestId": request_id, "Code": "OK", "Message": "OK",
                               "BizId": received.message_id})

    # --- Tencent Cloud: TC3-HMAC-SHA256 JSON API ------------------------------------------------

    def _tencent_error(self, code: str, message: str) -> None:
        self._answer(200, {"Response": {"Error": {"Code": code, "Message": message},
                                        "RequestId": str(uuid.uuid4())}})

    def _tencent(self, body: bytes) -> None:
        auth = _auth_fields(self.headers.get("Authorization", ""), "TC3-HMAC-SHA256")
        timestamp = self.headers.get("X-TC-Timestamp", "")
        credential = auth.get("Credential", "").split("/")
        if not auth or len(credential) != 4 or not timestamp.isdigit():
            self._refuse("AuthFailure.InvalidAuthorization")
            self._tencent_error("AuthFailure.InvalidAuthorization",
                                "Authorization in the request header is invalid.")
            return
        secret_id, date, service, scope_end = credential
        if secret_id != self.state.key_id:
            self._refuse("AuthFailure.SecretIdNotFound")
            self._tencent_error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
            return
        day = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
        signed = auth.get("SignedHeaders", "").split(";")
        if (service, scope_end, date) != ("sms", "tc3_request", day) or not {
                "content-type", "host"} <= set(signed):
            self._refuse("AuthFailure.InvalidAuthorization")
            self._tencent_error("AuthFailure.InvalidAuthorization",
                                "Authorization in the request header is invalid.")
            return
        url = urlsplit(self.path)
        canonical_headers = "".join(f"{n}:{(self.headers.get(n) or '').strip().lower()}\n"
                                    if n == "content-type" else
                                    f"{n}:{(self.headers.get(n) or '').strip()}\n"
                                    for n in signed)
        canonical = "\n".join([self.command, url.path or "/", url.query, canonical_headers,
                               ";".join(signed), _sha256_hex(body)])
        scope = f"{date}/{service}/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256_hex(canonical.encode())}"
        key = _hmac(_hmac(_hmac(("TC3" + self.state.secret).encode(), date), service),
                    "tc3_request")
        if not hmac.compare_digest(_hmac(key, to_sign).hex(), auth.get("Signature", "")):
            self._refuse("AuthFailure.SignatureFailure")
            self._tencent_error("AuthFailure.SignatureFailure", "The provided credentials could "
                                "not be validated. Please check your signature is correct.")
            return
        if (self.headers.get("X-TC-Action"), self.headers.get("X-TC-Version")) != (
                "SendSms", "2021-01-11"):
            self._tencent_error("InvalidAction", "The action is not found.")
            return
        request = json.loads(body or b"{}")
        if request.get("SmsSdkAppId") != TENCENT_SDK_APP_ID:
            self._tencent_error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")
            return
        phones = request.get("PhoneNumberSet") or [""]
        received = Received(phones[0], request.get("TemplateId", ""),
                            request.get("TemplateParamSet", []), request.get("SignName", ""), "")
        mode = self._record(received)
        request_id = str(uuid.uuid4())
        if mode.mode == "hang":
            self._hang()
        elif mode.mode == "5xx":
            self._answer(mode.status if mode.status >= 500 else 502,
                         b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif mode.mode == "error" and not mode.code.startswith(TENCENT_PER_NUMBER):
            self._tencent_error(mode.code, f"fake answer {mode.code}")
        else:
            ok = mode.mode == "ok"
            status = {"SerialNo": received.message_id, "PhoneNumber": phones[0],
                      "Fee": 1 if ok else 0, "SessionContext": "",
                      "Code": "Ok" if ok else mode.code,
                      "Message": "send success" if ok else f"fake answer {mode.code}",
                      "IsoCode": "CN"}
            self._answer(200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Alibaba Cloud / Tencent Cloud SMS API")
    parser.add_argument("--provider", choices=("aliyun", "tencent"), required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = FakeSmsServer(args.provider, args.port)
    print(json.dumps({"url": server.url, "env": server.env()}, ensure_ascii=False), flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.state.release.set()
        server.httpd.server_close()


if __name__ == "__main__":
    main()
