"""A new consumer group starts where the processors' faust group stopped.

Until November 2026 the processors ran as a faust app under the consumer group
``curex-processors``. The aiokafka loops that replaced it use groups of their own; left to
``auto_offset_reset`` a new group would start from ``earliest`` and redo all history. So
when a group has no committed offset at all (it is being created), it first adopts the
legacy group's committed offsets for its topics. From then on the legacy group is never
read again; a partition neither group knows starts from ``earliest``.
"""

from collections.abc import Collection

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

log = structlog.get_logger()


async def adopt_legacy_offsets(
    bootstrap: str, group_id: str, legacy_group: str, topics: Collection[str]
) -> int:
    """Seeds `group_id` from `legacy_group` if it has no offsets yet; returns how many."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if await admin.list_consumer_group_offsets(group_id):
            return 0
        legacy = {
            tp: committed.offset
            for tp, committed in (await admin.list_consumer_group_offsets(legacy_group)).items()
            if tp.topic in topics and committed.offset >= 0
        }
    finally:
        await admin.close()
    if legacy:
        await _commit_as_new_group(bootstrap, group_id, legacy)
        log.info("adopted the legacy group's offsets", group=group_id, partitions=len(legacy))
    return len(legacy)


async def _commit_as_new_group(
    bootstrap: str, group_id: str, offsets: dict[TopicPartition, int]
) -> None:
    # A consumer that assigns partitions itself commits without joining the group, which
    # the broker accepts while the group has no members: it is only now being created.
    seeder = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await seeder.start()
    try:
        seeder.assign(list(offsets))
        await seeder.commit(offsets)
    finally:
        await seeder.stop()
