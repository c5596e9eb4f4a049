"""The load generator's open loop: arrival times, and latency measured from the intended send time.

Nothing here is timed against the wall clock (benchmarks are not tests): the scheduling runs on an
event loop whose clock is virtual (it jumps to the next timer instead of waiting), against fake
servers whose answers take a known virtual time, so every expected latency is exact arithmetic.
One last test drives a real socket and checks only counts.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bench import loadgen
from bench.loadgen import OpenStream, arrival_times

# --- a virtual clock --------------------------------------------------------------------------


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """`time()` is virtual: where the loop would wait for its next timer, it moves the clock there."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        selector = self._selector
        real_select = selector.select

        def select(timeout: float | None = None) -> Any:
            if timeout is None:
                raise RuntimeError("every task waits and no timer is set: the test would hang")
            self.now += max(0.0, timeout)
            return real_select(0)

        selector.select = select

    def time(self) -> float:
        return self.now


def run_virtual(make: Callable[[VirtualClockLoop], Coroutine[Any, Any, Any]]) -> Any:
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(make(loop))
    finally:
        loop.close()


class FakeServer:
    """Answers after `service_s` of virtual time; `workers=1` is one FIFO queue (a request waits
    for the one before it), `workers=None` answers every request in parallel."""

    def __init__(self, loop: VirtualClockLoop, service_s: float, workers: int | None = None) -> None:
        self.loop, self.service_s, self.workers = loop, service_s, workers
        self.free_at = [0.0] * (workers or 0)
        self.seen: list[bytes] = []

    async def handle(self, payload: bytes) -> tuple[int, bytes]:
        self.seen.append(payload)
        now = self.loop.time()
        finish = now + self.service_s
        if self.workers:
            slot = min(range(self.workers), key=lambda i: self.free_at[i])
            finish = max(now, self.free_at[slot]) + self.service_s
            self.free_at[slot] = finish
        await asyncio.sleep(finish - now)
        return 200, b"{}"


class FakeConnection:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.opened = self.closed = False

    async def open(self) -> None:
        self.opened = True

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        return await self.server.handle(payload)

    def close(self) -> None:
        self.closed = True


def stream(loop: VirtualClockLoop, server: FakeServer, times: list[float], **kw: Any) -> OpenStream:
    kw.setdefault("payloads", [b"x"])
    return OpenStream(name="t", times=times, connect=lambda: FakeConnection(server), clock=loop.time, **kw)


# --- arrival times ------------------------------------------------------------------------------


def test_uniform_arrivals_are_evenly_spaced_from_zero() -> None:
    assert arrival_times(10, 1.0, kind="uniform") == pytest.approx([k / 10 for k in range(10)])
    assert arrival_times(3, 1.0, kind="uniform") == pytest.approx([0, 1 / 3, 2 / 3])
    assert arrival_times(4, 0.5, kind="uniform") == [0, 0.25]
    assert arrival_times(0, 5.0, kind="uniform") == []
    with pytest.raises(ValueError):
        arrival_times(1, 1, kind="bursty")


def test_poisson_arrivals_are_reproducible_and_have_the_asked_rate() -> None:
    times = arrival_times(200, 50.0, kind="poisson", seed=7)
    assert times == arrival_times(200, 50.0, kind="poisson", seed=7)
    assert times != arrival_times(200, 50.0, kind="poisson", seed=8)
    assert all(0 <= a < b < 50.0 for a, b in itertools.pairwise(times))
    # 10,000 expected, standard deviation 100: well inside five of them.
    assert 9_500 < len(times) < 10_500
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.fmean(gaps) == pytest.approx(1 / 200, rel=0.05)
    # Exponential gaps: their spread equals their mean (evenly spaced ones have none).
    assert statistics.stdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.05)


# --- scheduling on the virtual clock ------------------------------------------------------------


def test_arrivals_are_sent_at_their_time_and_measured_from_it() -> None:
    async def scenario(loop: VirtualClockLoop) -> OpenStream:
        server = FakeServer(loop, service_s=0.02)
        s = stream(loop, server, arrival_times(10, 2.0, kind="uniform"), measure_from=0.5, measure_to=1.5)
        await s.run()
        return s

    s = run_virtual(scenario)
    assert len(s.arrivals) == 20
    for a in s.arrivals:
        assert a.sent == pytest.approx(a.intended, abs=1e-9)
        assert a.latency == pytest.approx(0.02, abs=1e-9)
    summary = s.summary()
    assert summary["arrivals"] == 10  # 0.5, 0.6, …, 1.4
    assert summary["offered_rps"] == 10
    assert summary["statuses"] == {"200": 10}
    assert summary["p99_ms"] == pytest.approx(20, abs=0.01)
    assert summary["late"] == summary["waited_for_connection"] == summary["unfinished"] == 0
    # Each answer came before the next arrival: one connection served them all.
    assert s.connections_opened == 1 and s.max_in_flight == 1


