"""Prometheus metrics of the ledger gateway."""

from prometheus_client import Counter, Histogram

COMMANDS = Counter("curex_gateway_commands_total", "Ledger commands handled", ["outcome"])
BATCH_SIZE = Histogram(
    "curex_gateway_batch_size", "Commands per submitted batch", buckets=(1, 5, 20, 100, 500)
)
SUBMIT_SECONDS = Histogram("curex_gateway_submit_seconds", "Time to commit one batch")
PUBLISHED = Counter("curex_gateway_published_total", "Committed transactions published")
