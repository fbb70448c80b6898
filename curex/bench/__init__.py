"""``curex bench``: throughput, latency and memory figures of the running stack."""

from curex.bench.command import bench_app

__all__ = ["bench_app"]
