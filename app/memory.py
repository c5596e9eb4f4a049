"""The cyclic garbage collector held off while one task builds hundreds of thousands of objects.

A roster import of 50,000 units creates hundreds of thousands of tuples, strings and lists, none
of them in a reference cycle (they are freed by reference counting). The collector, triggered by the
allocations, traverses the whole growing heap again and again meanwhile: a third of a large
import's CPU. The pause is process-wide, counted across threads (the collector comes back when
the last holder leaves), and never turns on a collector that someone else had turned off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False  # whether the collector was on when the first holder came


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (reference counting still frees)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
