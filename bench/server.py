"""The real server: uvicorn with the app factory, as a deployment starts it, on a free local port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench.context import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m app.serve app.main:create_app --factory --workers N` (the deployment's command:
    uvicorn, one listening socket per worker), with the bench's factory (bench/ceiling.py: the
    same app plus the ceiling routes)."""

    def __init__(self, *, env: dict[str, str], workers: int, log_path: Path,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.env = env
        self.extra_args = extra_args
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "app.serve", "bench.ceiling:create_app", "--factory",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                "--proxy-headers", *self.extra_args]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
            started = self.log_path.read_bytes().count(b"Application startup complete")
            if started >= self.workers and self._healthy():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start within 60 s; see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # uvicorn stops its workers on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group this server started
                self.process.wait(timeout=10)
        self.process = None
        self.log.close()

    def kill(self) -> None:
        """SIGKILL the server and its workers at once (a crash: nothing gets to clean up)."""
        if self.process is None:
            return
        group = self.process.pid  # the session (and process group) this server started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the workers too are gone
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None
        self.log.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server: the uvicorn process and its workers."""
        if self.process is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        stats: dict[int, tuple[int, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
        family, total = {self.process.pid}, 0.0
        changed = True
        while changed:
            changed = False
            for pid, (ppid, _) in stats.items():
                if ppid in family and pid not in family:
                    family.add(pid)
                    changed = True
        for pid in family:
            total += stats.get(pid, (0, 0.0))[1]
        return total

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
