"""The notifier's own metrics (prometheus-client)."""

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("curex_notifier_connections", "WebSocket connections authenticated and open")
DROPS = Counter(
    "curex_notifier_drops_total",
    "Connections the notifier closed, by reason (slow_client: 1013, unauthorised: 4401)",
    ["reason"],
)
FRAMES_SENT = Counter(
    "curex_notifier_frames_sent_total", "Frames sent to clients (changes and acknowledgements)"
)
INBOX_ROWS = Counter("curex_notifier_inbox_rows_total", "Inbox rows written (change x recipient)")
DELIVERY_LAG = Histogram(
    "curex_notifier_delivery_lag_seconds",
    "Ledger commit to the change's frame handed to the socket",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FEED_HEAD = Gauge("curex_notifier_feed_head", "The highest inbox sequence this instance pushed")
