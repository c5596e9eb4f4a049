"""The delivery worker: a daemon thread in each server process, woken after a commit that
enqueued messages and otherwise polling every `notify_poll_seconds`.

Several processes (and a `python -m app.notify deliver` timer) may run at once: claims are safe
across processes (service.claim_batch). A provider that hangs holds this thread only.
"""

from __future__ import annotations

import logging

from app.background import PollingThread
from app.config import get_settings
from app.notify import service

log = logging.getLogger("gongjue.notify")


def _deliver_all() -> None:
    """Deliver batch after batch until nothing is claimed (or the worker is asked to stop)."""
    while not _worker.stopping and service.deliver_once().claimed:
        pass


Worker = PollingThread
_worker = Worker(name="gongjue-notify", one_pass=_deliver_all,
                 poll_seconds=lambda: get_settings().notify_poll_seconds, log=log,
                 failure="outbox delivery pass failed")


def get_worker() -> Worker:
    return _worker


def wake() -> None:
    """After a commit that enqueued: this process's worker looks at once (if it runs)."""
    if _worker.running:
        _worker.wake()


service.on_enqueued(wake)
