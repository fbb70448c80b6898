"""Is the broker up? A metadata request answered, not merely an open port."""

import asyncio

from service_runtime.topics import admin_client


async def _port_open(bootstrap: str) -> None:
    host, port = bootstrap.rsplit(":", 1)
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.close()
    await writer.wait_closed()


async def probe_kafka(bootstrap: str) -> None:
    """Returns when the broker answers a metadata request; raises otherwise."""
    # A plain connect first: aiokafka logs an error for every refused bootstrap attempt.
    await _port_open(bootstrap)
    admin = admin_client(bootstrap)
    try:
        await admin.start()
        await admin.describe_cluster()
    finally:
        await admin.close()
