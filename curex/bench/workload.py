"""The bench's own organisations, patient and emergency transfer commands."""

import secrets
from dataclasses import dataclass

from schemas import Actor, CreateTransfer, PurposeOfUse, Role, pseudonymise

BENCH_USER = "bench.professional"


@dataclass(frozen=True, slots=True)
class BenchWorld:
    """Two fresh organisations per run, so a run never meets another run's state."""

    run_id: str
    requesting_org: str
    source_org: str
    patient_id: str
    patient_pseudonym: str

    @property
    def orgs(self) -> tuple[str, str]:
        return (self.requesting_org, self.source_org)

    def transfer_id(self, phase: str, index: int) -> str:
        return f"bench-{self.run_id}-{phase}-{index:06d}"

    def emergency_transfer(self, phase: str, index: int) -> CreateTransfer:
        transfer_id = self.transfer_id(phase, index)
        return CreateTransfer(
            correlation_id=transfer_id,
            transfer_id=transfer_id,
            actor=Actor(user_id=BENCH_USER, org=self.requesting_org, role=Role.HEALTH_PROFESSIONAL),
            source_org=self.source_org,
            patient_pseudonym=self.patient_pseudonym,
            emergency=True,
            purpose=PurposeOfUse.ETREAT,
        )


def new_world(pseudonym_key: bytes) -> BenchWorld:
    run_id = secrets.token_hex(4).upper()
    # The network's members: only they have gateways to sign and principals to feed scores.
    source_org = "ES-SERMAS"
    patient_id = f"BENCH-{run_id}"
    return BenchWorld(
        run_id=run_id,
        requesting_org="SE-KI",
        source_org=source_org,
        patient_id=patient_id,
        patient_pseudonym=pseudonymise(pseudonym_key, source_org, patient_id),
    )
