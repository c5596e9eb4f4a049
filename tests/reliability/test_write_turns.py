"""Writes take a turn before they take a session; reads never wait for one (app.deps.write_turn)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from app import deps


def _request(method: str) -> Request:
    return Request({"type": "http", "method": method, "path": "/", "headers": [], "query_string": b""})


async def _enter(method: str, entered: list[str], release: asyncio.Event) -> None:
    turn = deps.write_turn(_request(method))
    await turn.__anext__()
    entered.append(method)
    await release.wait()
    with pytest.raises(StopAsyncIteration):
        await turn.__anext__()


def test_writes_beyond_the_limit_wait_and_reads_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps, "get_settings", lambda: SimpleNamespace(db_write_concurrency=2))

    async def scenario() -> None:
        entered: list[str] = []
        release = asyncio.Event()
        writes = [asyncio.create_task(_enter(m, entered, release)) for m in ("POST", "PUT", "DELETE")]
        reads = [asyncio.create_task(_enter(m, entered, release)) for m in ("GET", "HEAD")]
        for _ in range(20):
            await asyncio.sleep(0)
        # Two writes hold turns, the third waits; both reads went straight through.
        assert sorted(entered) == sorted(["POST", "PUT", "GET", "HEAD"])
        release.set()
        await asyncio.wait_for(asyncio.gather(*writes, *reads), timeout=5)
        assert entered[-1] == "DELETE"

    asyncio.run(scenario())


def test_a_failed_write_gives_its_turn_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps, "get_settings", lambda: SimpleNamespace(db_write_concurrency=1))

    async def scenario() -> None:
        failing = deps.write_turn(_request("POST"))
        await failing.__anext__()
        with pytest.raises(RuntimeError):
            await failing.athrow(RuntimeError("the endpoint failed"))
        nxt = deps.write_turn(_request("POST"))
        await asyncio.wait_for(nxt.__anext__(), timeout=5)  # would wait forever if the turn leaked
        await nxt.aclose()

    asyncio.run(scenario())
