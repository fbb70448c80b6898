"""Is the broker up? A metadata request answered, not merely an open port."""

import asyncio
import logging

from service_runtime.kafka_access import KafkaAccess
from service_runtime.topics import admin_client


class _LoopbackPlainNotice(logging.Filter):
    """aiokafka warns on every PLAIN login without TLS; the broker's own user logs in so on
    loopback only, at every probe."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Sending username and password in the clear"


logging.getLogger("aiokafka.conn").addFilter(_LoopbackPlainNotice())


async def _port_open(bootstrap: str) -> None:
    host, port = bootstrap.rsplit(":", 1)
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.close()
    await writer.wait_closed()


async def probe_kafka(access: KafkaAccess) -> None:
    """Returns when the broker answers an authenticated metadata request; raises otherwise."""
    # A plain connect first: aiokafka logs an error for every refused bootstrap attempt.
    await _port_open(access.bootstrap)
    admin = admin_client(access)
    try:
        await admin.start()
        await admin.describe_cluster()
    finally:
        await admin.close()
