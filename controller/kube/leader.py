"""Keeps this replica's claim on the controller Lease (edge: reads and writes the Lease)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from kubernetes.client.exceptions import ApiException

from controller.kube.client import Kube
from controller.pipeline.leadership import Action, decide

log = logging.getLogger(__name__)


class LeaderElector:
    def __init__(
        self,
        kube: Kube,
        name: str,
        namespace: str,
        identity: str,
        lease_seconds: int = 15,
        retry_seconds: float = 2.0,
        on_elected: Callable[[], None] = lambda: None,
    ):
        self.kube = kube
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.retry_seconds = retry_seconds
        self.on_elected = on_elected
        self.leading = threading.Event()
        self._last_renewal = 0.0

    def try_once(self) -> bool:
        """One round of acquire-or-renew; returns whether this replica leads afterwards."""
        now = dt.datetime.now(dt.UTC)
        try:
            observed = self.kube.get("coordination.k8s.io/v1", "Lease", self.name, self.namespace)
            decision = decide(observed, self.name, self.namespace, self.identity, self.lease_seconds, now)
            if decision.action is Action.FOLLOW:
                self._set(False)
                return False
            assert decision.lease is not None
            if decision.action is Action.CREATE:
                self.kube.create(decision.lease)
            else:
                self.kube.replace(decision.lease)
        except ApiException as error:
            if error.status in (404, 409):  # lost a race for the Lease: follow this round
                self._set(False)
                return False
            log.warning("Could not renew the controller Lease %s/%s: %s", self.namespace, self.name, error.reason)
            return self._keep_if_still_valid(now)
        self._last_renewal = now.timestamp()
        self._set(True)
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.try_once()
            stop.wait(self.retry_seconds)
        self._set(False)

    def _keep_if_still_valid(self, now: dt.datetime) -> bool:
        # An API hiccup does not end leadership while our last renewal still holds the Lease;
        # past that, another replica may already lead, so stop reconciling.
        if now.timestamp() - self._last_renewal >= self.lease_seconds:
            self._set(False)
        return self.leading.is_set()

    def _set(self, leading: bool) -> None:
        if leading and not self.leading.is_set():
            log.info("Became the leading controller (%s)", self.identity)
            self.leading.set()
            self.on_elected()
        elif not leading and self.leading.is_set():
            log.info("Stopped leading (%s)", self.identity)
            self.leading.clear()
