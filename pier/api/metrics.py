"""`/metrics`: the cluster's figures in Prometheus' text format, through prometheus-client.

Nothing is counted in memory: every scrape reads the store (the processes' heartbeat rows, the
predictions waiting per version, the predictions per status) into a fresh registry, so any API
process answers for the whole cluster, and a restart loses no count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from pier.api.cluster import Cluster
from pier.jobs import TERMINAL, Status

PROCESS_LABELS = ["process", "kind", "host"]
VERSION_LABELS = ["model", "version"]


class ClusterCollector:
    """The metric families of one reading of the cluster."""

    def __init__(self, cluster: Cluster, statuses: dict[str, int]) -> None:
        self.cluster = cluster
        self.statuses = statuses

    def collect(self) -> Iterator[Metric]:
        yield from self._processes()
        yield from self._queues()
        yield from self._predictions()

    def _processes(self) -> Iterator[Metric]:
        live = GaugeMetricFamily(
            "pier_processes",
            "Processes with a recent heartbeat, by kind (serve: API process; worker) and host.",
            labels=["kind", "host"],
        )
        slots = GaugeMetricFamily(
            "pier_process_slots",
            "Predictions a live process can run at once.",
            labels=PROCESS_LABELS,
        )
        running = GaugeMetricFamily(
            "pier_process_running",
            "Predictions a live process is running now.",
            labels=PROCESS_LABELS,
        )
        age = GaugeMetricFamily(
            "pier_process_heartbeat_age_seconds",
            "Seconds since each process's last heartbeat (a dead process's row stays until it "
            "is cleared).",
            labels=PROCESS_LABELS,
        )
        per_host: Counter[tuple[str, str]] = Counter()
        for p in self.cluster.processes:
            labels = [p["id"], p["kind"], p["host"]]
            age.add_metric(labels, p["heartbeat_age"])
            if p["alive"]:
                per_host[(p["kind"], p["host"])] += 1
                slots.add_metric(labels, p["slots"])
                running.add_metric(labels, len(p["running"]))
        for (kind, host), count in sorted(per_host.items()):
            live.add_metric([kind, host], count)
        yield from (live, slots, running, age)

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "pier_queue_depth",
            "Predictions waiting to start, per model version.",
            labels=VERSION_LABELS,
        )
        oldest = GaugeMetricFamily(
            "pier_queue_oldest_wait_seconds",
            "Seconds the longest-waiting prediction of each model version has waited.",
            labels=VERSION_LABELS,
        )
        queued = GaugeMetricFamily(
            "pier_queue_jobs",
            "Jobs in the job queue's line of each model version (not yet handed to a worker).",
            labels=VERSION_LABELS,
        )
        for q in self.cluster.queues:
            labels = [q["model"], q["version"]]
            depth.add_metric(labels, q["depth"])
            oldest.add_metric(labels, q["oldest_wait_seconds"])
            if q["queued"] is not None:
                queued.add_metric(labels, q["queued"])
        yield from (depth, oldest, queued)

    def _predictions(self) -> Iterator[Metric]:
        ended = CounterMetricFamily(
            "pier_predictions",
            "Predictions that ended, by final status.",
            labels=["status"],
        )
        current = GaugeMetricFamily(
            "pier_predictions_open",
            "Predictions not ended yet, by status (starting: waiting or booting; processing).",
            labels=["status"],
        )
        for status in Status:
            family = ended if status in TERMINAL else current
            family.add_metric([status.value], self.statuses.get(status.value, 0))
        yield from (ended, current)


def exposition(cluster: Cluster, statuses: dict[str, int], accept: str) -> tuple[bytes, str]:
    """The body and content type of a scrape, in the format the scraper asked for (`accept`):
    Prometheus' text format unless it prefers OpenMetrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(cluster, statuses))
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
