"""A rate-limited, de-duplicating work queue in the spirit of client-go's (no Kubernetes I/O).

A key is processed by one worker at a time; a key added while it is being processed runs once
more afterwards; failed keys come back after an exponential back-off. Keys the `urgent` predicate
picks are served before the others: a shared dependency (a cache many services wait for) must not
queue behind the services that wait for it.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(self, base_delay: float = 0.5, max_delay: float = 60.0, urgent: Callable[[K], bool] | None = None):
        self._ready: deque[K] = deque()
        self._urgent_ready: deque[K] = deque()
        self._urgent = urgent or (lambda _key: False)
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._delayed: list[tuple[float, int, K]] = []
        self._failures: dict[K, int] = {}
        self._sequence = 0
        self._closed = False
        self._lock = threading.Condition()
        self.base_delay = base_delay
        self.max_delay = max_delay

    def add(self, key: K) -> None:
        with self._lock:
            if self._closed:
                return
            if key in self._processing:
                self._dirty.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._push(key)
                self._lock.notify()

    def add_after(self, key: K, delay: float) -> None:
        with self._lock:
            self._sequence += 1
            heapq.heappush(self._delayed, (time.monotonic() + delay, self._sequence, key))
            self._lock.notify()

    def retry(self, key: K) -> float:
        """Schedule a failed key again; returns the delay chosen."""
        with self._lock:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
        delay = float(min(self.max_delay, self.base_delay * 2**failures))
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """The key succeeded: its next failure starts from the base delay again."""
        with self._lock:
            self._failures.pop(key, None)

    def get(self, timeout: float | None = None) -> K | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                self._promote_due()
                if self._urgent_ready or self._ready:
                    key = self._urgent_ready.popleft() if self._urgent_ready else self._ready.popleft()
                    self._queued.discard(key)
                    self._processing.add(key)
                    return key
                if self._closed:
                    return None
                wait = None if deadline is None else deadline - time.monotonic()
                if self._delayed:
                    until_due = self._delayed[0][0] - time.monotonic()
                    wait = until_due if wait is None else min(wait, until_due)
                if wait is not None and wait <= 0:
                    if deadline is not None and time.monotonic() >= deadline:
                        return None
                    continue
                self._lock.wait(wait)

    def done(self, key: K) -> None:
        with self._lock:
            self._processing.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                if key not in self._queued:
                    self._queued.add(key)
                    self._push(key)
                    self._lock.notify()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def __len__(self) -> int:
        with self._lock:
            return len(self._urgent_ready) + len(self._ready) + len(self._delayed)

    def _promote_due(self) -> None:
        now = time.monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, key = heapq.heappop(self._delayed)
            if key in self._processing:
                self._dirty.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._push(key)

    def _push(self, key: K) -> None:
        (self._urgent_ready if self._urgent(key) else self._ready).append(key)
