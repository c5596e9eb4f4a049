"""The production recipe end to end: Caddy (deploy/Caddyfile, `tls internal`) in front of the
real app (the ExecStart of deploy/systemd/gongjue.service, production settings), over HTTPS.

Checks through Caddy, trusting only Caddy's own root CA: login sets Secure HttpOnly cookies, a
write without the CSRF header is refused and with it accepted, HSTS is sent, plain HTTP is
redirected, and the app sees the real client address (the client connects from 127.0.0.2; the
per-address login counter is keyed by it, whatever X-Forwarded-For the client makes up).

Needs Debian's `caddy` (.ci/run installs it): skipped when missing outside CI; a developer skips
it with `-m "not caddy"`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import ROOT_DIR
from bench.server import free_port
from tests.deploy.units import DEPLOY, UNITS, exec_start
from tests.fakes.sms_server import provider_env

pytestmark = [
    pytest.mark.caddy,
    pytest.mark.skipif(shutil.which("caddy") is None and os.environ.get("CI") != "true",
                       reason="caddy is not installed (apt-get install caddy)"),
]

CLIENT_ADDRESS = "127.0.0.2"  # the "browser": another loopback address than Caddy's upstream
ADMIN = "itadmin"
ADMIN_PASSWORD = "Gongjue-Live-2026!x"
COMPOUND = {"name": "部署测试小区", "district": "浦东新区", "street": "花木街道",
            "community": "联洋社区"}


@dataclass
class Site:
    base_url: str
    http_port: int
    root_ca: Path
    database: Path
    app_log: Path
    app_port: int

    def client(self, **kwargs: object) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.root_ca))
        transport = httpx.HTTPTransport(verify=context, local_address=CLIENT_ADDRESS)
        return httpx.Client(base_url=self.base_url, transport=transport, timeout=30,
                            **kwargs)  # type: ignore[arg-type]

    def logins_by_address(self) -> Counter[str]:
        """The per-address login counter's rows, by address."""
        with sqlite3.connect(self.database) as conn:
            rows = conn.execute("SELECT key FROM rate_limit_hit WHERE key LIKE 'login:addr:%'")
            return Counter(row[0].removeprefix("login:addr:") for row in rows)


def _wait(what: str, ready: object, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get_ok(url: str, **kwargs: object) -> bool:
    try:
        return httpx.get(url, timeout=2, **kwargs).status_code == 200  # type: ignore[arg-type]
    except (httpx.HTTPError, ssl.SSLError, OSError):
        return False


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("live")
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    base_url = f"https://127.0.0.1:{https_port}"
    database = tmp / "gongjue.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    env.update({
        "GONGJUE_ENV": "production",
        "GONGJUE_SECRET_KEY": "live-secret-" + "s" * 40,
        "GONGJUE_ID_HASH_KEY": "live-id-hash-" + "h" * 40,
        "GONGJUE_PUBLIC_BASE_URL": base_url,
        "GONGJUE_DATABASE_URL": f"sqlite:///{database}",
        "GONGJUE_SIGNING_KEY_PATH": str(tmp / "checkpoint_ed25519.pem"),
        "GONGJUE_FILES_DIR": str(tmp / "files"),
        "GONGJUE_FRONTEND_DIST": str(tmp / "no-frontend"),
        "GONGJUE_DEMO_DATA": "false",
        "PYTHONUNBUFFERED": "1",
        # Production needs a real SMS provider: Alibaba Cloud's settings (nothing is sent here).
        **provider_env("aliyun", "http://127.0.0.1:9"),
    })
    # The Going-live steps: schema, first administrator, then the unit's command.
    for argv in ([sys.executable, "-m", "alembic", "upgrade", "head"],
                 [sys.executable, "-m", "app.auth", "create-admin", "--username", ADMIN]):
        done = subprocess.run(argv, cwd=ROOT_DIR, env=env | {"GONGJUE_ADMIN_PASSWORD":
                                                             ADMIN_PASSWORD},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    command = exec_start(UNITS / "gongjue.service", GONGJUE_WORKERS="2")
    command[command.index("--port") + 1] = str(app_port)

    caddy_home = tmp / "caddy"
    caddy_env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")} | {
        "HOME": str(caddy_home), "XDG_DATA_HOME": str(caddy_home / "data"),
        "XDG_CONFIG_HOME": str(caddy_home / "config"),
        "GONGJUE_DOMAIN": "127.0.0.1", "GONGJUE_TLS": "internal",
        "GONGJUE_UPSTREAM": f"127.0.0.1:{app_port}", "GONGJUE_CADDY_ADMIN": "off",
        "GONGJUE_HTTP_PORT": str(http_port), "GONGJUE_HTTPS_PORT": str(https_port),
    }
    root_ca = caddy_home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    app_log, caddy_log = tmp / "app.log", tmp / "caddy.log"
    with app_log.open("wb") as app_out, caddy_log.open("wb") as caddy_out:
        app = subprocess.Popen(command, cwd=ROOT_DIR, env=env, stdout=app_out,
                               stderr=subprocess.STDOUT, start_new_session=True)
        caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
            cwd=tmp, env=caddy_env, stdout=caddy_out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            _wait("uvicorn", lambda: _get_ok(f"http://127.0.0.1:{app_port}/healthz"), app,
                  app_log)
            _wait("caddy", lambda: root_ca.exists() and _get_ok(
                f"{base_url}/healthz", verify=ssl.create_default_context(cafile=str(root_ca))),
                caddy, caddy_log)
            yield Site(base_url=base_url, http_port=http_port, root_ca=root_ca,
                       database=database, app_log=app_log, app_port=app_port)
        finally:
            _stop(caddy)
            _stop(app)


