"""Nothing shared lives in one process: codes, rate limits and revocations hold across workers.

Every request here goes over a new connection, so the kernel spreads them over the workers.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from bench.server import Server


def _fresh(server: Server, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return client.request(method, path, **kwargs)


def _code_from_log(server: Server, phone: str, timeout_s: float = 5) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.findall(rf"SMS to {phone}: 您的登录验证码为(\d{{6}})", server.log_text())
        if found:
            return found[-1]
        time.sleep(0.05)
    return None


def run(server: Server, *, phones: list[str], revocable_token: str, probes: int = 20) -> dict[str, Any]:
    """One-time-code logins, the per-phone rate limit and a logout, each checked on new connections."""
    logins = limited = 0
    for phone in phones:
        first = _fresh(server, "POST", "/api/v1/auth/otp/request", json={"phone": phone})
        second = _fresh(server, "POST", "/api/v1/auth/otp/request", json={"phone": phone})
        limited += first.status_code == 202 and second.status_code == 429
        code = _code_from_log(server, phone)
        if code is None:
            continue
        verified = _fresh(server, "POST", "/api/v1/auth/otp/verify",
                          json={"phone": phone, "code": code, "mode": "bearer"})
        if verified.status_code == 200:
            token = verified.json()["access_token"]
            me = _fresh(server, "GET", "/api/v1/bench/ceiling", headers={"Authorization": f"Bearer {token}"})
            logins += me.status_code == 200
    auth = {"Authorization": f"Bearer {revocable_token}"}
    before = _fresh(server, "GET", "/api/v1/bench/ceiling", headers=auth).status_code
    logout = _fresh(server, "POST", "/api/v1/auth/logout", headers=auth, json={}).status_code
    refused = 0
    pids: set[int] = set()
    for _ in range(probes):
        refused += _fresh(server, "GET", "/api/v1/bench/ceiling", headers=auth).status_code == 401
    for _ in range(probes):
        r = _fresh(server, "GET", "/api/v1/bench/ceiling-nodb", headers=auth)
        if r.status_code == 200:
            pids.add(r.json()["pid"])
    return {
        "workers": server.workers,
        "worker_pids_answering": len(pids),
        "otp_login_across_connections": f"{logins}/{len(phones)}",
        "otp_rate_limit_across_connections": f"{limited}/{len(phones)}",
        "token_accepted_before_logout": before == 200,
        "logout_status": logout,
        "revoked_token_refused": f"{refused}/{probes}",
        "ok": logins == len(phones) and limited == len(phones) and before == 200
        and logout == 200 and refused == probes,
    }
