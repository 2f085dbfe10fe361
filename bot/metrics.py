"""Prometheus metrics for GET /metrics: counters kept in process, outbox read at scrape."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tickets_reported = Counter(
            "escalator_tickets_reported",
            "Tickets opened by reports",
            ["severity"],
            registry=self.registry,
        )
        self.notices_sent = Counter(
            "escalator_notices_sent", "Notices delivered to Slack", ["kind"], registry=self.registry
        )
        self.notices_failed = Counter(
            "escalator_notice_failures",
            "Failed attempts to deliver a notice (it is kept and retried)",
            ["kind"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "escalator_slack_request_seconds",
            "Time to answer a request from Slack",
            registry=self.registry,
        )

        self.timer_lag_seconds = Histogram(
            "escalator_timer_lag_seconds",
            "From a reminder or escalation stage's due instant to its notice in the outbox",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300, 3600),
            registry=self.registry,
        )

    def observe_timer_lags(self, lags: Sequence[float]) -> None:
        for lag in lags:
            self.timer_lag_seconds.observe(max(0.0, lag))

    def render(self, extra: str = "") -> bytes:
        return generate_latest(self.registry) + extra.encode()