def _login(http: httpx.Client, **kwargs: object) -> httpx.Response:
    return http.post("/api/v1/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD},
                     **kwargs)  # type: ignore[arg-type]


def test_only_caddys_root_ca_is_trusted_and_http_is_redirected(site: Site) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{site.base_url}/healthz", timeout=10)  # the system's CAs do not know it
    redirect = httpx.get(f"http://127.0.0.1:{site.http_port}/healthz", timeout=10)
    assert redirect.status_code in (301, 308)
    assert redirect.headers["location"].startswith("https://127.0.0.1")


def test_hsts_and_the_apps_headers_come_through(site: Site) -> None:
    with site.client() as http:
        health = http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert health.headers["x-content-type-options"] == "nosniff"
    assert "server" not in health.headers  # neither Caddy's nor uvicorn's name
    assert health.http_version == "HTTP/1.1"


def test_login_sets_secure_httponly_cookies_and_csrf_guards_writes(site: Site) -> None:
    with site.client() as http:
        login = _login(http)
        assert login.status_code == 200, login.text
        cookies = {c.split("=", 1)[0]: c.lower() for c in login.headers.get_list("set-cookie")}
        assert set(cookies) == {"gj_access", "gj_refresh", "gj_csrf"}
        for name, cookie in cookies.items():
            assert "; secure" in cookie, cookie
            assert ("; httponly" in cookie) == (name != "gj_csrf"), cookie  # the page reads csrf
        assert "samesite=strict" in cookies["gj_refresh"] and "samesite=lax" in cookies["gj_access"]
        assert http.get("/api/v1/auth/me").json()["username"] == ADMIN  # cookies sent back

        refused = http.post("/api/v1/compounds", json=COMPOUND)
        assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
        wrong = http.post("/api/v1/compounds", json=COMPOUND, headers={"X-CSRF-Token": "x" * 32})
        assert wrong.status_code == 403 and wrong.json()["error"] == "csrf_failed"
        token = http.cookies["gj_csrf"]
        assert token == login.json()["csrf_token"]
        created = http.post("/api/v1/compounds", json=COMPOUND, headers={"X-CSRF-Token": token})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == COMPOUND["name"]


def test_the_app_sees_the_real_client_address(site: Site) -> None:
    """Caddy passes the address it saw; an X-Forwarded-For the client sends is replaced, and
    uvicorn trusts the header only from 127.0.0.1 (Caddy)."""
    before = site.logins_by_address()
    with site.client() as http:
        assert _login(http, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    assert site.logins_by_address() - before == Counter({CLIENT_ADDRESS: 1})

    # Straight to uvicorn from another address than 127.0.0.1: its X-Forwarded-For is ignored.
    transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
    with httpx.Client(transport=transport, timeout=30) as direct:
        answer = direct.post(f"http://127.0.0.1:{site.app_port}/api/v1/auth/login",
                             json={"username": ADMIN, "password": ADMIN_PASSWORD},
                             headers={"X-Forwarded-For": "198.51.100.9"})
    assert answer.status_code == 200
    assert site.logins_by_address() - before == Counter({CLIENT_ADDRESS: 2})
    assert set(site.logins_by_address()) == {CLIENT_ADDRESS}  # never Caddy's 127.0.0.1
