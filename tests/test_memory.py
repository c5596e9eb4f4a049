"""app/memory.py: the collector is paused while any holder runs, and restored as it was."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from app.memory import collector_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_back_after_also_on_error() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_the_collector_comes_back_when_the_last_of_several_threads_leaves() -> None:
    entered, release_first = threading.Barrier(2), threading.Event()
    first_left = threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            entered.wait(5)
            release_first.wait(5)
        first_left.set()

    thread = threading.Thread(target=first)
    thread.start()
    with collector_paused():
        entered.wait(5)
        release_first.set()
        first_left.wait(5)
        seen.append(gc.isenabled())  # the other holder has left; this one still holds
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()


def test_as_a_decorator_each_call_pauses_again() -> None:
    @collector_paused()
    def inside() -> bool:
        return gc.isenabled()

    assert inside() is False and inside() is False
    assert gc.isenabled()
