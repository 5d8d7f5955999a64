"""Prometheus metrics of the webhook service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class WebhookMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reviews = Counter(
            "aim_webhook_reviews",
            "Reviews answered, by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "aim_webhook_review_seconds",
            "Time to answer a review",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.converted_objects = Counter(
            "aim_webhook_converted_objects",
            "Objects converted",
            registry=self.registry,
        )
