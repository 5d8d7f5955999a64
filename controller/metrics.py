"""Prometheus metrics of the controller (served on AIM_CONTROLLER_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ControllerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.api_requests = Counter(
            "aim_controller_api_requests",
            "Requests to the API server, by verb (GET, POST, PUT, PATCH) and kind",
            ["verb", "kind"],
            registry=self.registry,
        )
        self.store_reads = Counter(
            "aim_controller_store_reads",
            "Reads served from the controller's in-memory view of a watched kind, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.reconciles = Counter(
            "aim_controller_reconciles",
            "Reconciles run, by kind and result",
            ["kind", "result"],
            registry=self.registry,
        )
        self.reconcile_seconds = Histogram(
            "aim_controller_reconcile_seconds",
            "Time to reconcile one object",
            ["kind"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
        )
