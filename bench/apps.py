from __future__ import annotations

from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark tooling with no models of its own: an app only so that manage.py finds seed_scale."""

    name = "bench"
    verbose_name = "Benchmarks"
