"""A daemon thread that runs a pass now and again every few seconds, or at once when woken.

The outbox's delivery worker (app/notify/worker.py) and the ballot scheduler
(app/voting/schedule.py) are such threads, one of each per server process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class PollingThread:
    """Runs `one_pass()` in a daemon thread, then waits `poll_seconds()` or until `wake()`."""

    def __init__(self, *, name: str, one_pass: Callable[[], object], poll_seconds: Callable[[], float],
                 log: logging.Logger, failure: str) -> None:
        self._name = name
        self._one_pass = one_pass
        self._poll_seconds = poll_seconds
        self._log = log
        self._failure = failure
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop; a pass stuck in I/O is left to finish (daemon)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        poll = self._poll_seconds()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._one_pass()
            except Exception:  # a database hiccup: log it, try again at the next pass
                self._log.exception(self._failure)
            self._wake.wait(poll)
