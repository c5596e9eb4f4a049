"""The delivery worker: a daemon thread in each server process, woken after a commit that
enqueued messages and otherwise polling every `notify_poll_seconds`.

Several processes (and a `python -m app.notify deliver` timer) may run at once: claims are safe
across processes (service.claim_batch). A provider that hangs holds this thread only.
"""

from __future__ import annotations

import logging
import threading

from app.config import get_settings
from app.notify import service

log = logging.getLogger("gongjue.notify")


class Worker:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gongjue-notify", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop; a send stuck in the provider is left to finish (daemon)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        poll = get_settings().notify_poll_seconds
        while not self._stop.is_set():
            self._wake.clear()
            try:
                while not self._stop.is_set() and service.deliver_once().claimed:
                    pass
            except Exception:  # a database hiccup: log it, try again at the next wake-up
                log.exception("outbox delivery pass failed")
            self._wake.wait(poll)


_worker = Worker()


def get_worker() -> Worker:
    return _worker


def wake() -> None:
    """After a commit that enqueued: this process's worker looks at once (if it runs)."""
    if _worker.running:
        _worker.wake()


service.on_enqueued(wake)
