"""A small world for contract tests: two organisations, a patient, and helpers."""

import hashlib
import uuid
from datetime import timedelta

from curex.assessments import assessment
from ledger_gateway.chaincode import TransferContract
from ledger_gateway.chaincode.contract import TRANSFER
from ledger_gateway.chaincode.state_store import composite_key
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    AuditRiskTx,
    CreateTransferTx,
    OrganisationPolicy,
    Party,
    PurposeOfUse,
    RecordRiskScoreTx,
    Role,
    SetPolicyTx,
    Transaction,
    Transfer,
    TransferState,
    Transition,
    TxResult,
)
from schemas.codes import purpose_for
from schemas.network import Network
from tests.unit.fakes import MemoryStateStore

REQUESTING = "SE-KI"
SOURCE = "ES-SERMAS"
OTHER = "FR-APHP"
# OTHER has no peer: SOURCE signs for it, as the network's configuration says.
NETWORK = Network(members=(SOURCE, REQUESTING), hosting={OTHER: SOURCE})
PATIENT = hashlib.sha256(b"patient").hexdigest()
OTHER_PATIENT = hashlib.sha256(b"someone else").hexdigest()


def actor_for(role: Role, party: Party | None) -> Actor:
    """An actor of ``role`` that relates to the world's transfer as ``party`` (or not at all)."""
    if role is Role.PATIENT:
        who = PATIENT if party is Party.PATIENT else OTHER_PATIENT
        return Actor(user_id=who, org=SOURCE, role=role)
    org = {Party.REQUESTING_ORG: REQUESTING, Party.SOURCE_ORG: SOURCE}.get(party, OTHER)  # type: ignore[call-overload]
    return Actor(user_id=f"{role.value}@{org}", org=org, role=role)


def system(org: str) -> Actor:
    return Actor(user_id="curex-processors", org=org, role=Role.SYSTEM)


class World:
    def __init__(self) -> None:
        self.store = MemoryStateStore()
        self.contract = TransferContract(self.store, NETWORK)

    def run(self, actor: Actor, tx: Transaction, event_id: str | None = None) -> TxResult:
        self.store.begin()
        try:
            signer = NETWORK.host_of(actor.org) or actor.org
            result = self.contract.submit(event_id or str(uuid.uuid4()), actor, tx, signer)
        except Exception:
            self.store.rollback()
            raise
        self.store.commit()
        return result

    def seed_orgs(self, *, cyber: int = 90, privacy: int = 90, limit_s: int = 3600) -> None:
        for org in (REQUESTING, SOURCE):
            self.run(
                system(org),
                SetPolicyTx(
                    policy=OrganisationPolicy(
                        org_id=org,
                        min_cybersecurity=70,
                        min_privacy=60,
                        consent_time_limit_s=limit_s,
                    )
                ),
            )
            self.run(
                system(org),
                RecordRiskScoreTx(assessment=assessment(org, cyber, privacy)),
            )

    def create(self, transfer_id: str = "transfer-0001", *, emergency: bool = False) -> Transfer:
        result = self.run(
            actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG),
            CreateTransferTx(
                transfer_id=transfer_id,
                source_org=SOURCE,
                patient_pseudonym=PATIENT,
                emergency=emergency,
                purpose=purpose_for(emergency),
            ),
        )
        assert result.transfer is not None
        return result.transfer

    def force_state(
        self, transfer_id: str, state: TransferState, *, emergency: bool, deadline_passed: bool
    ) -> None:
        """Put an existing transfer into ``state`` directly, as set-up for the matrix."""
        transfer = self.contract.transfer(transfer_id)
        assert transfer is not None
        deadline = self.store.now + timedelta(seconds=-1 if deadline_passed else 3600)
        forced = transfer.model_copy(
            update={
                "state": state,
                "emergency": emergency,
                "consent_deadline": deadline,
                "last_transition": Transition(
                    transfer_id=transfer_id,
                    from_state=None,
                    to_state=state,
                    action=Action.CREATE,
                    actor=transfer.last_transition.actor,
                    at=self.store.now,
                ),
            }
        )
        self.store.begin()
        self.store.put_state(
            composite_key(TRANSFER, transfer_id), forced.model_dump_json().encode()
        )
        self.store.commit()

    def act(
        self, transfer_id: str, action: Action, actor: Actor, event_id: str | None = None
    ) -> TxResult:
        if action in (Action.ACCEPT_RISK, Action.REJECT_RISK):
            return self.run(actor, AuditRiskTx(transfer_id=transfer_id), event_id)
        if action is Action.CREATE:
            return self.run(
                actor,
                CreateTransferTx(
                    transfer_id=transfer_id,
                    source_org=SOURCE,
                    patient_pseudonym=PATIENT,
                    emergency=False,
                    purpose=PurposeOfUse.COC,
                ),
                event_id,
            )
        return self.run(actor, ApplyActionTx(transfer_id=transfer_id, action=action), event_id)
