"""Give the bench organisations passing policies and scores, and the patient records."""

from curex.assessments import assessment
from curex.bench.errors import BenchError
from curex.bench.workload import BenchWorld
from curex.block_watch import BlockWatcher
from curex.errors import WaitTimedOut
from processors.intake import system_actor
from processors.records import LocalRecordsStore
from producers.publisher import CommandPublisher
from schemas import (
    CommandRejected,
    LedgerReport,
    OrganisationPolicy,
    TransactionCommitted,
)

_SEED_OPS = frozenset({"set_policy", "record_risk_score"})


def _seeded_or_refused(reports: list[LedgerReport]) -> bool:
    ops = {r.result.op for r in reports if isinstance(r, TransactionCommitted)}
    return ops >= _SEED_OPS or any(isinstance(r, CommandRejected) for r in reports)


async def seed(
    world: BenchWorld,
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    records: LocalRecordsStore,
    within: float,
) -> None:
    """Returns once the ledger committed both organisations' policy and risk score."""
    records.add_patient(world.source_org, world.patient_id)
    for org in world.orgs:
        policy = OrganisationPolicy(
            org_id=org, min_cybersecurity=50, min_privacy=50, consent_time_limit_s=3600
        )
        await publisher.publish_policy(policy, system_actor(org))
        await publisher.publish_risk_assessment(assessment(org, 90, 90))
    try:
        await watcher.wait_until(list(world.orgs), _seeded_or_refused, within)
    except WaitTimedOut as exc:
        raise BenchError(f"seeding the bench organisations did not commit: {exc}") from exc
    refused = [r for org in world.orgs for r in watcher.rejections(org)]
    if refused:
        raise BenchError(f"the ledger refused the bench seed: {refused[0].reason}")
