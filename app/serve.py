"""`python -m app.serve`: uvicorn's worker processes, each with its own listening socket.

    python -m app.serve app.main:create_app --factory --host 127.0.0.1 --port 8000 --workers 4 \
        --proxy-headers --forwarded-allow-ips 127.0.0.1 --no-server-header

`uvicorn --workers N` binds one socket and shares it: the worker whose event loop wakes first
accepts every connection waiting in the queue. Clients that open their connections together and
keep them (a reverse proxy's pool, a load generator, a burst of phones) then often all land in one
worker while the others idle: measured with 64 keep-alive clients and 2 workers, half the runs put
every connection in one process and served half the votes (bench/PROFILE.md §15). Here each
worker listens on its own socket bound with SO_REUSEPORT to the same address, and the kernel
spreads new connections across the sockets by their addresses, whatever the workers are doing.

The same arguments as the uvicorn command it replaces (`uvicorn APP [--factory] …`), for the
flags the deployment uses. The parent
restarts a worker that dies while serving; a worker that fails while starting (production
refusing a half-configured deployment, say) stops the whole server with its status, as uvicorn
does, instead of being restarted in a loop.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

STARTUP_GRACE_S = 10.0  # a worker that exits sooner than this after its start failed to start
STOP_TIMEOUT_S = 30.0

spawn = multiprocessing.get_context("spawn")
multiprocessing.allow_connection_pickling()  # sockets travel to the spawned workers


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.serve",
        description="uvicorn's worker processes, each with its own listening socket (SO_REUSEPORT)")
    parser.add_argument("app", nargs="?", default="app.main:create_app",
                        help="the ASGI app or its factory (default app.main:create_app)")
    parser.add_argument("--factory", action="store_true",
                        help="APP is a function that returns the app (as uvicorn's flag)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    parser.add_argument("--proxy-headers", action="store_true",
                        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips")
    parser.add_argument("--forwarded-allow-ips", default=None)
    parser.add_argument("--no-server-header", dest="server_header", action="store_false")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--backlog", type=int, default=2048)
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=None)
    parser.add_argument("--startup-grace-seconds", type=float, default=STARTUP_GRACE_S,
                        help="a worker exiting sooner than this after its start stops the server "
                             f"(it failed to start) instead of being restarted ({STARTUP_GRACE_S:g})")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def config_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn.Config's arguments, as its command line would pass them."""
    return {
        "app": args.app, "factory": args.factory, "host": args.host, "port": args.port,
        "proxy_headers": args.proxy_headers, "forwarded_allow_ips": args.forwarded_allow_ips,
        "server_header": args.server_header, "access_log": args.access_log,
        "log_level": args.log_level, "backlog": args.backlog,
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown,
    }


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT: one per worker, all on the same address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def run_worker(kwargs: dict[str, Any], sock: socket.socket) -> None:
    """One worker: uvicorn's server on its own socket (in the spawned process)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(**kwargs))
    server.run(sockets=[sock])
    if not server.started:  # the app's startup failed: say so with uvicorn's status for it
        sys.exit(3)


class Supervisor:
    """Starts the workers, restarts one that dies while serving, stops them all on a signal."""

    def __init__(self, kwargs: dict[str, Any], sockets: list[socket.socket], *,
                 startup_grace_s: float = STARTUP_GRACE_S) -> None:
        self.kwargs, self.sockets, self.startup_grace_s = kwargs, sockets, startup_grace_s
        self.workers: list[tuple[SpawnProcess, float] | None] = [None] * len(sockets)
        self.stopping = False

    def start(self, index: int) -> None:
        process = spawn.Process(target=run_worker, args=(self.kwargs, self.sockets[index]),
                                name=f"gongjue-worker-{index}")
        process.start()
        self.workers[index] = (process, time.monotonic())

    def stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.stop)
        for index in range(len(self.sockets)):
            self.start(index)
        status = 0
        while not self.stopping:
            time.sleep(0.2)
            for index, entry in enumerate(self.workers):
                if entry is None or entry[0].is_alive() or self.stopping:
                    continue
                process, started = entry
                code = process.exitcode or 0
                if time.monotonic() - started < self.startup_grace_s:
                    print(f"[app.serve] worker {process.pid} failed to start (exit {code}): stopping",
                          file=sys.stderr, flush=True)
                    status = code or 3
                    self.stopping = True
                    break
                print(f"[app.serve] worker {process.pid} exited ({code}); starting another",
                      file=sys.stderr, flush=True)
                self.start(index)
        self.terminate()
        return status

    def terminate(self) -> None:
        running = [entry[0] for entry in self.workers if entry is not None]
        for process in running:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes its requests, then exits
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kwargs = config_kwargs(args)
    sockets = [listening_socket(args.host, args.port, args.backlog) for _ in range(args.workers)]
    if args.workers == 1:
        run_worker(kwargs, sockets[0])
        return 0
    return Supervisor(kwargs, sockets, startup_grace_s=args.startup_grace_seconds).run()


if __name__ == "__main__":
    raise SystemExit(main())
