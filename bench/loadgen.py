"""HTTP load from a separate process: `python -m bench.loadgen < spec.json > result.json`.

A small HTTP/1.1 keep-alive client on asyncio (uvloop when installed): each simulated client
holds one connection and sends its next request when the answer arrives (a closed loop), so the
server, not this process, sets the pace. Pollers send a request every `interval_s` alongside and
are measured separately (the progress page watched by the committee while owners vote).

Spec (JSON on stdin):
  {"host", "port", "warmup_s", "duration_s",
   "clients": [{"method", "path", "headers": {..}, "bodies": [str, ...]}],   # bodies cycle
   "pollers": [{"name", "method", "path", "headers", "interval_s"}],
   "collect": "pid"}                          # optional: distinct values of this response key
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from collections import Counter
from typing import Any


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


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length: int | None = None
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
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
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    tasks = [client(c) for c in spec["clients"]]
    tasks += [poller(p, *poll_results[p["name"]]) for p in spec.get("pollers", [])]
    await asyncio.gather(*tasks)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out: dict[str, Any] = {
        "clients": len(spec["clients"]),
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

    limit = timeout or float(spec.get("warmup_s", 1)) + float(spec["duration_s"]) + 60
    done = subprocess.run([sys.executable, "-m", "bench.loadgen"], input=json.dumps(spec).encode(),
                          capture_output=True, cwd=ROOT, timeout=limit, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]
