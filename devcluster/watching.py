"""A background thread that feeds every event of a cluster-wide watch to a handler, restarting the
watch when it ends or fails, until stopped (the log router and the volume provisioner use it)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kubernetes import watch

log = logging.getLogger(__name__)


class WatchThread:
    def __init__(self, name: str, list_function: Callable[..., Any], handle: Callable[[dict[str, Any]], None]):
        self._list_function = list_function
        self._handle = handle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for event in watch.Watch().stream(self._list_function, timeout_seconds=5, _request_timeout=10):
                    if self._stop.is_set():
                        return
                    self._handle(event)
            except Exception as error:  # the API server may be going away; retry until stopped
                if not self._stop.is_set():
                    log.debug("%s watch restarted: %r", self._thread.name, error)
                    self._stop.wait(0.5)
