"""How far behind a consumer group is, from the broker (committed offsets against the log
ends), so a test can start measuring only once earlier tests' backlog is consumed."""

import asyncio
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from infra.kafka.security import broker_admin_access
from infra.settings import InfraSettings
from notifier.settings import NotifierSettings

NOTIFIER_GROUP: str = NotifierSettings.model_fields["notifier_group_id"].default


async def committed_lag(settings: InfraSettings, group: str) -> int:
    options = broker_admin_access(settings).client_options()
    admin = AIOKafkaAdminClient(**options)
    ends = AIOKafkaConsumer(**options)
    await admin.start()
    await ends.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        if not committed:
            return 0
        end_offsets = await ends.end_offsets(list(committed))
        return sum(end_offsets[tp] - max(0, meta.offset) for tp, meta in committed.items())
    finally:
        await ends.stop()
        await admin.close()


async def wait_until_caught_up(settings: InfraSettings, group: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while (lag := await committed_lag(settings, group)) > 0:
        assert time.monotonic() < deadline, f"group {group} still {lag} records behind"
        await asyncio.sleep(0.2)  # the interval of a deadline-bounded poll
