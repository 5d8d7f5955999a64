"""Keeps the chart's self-managed webhook certificate fresh (edge: reads and writes one Secret)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from kubernetes.client.exceptions import ApiException

from controller.kube.client import Kube
from controller.pipeline.certificates import renewed_secret_data

log = logging.getLogger(__name__)


class CertificateKeeper:
    def __init__(self, kube: Kube, namespace: str, secret: str):
        self.kube = kube
        self.namespace = namespace
        self.secret = secret

    def check_once(self, now: dt.datetime | None = None) -> bool:
        """Renew if due; returns whether the Secret was rewritten."""
        secret = self.kube.get("v1", "Secret", self.secret, self.namespace)
        if secret is None:
            return False
        data = renewed_secret_data(secret.get("data") or {}, now or dt.datetime.now(dt.UTC))
        if data is None:
            return False
        try:
            self.kube.replace(secret | {"data": data})  # guarded by resourceVersion
        except ApiException as error:
            if error.status == 409:
                return False  # someone else renewed first; the next check sees it
            raise
        log.info("Renewed the webhook serving certificate in Secret %s/%s", self.namespace, self.secret)
        return True

    def run(self, leading: threading.Event, stop: threading.Event, period: float, poll: float = 1.0) -> None:
        """Check as soon as this replica leads, then every `period` while it does. A certificate
        that expired while no controller ran (the webhooks refuse every write then) is renewed
        when a controller starts, not an hour later."""
        due: float | None = None  # monotonic time of the next check while leading
        while not stop.is_set():
            if not leading.is_set():
                due = None
            elif due is None or time.monotonic() >= due:
                try:
                    self.check_once()
                except Exception as error:  # retried next period; admission keeps the old pair until then
                    log.warning("Could not check the webhook certificate: %s", error)
                due = time.monotonic() + period
            stop.wait(poll)
