"""app/serve.py: uvicorn's workers, each with its own listening socket (SO_REUSEPORT).

With one shared socket (`uvicorn --workers N`) the worker that wakes first accepts every waiting
connection: 64 keep-alive clients opening at once often all landed in one of two workers (bench/
PROFILE.md §15). Here the kernel spreads them; the supervisor restarts a worker that dies while
serving, stops on a worker that fails to start, and leaves no worker behind when stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from app.config import ROOT_DIR, get_settings
from bench.server import Server, free_port

pytestmark = pytest.mark.usefixtures("engine")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
    env.update({
        "GONGJUE_DATABASE_URL": get_settings().database_url,
        "GONGJUE_FILES_DIR": str(tmp_path / "files"),
        "GONGJUE_FRONTEND_DIST": str(tmp_path / "no-frontend"),
        "GONGJUE_DEMO_DATA": "false",
        "GONGJUE_SMS_PROVIDER": "console",
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


def _workers(parent: int) -> list[int]:
    """The worker processes of `parent` (not multiprocessing's resource tracker)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == parent and b"spawn_main" in (entry / "cmdline").read_bytes():
                workers.append(int(entry.name))
    return sorted(workers)


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def _connections_per_worker(workers: list[int], port: int) -> Counter[int]:
    inodes = _established_inodes(port)
    held: Counter[int] = Counter()
    for pid in workers:
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid] += 1
    return held


def test_connections_opened_at_once_are_spread_over_the_workers(tmp_path: Path) -> None:
    with Server(env=_env(tmp_path), workers=2, log_path=tmp_path / "server.log") as server:
        assert server.process is not None
        workers = _workers(server.process.pid)
        assert len(workers) == 2
        clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
        try:
            for client in clients:  # every connection answered, and kept open
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for client in clients:
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            held = _connections_per_worker(workers, server.port)
        finally:
            for client in clients:
                client.close()
    assert sum(held.values()) == 40, held
    # Hashed over two sockets, fewer than 5 of 40 in one worker happens once in ~10⁷ runs.
    assert all(held[pid] >= 5 for pid in workers), held


def test_a_worker_that_dies_while_serving_is_replaced(tmp_path: Path) -> None:
    with Server(env=_env(tmp_path), workers=2, log_path=tmp_path / "server.log",
                extra_args=("--startup-grace-seconds", "1")) as server:
        assert server.process is not None
        first = _workers(server.process.pid)
        time.sleep(1.2)  # past the startup grace below (the bench's Server passes none: 10 s)
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _workers(server.process.pid)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and first[0] not in now and first[1] in now, (first, now)
        for _ in range(10):
            assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


def _run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    with (tmp_path / "serve.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "app.serve", "app.main:create_app",
                                 "--factory", "--port", str(free_port()), *args], cwd=ROOT_DIR,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _group_gone(group: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_a_worker_that_fails_to_start_stops_the_server(tmp_path: Path) -> None:
    # Production refuses a public address that is not https: every worker exits while starting.
    env = _env(tmp_path, GONGJUE_ENV="production", GONGJUE_PUBLIC_BASE_URL="http://example.cn",
               GONGJUE_SECRET_KEY="s" * 48, GONGJUE_ID_HASH_KEY="h" * 48)
    process = _run(tmp_path, env, "--workers", "2")
    try:
        assert process.wait(timeout=90) != 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert _group_gone(process.pid, 10)
    assert "failed to start" in (tmp_path / "serve.log").read_text(encoding="utf-8")


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    with Server(env=_env(tmp_path), workers=2, log_path=tmp_path / "server.log") as server:
        assert server.process is not None
        process, group = server.process, server.process.pid
        assert len(_workers(group)) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert _group_gone(group, 10)
