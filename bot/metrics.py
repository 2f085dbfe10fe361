"""Prometheus metrics for GET /metrics: counters kept in process, outbox read at scrape."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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
        self.notices_set_aside = Counter(
            "escalator_notices_set_aside",
            "Notices set aside: Slack refused them for good, or they failed too often",
            ["kind"],
            registry=self.registry,
        )
        self.leases_lost = Counter(
            "escalator_outbox_leases_lost",
            "Outcomes not written because the claim's lease had passed to another claim",
            registry=self.registry,
        )
        self.worker_errors = Counter(
            "escalator_worker_errors",
            "Passes of a background worker that failed (it logs, backs off and carries on)",
            ["worker"],
            registry=self.registry,
        )
        self.worker_restarts = Counter(
            "escalator_worker_restarts",
            "Background workers that stopped and were started again by the supervisor",
            ["worker"],
            registry=self.registry,
        )
        self.worker_up = Gauge(
            "escalator_worker_up",
            "1 while a background worker runs, 0 while it is down",
            ["worker"],
            registry=self.registry,
        )
        self.timers_overdue = Gauge(
            "escalator_timers_overdue",
            "Timers due for over a minute and not fired (the watchdog's last look)",
            registry=self.registry,
        )
        self.timers_overdue_seconds = Gauge(
            "escalator_timers_overdue_seconds",
            "How long the most overdue unfired timer has been due (0: none over a minute)",
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
