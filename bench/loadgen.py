"""HTTP load from a separate process: `python -m bench.loadgen < spec.json > result.json`.

A small HTTP/1.1 keep-alive client on asyncio (uvloop when installed), two ways:

* **Closed loop** (`clients`): each simulated client holds one connection and sends its next
  request when the answer arrives, so the server, not this process, sets the pace: it measures
  the most the server can answer. Pollers send a request every `interval_s` alongside and are
  measured separately (the progress page watched by the committee while owners vote).
* **Open loop** (`open`): requests arrive at a fixed rate (Poisson or evenly spaced arrival
  times drawn before the run), whether or not earlier ones were answered, as owners' phones do.
  Each arrival takes an idle keep-alive connection from a pool that opens another one when none
  is idle (up to `max_connections`), and its latency is measured from its *intended* send time,
  so a server that falls behind shows it in the figures instead of slowing the load down
  (coordinated omission). Every arrival that could not be sent on time is counted: those that
  found all `max_connections` busy and those the load generator itself sent more than `late_ms`
  after their time. Arrivals whose time falls in the measured window are waited for after it
  (up to `drain_s`); any still unanswered then count with the time they had waited so far.

Spec (JSON on stdin):
  {"host", "port", "warmup_s", "duration_s",
   "clients": [{"method", "path", "headers": {..}, "bodies": [str, ...]}],   # bodies cycle
   "pollers": [{"name", "method", "path", "headers", "interval_s"}],
   "open": [{"name", "rate_rps", "arrival": "poisson" | "uniform", "seed",
             "requests": [{"method", "path", "headers", "body"}, ...],        # one per arrival, cycling
             "max_connections", "prewarm"}],
   "late_ms": 10, "drain_s": 30,             # open loop: lateness threshold, wait after the window
   "timeline": false,                        # open loop: every arrival's figures in the answer
   "collect": "pid"}                          # optional: distinct values of this response key
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import resource
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarize(latencies: list[float]) -> dict[str, Any]:
    values = sorted(latencies)
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    return {
        "samples": len(values),
        "p50_ms": ms(percentile(values, 0.50)),
        "p90_ms": ms(percentile(values, 0.90)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(values[-1] if values else None),
        "mean_ms": ms(sum(values) / len(values) if values else None),
    }


def parse_server_timing(value: str) -> dict[str, float]:
    """`app;dur=12.5, db;dur=3` → {"app": 12.5, "db": 3.0} (entries without a duration skipped)."""
    out: dict[str, float] = {}
    for entry in value.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key == "dur" and name:
                with contextlib.suppress(ValueError):
                    out[name] = float(number)
    return out


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        # The last answer's `Server-Timing` durations in ms, e.g. {"app": 12.5} (bench/ceiling.py).
        self.server_timing: dict[str, float] = {}

    async def open(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length: int | None = None
        chunked = close = False
        self.server_timing = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"server-timing":
                self.server_timing = parse_server_timing(value.decode("latin-1"))
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            body = b"".join(parts)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def encode(host: str, port: int, method: str, path: str, headers: dict[str, str], body: str | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    data = body.encode() if body is not None else b""
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


# --- open loop ------------------------------------------------------------------------------------


def arrival_times(rate_rps: float, until_s: float, *, kind: str = "poisson", seed: int = 0) -> list[float]:
    """The intended send times of an open-loop stream, seconds from its start, in [0, until_s).

    "uniform": one every 1/rate seconds, from 0. "poisson": exponential gaps of mean 1/rate
    (independent arrivals, as many owners voting on their own), the same times for the same seed.
    """
    if rate_rps <= 0 or until_s <= 0:
        return []
    if kind == "uniform":
        return [k / rate_rps for k in range(math.ceil(until_s * rate_rps)) if k / rate_rps < until_s]
    if kind != "poisson":
        raise ValueError(f"unknown arrival kind {kind!r}")
    rng = random.Random(seed)
    times: list[float] = []
    t = rng.expovariate(rate_rps)
    while t < until_s:
        times.append(t)
        t += rng.expovariate(rate_rps)
    return times


class Requester(Protocol):
    async def open(self) -> None: ...

    async def request(self, payload: bytes) -> tuple[int, bytes]: ...

    def close(self) -> None: ...


@dataclass
class Arrival:
    index: int
    intended: float  # when it was meant to be sent (the stream's clock)
    sent: float | None = None  # when it got a connection and was written
    done: float | None = None  # when the answer (or the error) came back
    status: int | None = None  # None: transport error or unfinished
    waited_for_connection: bool = False
    error: str | None = None
    server: float | None = None  # the application's own time, when the server says (Server-Timing)
    phases: dict[str, float] = field(default_factory=dict)  # the server's other durations, seconds

    @property
    def latency(self) -> float | None:
        """From the intended send time, not from the actual one: the queue a late send hides counts."""
        return None if self.done is None else self.done - self.intended


@dataclass
class OpenStream:
    """One open-loop stream: arrivals at given times, each on an idle connection of a pool.

    `clock` and `connect` are injected so the scheduling can be tested on a virtual clock with a
    fake server (tests/test_bench_loadgen.py); the load generator passes time.perf_counter and
    a real keep-alive `Connection`.
    """

    name: str
    times: Sequence[float]
    payloads: Sequence[bytes]
    connect: Callable[[], Requester]
    clock: Callable[[], float] = time.perf_counter
    max_connections: int = 1024
    prewarm: int = 0
    late_s: float = 0.010
    measure_from: float = 0.0  # offsets from the stream's start: the measured window
    measure_to: float = math.inf
    drain_s: float = 30.0
    # A connection idle longer than this is closed and opened again before use: uvicorn closes
    # keep-alive connections idle for 5 s, and a request written as it does so would fail.
    keepalive_s: float = 4.0
    arrivals: list[Arrival] = field(default_factory=list)
    connections_opened: int = 0
    connections_reopened: int = 0
    max_in_flight: int = 0
    unfinished: int = 0

    async def run(self, start: float | None = None) -> None:
        """Send every arrival at its time (from `start` on the stream's clock), then wait for the
        answers, at most `drain_s` after the last arrival time."""
        idle: deque[tuple[Requester, float]] = deque()  # with the time it became idle
        for _ in range(min(self.prewarm, self.max_connections)):  # connected before the first arrival
            conn = self.connect()
            with contextlib.suppress(OSError):
                await conn.open()
            idle.append((conn, self.clock()))
            self.connections_opened += 1
        slots = asyncio.Semaphore(self.max_connections)
        in_flight = 0
        origin = self.clock() if start is None else start

        async def send(arrival: Arrival, payload: bytes) -> None:
            nonlocal in_flight
            arrival.waited_for_connection = slots.locked()
            async with slots:
                if idle:  # the longest idle: spreads the load over every connection
                    conn, since = idle.popleft()
                    if self.clock() - since > self.keepalive_s:  # the server may be closing it now
                        conn.close()
                        self.connections_reopened += 1
                else:
                    conn = self.connect()
                    self.connections_opened += 1
                in_flight += 1
                self.max_in_flight = max(self.max_in_flight, in_flight)
                arrival.sent = self.clock() - origin
                try:
                    arrival.status, _ = await conn.request(payload)
                    timing = dict(getattr(conn, "server_timing", None) or {})
                    app_ms = timing.pop("app", None)
                    arrival.server = None if app_ms is None else app_ms / 1000
                    arrival.phases = {k: v / 1000 for k, v in timing.items()}
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    arrival.error = type(exc).__name__
                    conn.close()
                except asyncio.CancelledError:  # unanswered when the drain ended
                    conn.close()
                    raise
                finally:
                    in_flight -= 1
                arrival.done = self.clock() - origin
                idle.append((conn, self.clock()))  # a closed connection reconnects on its next request

        tasks: list[asyncio.Task[None]] = []
        for index, intended in enumerate(self.times):
            delay = origin + intended - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            arrival = Arrival(index=index, intended=intended)
            self.arrivals.append(arrival)
            tasks.append(asyncio.ensure_future(send(arrival, self.payloads[index % len(self.payloads)])))
        last = self.times[-1] if self.times else 0.0
        remaining = origin + last + self.drain_s - self.clock()
        if tasks:  # every arrival, warm-up included: what was sent is answered before the end
            await asyncio.wait(tasks, timeout=max(0.0, remaining))
        stopped = self.clock() - origin
        for arrival, task in zip(self.arrivals, tasks, strict=True):
            if not task.done():
                task.cancel()
                if self._measured(arrival):
                    self.unfinished += 1
                    arrival.done = stopped  # a lower bound of its latency, kept in the figures
                    arrival.error = "unfinished"
        await asyncio.gather(*tasks, return_exceptions=True)
        while idle:
            idle.popleft()[0].close()

    def _measured(self, arrival: Arrival) -> bool:
        return self.measure_from <= arrival.intended < self.measure_to

    def timeline(self) -> list[list[Any]]:
        """Every measured arrival: [intended s, latency ms, in-app ms, {phase: ms}, status]."""
        ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
        return [[round(a.intended, 4), ms(a.latency), ms(a.server), {k: ms(v) for k, v in a.phases.items()},
                 a.status] for a in self.arrivals if self._measured(a)]

    def summary(self) -> dict[str, Any]:
        measured = [a for a in self.arrivals if self._measured(a)]
        window = self.measure_to - self.measure_from
        # Answered and unanswered (a lower bound) arrivals; transport errors are counted apart.
        latencies = [a.latency for a in measured
                     if a.latency is not None and (a.status is not None or a.error == "unfinished")]
        lags = [a.sent - a.intended for a in measured if a.sent is not None]
        statuses = Counter(a.status if a.status is not None else 0 for a in measured
                           if a.error != "unfinished")
        answered = sum(1 for a in measured if a.status is not None)
        late = [a for a in measured
                if a.waited_for_connection or (a.sent is not None and a.sent - a.intended > self.late_s)]
        # Where the time went, when the server reports its own: in the application (from uvicorn's
        # hand-over to the answer's head), and the rest of each answered arrival's latency (waiting
        # to be sent, the network, uvicorn and the event loops on both sides).
        timed = [a for a in measured if a.server is not None and a.latency is not None]
        return {
            "arrivals": len(measured),
            "offered_rps": round(len(measured) / window, 2) if window > 0 and math.isfinite(window) else None,
            "answered": answered,
            "answered_rps": round(answered / window, 2) if window > 0 and math.isfinite(window) else None,
            **summarize(latencies),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "all_statuses": {str(k): v for k, v in sorted(Counter(
                a.status for a in self.arrivals if a.status is not None).items())},
            "transport_errors": dict(Counter(a.error for a in measured
                                             if a.error and a.error != "unfinished")),
            "unfinished": self.unfinished,
            "late": len(late),
            "waited_for_connection": sum(1 for a in measured if a.waited_for_connection),
            "send_lag_p99_ms": summarize(lags)["p99_ms"],
            "send_lag_max_ms": summarize(lags)["max_ms"],
            "late_ms": round(self.late_s * 1000, 3),
            "connections_opened": self.connections_opened,
            "connections_reopened": self.connections_reopened,
            "max_in_flight": self.max_in_flight,
            **_split(timed),
        }


def _split(timed: list[Arrival]) -> dict[str, Any]:
    """Latency split into the application's own time and the rest, overall and for the slowest 1 %."""
    inside = [a.server or 0.0 for a in timed]
    outside = [(a.latency or 0.0) - (a.server or 0.0) for a in timed]
    slowest = sorted(timed, key=lambda a: a.latency or 0.0)[-max(1, len(timed) // 100):] if timed else []
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    phases = sorted({k for a in timed for k in a.phases})
    return {
        "server_timed": len(timed),
        # The server's finer phases (bench/ceiling.py with BENCH_DB_TIMING=1): median, and the mean
        # over the slowest 1 %.
        "phases_p50_ms": {k: summarize([a.phases.get(k, 0.0) for a in timed])["p50_ms"] for k in phases},
        "slowest_1pct_phases_mean_ms": {k: ms(sum(a.phases.get(k, 0.0) for a in slowest) / len(slowest))
                                        for k in phases},
        "in_app_p50_ms": summarize(inside)["p50_ms"],
        "in_app_p99_ms": summarize(inside)["p99_ms"],
        "outside_app_p50_ms": summarize(outside)["p50_ms"],
        "outside_app_p99_ms": summarize(outside)["p99_ms"],
        # The slowest 1 % of answers (those at or beyond p99): how much of their time was in the app.
        "slowest_1pct_in_app_mean_ms": ms(sum(a.server or 0.0 for a in slowest) / len(slowest)) if slowest else None,
        "slowest_1pct_latency_mean_ms": ms(sum(a.latency or 0.0 for a in slowest) / len(slowest)) if slowest else None,
    }


def open_streams(spec: dict[str, Any], connect: Callable[[], Requester],
                 clock: Callable[[], float] = time.perf_counter) -> list[OpenStream]:
    """The spec's open-loop streams, arrival times drawn for warm-up plus the measured window."""
    host, port = spec["host"], int(spec["port"])
    warmup, duration = float(spec.get("warmup_s", 1)), float(spec["duration_s"])
    streams = []
    for i, cfg in enumerate(spec.get("open", [])):
        payloads = [encode(host, port, r["method"], r["path"], r.get("headers", {}), r.get("body"))
                    for r in cfg["requests"]]
        streams.append(OpenStream(
            name=cfg["name"],
            times=arrival_times(float(cfg["rate_rps"]), warmup + duration,
                                kind=cfg.get("arrival", "poisson"), seed=int(cfg.get("seed", i))),
            payloads=payloads, connect=connect, clock=clock,
            max_connections=int(cfg.get("max_connections", 1024)), prewarm=int(cfg.get("prewarm", 0)),
            late_s=float(spec.get("late_ms", 10)) / 1000, measure_from=warmup,
            measure_to=warmup + duration, drain_s=float(spec.get("drain_s", 30)),
        ))
    return streams


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    warmup, duration = float(spec.get("warmup_s", 1)), float(spec["duration_s"])
    collect = spec.get("collect")
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + duration
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    all_statuses: Counter[int] = Counter()  # every answer, warm-up included (checked against the DB)
    errors: Counter[str] = Counter()
    samples: list[str] = []
    collected: Counter[str] = Counter()
    completed = 0

    async def client(cfg: dict[str, Any]) -> None:
        nonlocal completed
        conn = Connection(host, port)
        payloads = [encode(host, port, cfg["method"], cfg["path"], cfg.get("headers", {}), b)
                    for b in (cfg.get("bodies") or [None])]
        i = 0
        while time.perf_counter() < measure_to:
            t0 = time.perf_counter()
            try:
                status, body = await conn.request(payloads[i % len(payloads)])
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
                await asyncio.sleep(0.05)
                continue
            t1 = time.perf_counter()
            i += 1
            all_statuses[status] += 1
            if measure_from <= t0 and t1 <= measure_to:
                latencies.append(t1 - t0)
                statuses[status] += 1
                completed += 1
                if status >= 400 and len(samples) < 5:
                    samples.append(body[:300].decode(errors="replace"))
                if collect:
                    with contextlib.suppress(ValueError):
                        collected[str(json.loads(body).get(collect))] += 1
        conn.close()

    async def poller(cfg: dict[str, Any], into: list[float], codes: Counter[int]) -> None:
        conn = Connection(host, port)
        payload = encode(host, port, cfg["method"], cfg["path"], cfg.get("headers", {}), None)
        interval = float(cfg.get("interval_s", 0.25))
        while time.perf_counter() < measure_to:
            t0 = time.perf_counter()
            try:
                status, _ = await conn.request(payload)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                codes[0] += 1
            else:
                t1 = time.perf_counter()
                if measure_from <= t0 and t1 <= measure_to:
                    into.append(t1 - t0)
                    codes[status] += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))
        conn.close()

    poll_results: dict[str, tuple[list[float], Counter[int]]] = {
        p["name"]: ([], Counter()) for p in spec.get("pollers", [])
    }
    streams = open_streams(spec, lambda: Connection(host, port))
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    tasks = [client(c) for c in spec.get("clients", [])]
    tasks += [poller(p, *poll_results[p["name"]]) for p in spec.get("pollers", [])]
    tasks += [stream.run(start) for stream in streams]
    await asyncio.gather(*tasks)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out: dict[str, Any] = {
        "clients": len(spec.get("clients", [])),
        "duration_s": duration,
        "requests": completed,
        "throughput_rps": round(completed / duration, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "all_statuses": {str(k): v for k, v in sorted(all_statuses.items())},
        "transport_errors": dict(errors),
        "error_samples": samples,
        **summarize(latencies),
        "loadgen_cpu_s": round((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), 2),
        "pollers": {name: {**summarize(lat), "statuses": {str(k): v for k, v in codes.items()}}
                    for name, (lat, codes) in poll_results.items()},
        "open": {stream.name: {**stream.summary(),
                               **({"timeline": stream.timeline()} if spec.get("timeline") else {})}
                 for stream in streams},
    }
    if collect:
        out["collected"] = dict(collected)
    return out


def main() -> int:
    spec = json.load(sys.stdin)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def run_process(spec: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run the load generator in its own process and return its summary."""
    import subprocess

    from bench.context import ROOT

    limit = timeout or (float(spec.get("warmup_s", 1)) + float(spec["duration_s"])
                        + float(spec.get("drain_s", 30)) + 60)
    done = subprocess.run([sys.executable, "-m", "bench.loadgen"], input=json.dumps(spec).encode(),
                          capture_output=True, cwd=ROOT, timeout=limit, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]