def test_a_server_falling_behind_shows_its_queue_in_the_latency() -> None:
    """Arrivals every 100 ms, a server answering one at a time in 150 ms: the k-th answer comes at
    150 (k + 1) ms, so its latency is 150 + 50 k ms, not the 150 ms a closed loop would report."""

    async def scenario(loop: VirtualClockLoop) -> OpenStream:
        server = FakeServer(loop, service_s=0.15, workers=1)
        s = stream(loop, server, arrival_times(10, 1.0, kind="uniform"))
        await s.run()
        return s

    s = run_virtual(scenario)
    for k, a in enumerate(s.arrivals):
        assert a.sent == pytest.approx(a.intended, abs=1e-9)  # the pool grows: never held back
        assert a.latency == pytest.approx(0.15 + 0.05 * k, abs=1e-9)
    summary = s.summary()
    assert summary["late"] == 0
    assert summary["max_ms"] == pytest.approx(600, abs=0.01)
    assert s.connections_opened > 1


def test_an_arrival_waiting_for_a_connection_is_counted_late_and_keeps_its_wait() -> None:
    """One connection, answers in 150 ms, arrivals every 100 ms: arrival k gets the connection at
    150 k ms. Its latency counts from 100 k ms (150 + 50 k ms), and it is counted as late."""

    async def scenario(loop: VirtualClockLoop) -> OpenStream:
        server = FakeServer(loop, service_s=0.15)
        s = stream(loop, server, arrival_times(10, 0.6, kind="uniform"), max_connections=1)
        await s.run()
        return s

    s = run_virtual(scenario)
    assert len(s.arrivals) == 6
    for k, a in enumerate(s.arrivals):
        assert a.sent == pytest.approx(0.15 * k, abs=1e-9)
        assert a.latency == pytest.approx(0.15 + 0.05 * k, abs=1e-9)
        assert a.done is not None and a.sent is not None
        assert a.done - a.sent == pytest.approx(0.15, abs=1e-9)  # what a closed loop would see
        assert a.waited_for_connection is (k > 0)
    summary = s.summary()
    assert summary["waited_for_connection"] == 5
    assert summary["late"] == 5
    assert summary["send_lag_max_ms"] == pytest.approx(250, abs=0.01)
    assert s.connections_opened == 1


def test_a_late_send_by_the_generator_itself_is_counted() -> None:
    """The generator's own lateness (here: a blocked event loop) counts beyond `late_s`."""

    async def scenario(loop: VirtualClockLoop) -> OpenStream:
        server = FakeServer(loop, service_s=0.01)
        s = stream(loop, server, [0.0, 0.1, 0.2], late_s=0.01)

        async def stall() -> None:  # holds the loop from 0.05 to 0.15 of virtual time
            await asyncio.sleep(0.05)
            loop.now += 0.1

        await asyncio.gather(s.run(0.0), stall())
        return s

    s = run_virtual(scenario)
    lags = [a.sent - a.intended for a in s.arrivals if a.sent is not None]
    assert lags[0] == pytest.approx(0, abs=1e-9)
    assert lags[1] == pytest.approx(0.05, abs=1e-9)
    assert lags[2] == pytest.approx(0, abs=1e-9)
    assert s.arrivals[1].latency == pytest.approx(0.06, abs=1e-9)
    assert s.summary()["late"] == 1


def test_unanswered_arrivals_count_with_the_time_they_waited() -> None:
    async def scenario(loop: VirtualClockLoop) -> tuple[OpenStream, list[FakeConnection]]:
        server = FakeServer(loop, service_s=100.0)
        conns: list[FakeConnection] = []

        def connect() -> FakeConnection:
            conns.append(FakeConnection(server))
            return conns[-1]

        s = OpenStream(name="t", times=[0.0, 0.5], payloads=[b"x"], connect=connect, clock=loop.time,
                       drain_s=2.0)
        await s.run()
        return s, conns

    s, conns = run_virtual(scenario)
    summary = s.summary()
    assert summary["unfinished"] == 2 and summary["answered"] == 0
    assert [a.latency for a in s.arrivals] == pytest.approx([2.5, 2.0])  # stopped at 0.5 + 2.0
    assert summary["max_ms"] == pytest.approx(2500, abs=0.01)
    assert summary["statuses"] == {}
    assert all(c.closed for c in conns)


