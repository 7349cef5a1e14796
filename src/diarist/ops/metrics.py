"""`GET /metrics` in Prometheus' text format: what an operator alerts on that is the same in
every process — the backups' ages, read from the backup dir at each scrape (no state kept
between scrapes, so several API workers answer alike)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from diarist import __version__
from diarist.config import Settings
from diarist.ops import service


class _Backups(Collector):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = service.backup_state(self.settings, datetime.now(UTC))
        info = GaugeMetricFamily("diarist_info", "This diarist's version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        ages = {
            "diarist_backup_age_seconds": ("The newest backup's age.", "age_hours"),
            "diarist_backup_verified_age_seconds": (
                "The newest backup that `diarist backup verify` checked, its age.",
                "verified_age_hours",
            ),
            "diarist_base_backup_age_seconds": (
                "The newest base backup of point-in-time recovery, its age.",
                "base_age_hours",
            ),
        }
        for name, (documentation, field) in ages.items():
            hours = getattr(state, field) if state is not None else None
            if hours is not None:
                yield GaugeMetricFamily(name, documentation, value=hours * 3600)
        overdue = 1 if state is not None and state.overdue else 0
        yield GaugeMetricFamily(
            "diarist_backup_overdue", "Scheduled backups are late (1) or not (0).", value=overdue
        )


def metrics_text(settings: Settings) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Backups(settings))
    return generate_latest(registry)