def test_payloads_cycle_one_per_arrival_and_prewarmed_connections_are_opened_first() -> None:
    async def scenario(loop: VirtualClockLoop) -> tuple[OpenStream, FakeServer, list[FakeConnection]]:
        server = FakeServer(loop, service_s=0.001)
        conns: list[FakeConnection] = []

        def connect() -> FakeConnection:
            conns.append(FakeConnection(server))
            return conns[-1]

        s = OpenStream(name="t", times=arrival_times(10, 0.7, kind="uniform"), payloads=[b"a", b"b", b"c"],
                       connect=connect, clock=loop.time, prewarm=3)
        await s.run()
        return s, server, conns

    s, server, conns = run_virtual(scenario)
    assert server.seen == [b"a", b"b", b"c", b"a", b"b", b"c", b"a"]
    assert len(conns) == 3 and all(c.opened for c in conns)
    assert s.connections_opened == 3


# --- a real socket ----------------------------------------------------------------------------------


def test_open_loop_over_a_real_socket_answers_every_arrival() -> None:
    async def scenario() -> dict[str, Any]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        spec = {"host": "127.0.0.1", "port": port, "warmup_s": 0.25, "duration_s": 0.5, "drain_s": 10,
                "open": [{"name": "hits", "rate_rps": 20, "arrival": "uniform", "prewarm": 2,
                          "requests": [{"method": "GET", "path": "/a"}]}]}
        try:
            return await loadgen.run(spec)
        finally:
            server.close()
            await server.wait_closed()

    result = asyncio.run(scenario())
    hits = result["open"]["hits"]
    assert hits["arrivals"] == 10  # intended at 0.25, 0.30, …, 0.70
    assert hits["statuses"] == {"200": 10}
    assert hits["all_statuses"] == {"200": 15}  # the warm-up's five too
    assert hits["unfinished"] == 0 and hits["transport_errors"] == {}
    assert hits["samples"] == 10


def test_the_servers_own_time_splits_the_latency() -> None:
    """A server that reports 5 ms in its application (Server-Timing) for answers taking 20 ms."""

    class TimedConnection(FakeConnection):
        server_timing: dict[str, float] = {}

        async def request(self, payload: bytes) -> tuple[int, bytes]:
            answer = await super().request(payload)
            self.server_timing = loadgen.parse_server_timing("app;dur=5, db;dur=2.5, statements;desc=9")
            return answer

    async def scenario(loop: VirtualClockLoop) -> OpenStream:
        server = FakeServer(loop, service_s=0.02)
        s = OpenStream(name="t", times=arrival_times(10, 1.0, kind="uniform"), payloads=[b"x"],
                       connect=lambda: TimedConnection(server), clock=loop.time)
        await s.run()
        return s

    summary = run_virtual(scenario).summary()
    assert summary["server_timed"] == 10
    assert summary["in_app_p99_ms"] == pytest.approx(5, abs=0.01)
    assert summary["outside_app_p50_ms"] == pytest.approx(15, abs=0.01)
    assert summary["slowest_1pct_latency_mean_ms"] == pytest.approx(20, abs=0.01)
    assert summary["phases_p50_ms"] == {"db": pytest.approx(2.5, abs=0.01)}


def test_server_timing_header_parsing() -> None:
    assert loadgen.parse_server_timing("app;dur=12.5, pre;dur=0.3;desc=x, statements;desc=10, bad;dur=x") \
        == {"app": 12.5, "pre": 0.3}
    assert loadgen.parse_server_timing("") == {}


def test_a_connection_idle_past_the_keep_alive_is_opened_again() -> None:
    """Uvicorn closes keep-alive connections idle for 5 s: the pool reconnects one idle for longer
    than `keepalive_s` before writing to it."""

    async def scenario(loop: VirtualClockLoop) -> tuple[OpenStream, list[FakeConnection]]:
        server = FakeServer(loop, service_s=0.01)
        conns: list[FakeConnection] = []

        def connect() -> FakeConnection:
            conns.append(FakeConnection(server))
            return conns[-1]

        s = OpenStream(name="t", times=[0.0, 1.0, 7.0], payloads=[b"x"], connect=connect,
                       clock=loop.time, keepalive_s=4.0)
        await s.run()
        return s, conns

    s, conns = run_virtual(scenario)
    assert s.connections_opened == 1 and s.connections_reopened == 1
    assert len(conns) == 1 and conns[0].closed  # closed before the third request, reconnected by it
    assert s.summary()["statuses"] == {"200": 3}
