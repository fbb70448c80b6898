"""The transfer contract: the one place where transition rules are enforced.

Pure and deterministic: everything it knows comes from the state store (world state,
transaction id and timestamp), the network's configuration and the signer its host
authenticated, so the embedded ledger and Fabric peers reach the same result. A command
replayed with the same ``event_id`` returns the first result and writes nothing; another
command under a used ``event_id`` is refused.
"""

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Literal

from pydantic import TypeAdapter
from schemas import (
    AUDIT_ACTIONS,
    GDPR_VITAL_INTERESTS,
    REVIEW_ACTIONS,
    Action,
    Actor,
    ApplyActionTx,
    AuditRiskTx,
    CreateTransferTx,
    FlagReviewOverdueTx,
    OrganisationPolicy,
    Party,
    PurposeOfUse,
    RecordedAssessment,
    RecordReviewVerdictTx,
    RecordRiskScoreTx,
    RecordSafeguardsTx,
    RiskAssessment,
    RiskScoresUsed,
    Role,
    SafeguardAudit,
    SafeguardDeclaration,
    SafeguardResult,
    SetPolicyTx,
    Transaction,
    Transfer,
    TransferState,
    TransferTouch,
    Transition,
    TxResult,
    rule_for,
)
from schemas.network import Network
from schemas.parties import parties_of
from schemas.risk import RiskAssessmentV1

from ledger_gateway.chaincode.errors import (
    ConditionNotMet,
    ContractFailure,
    EmergencyLimitReached,
    EventIdConflict,
    IllegalTransition,
    InvalidArgument,
    NotAParty,
    RoleNotAllowed,
    TransferExists,
    UnknownTransfer,
)
from ledger_gateway.chaincode.risk_audit import audit
from ledger_gateway.chaincode.signers import check_signer
from ledger_gateway.chaincode.state_store import (
    HistoryEntry,
    StateStore,
    by_partial_composite_key,
    composite_key,
    split_composite_key,
)

TRANSFER = "transfer"
POLICY = "policy"
RISK = "risk"
SAFEGUARDS = "safeguards"
IDEMPOTENCY = "processed"
BY_REQUESTING_ORG = "by-requesting-org"
BY_SOURCE_ORG = "by-source-org"
BY_PATIENT = "by-patient"
_ORG_INDEXES: tuple[tuple[str, Literal["requesting", "source"]], ...] = (
    (BY_REQUESTING_ORG, "requesting"),
    (BY_SOURCE_ORG, "source"),
)
EMERGENCIES = "emergencies"  # (org, professional, UTC day) -> emergencies declared
_INDEX_VALUE = b"\x00"  # Fabric refuses empty values
# How far ahead of the transaction's time an assessment may be dated (clock skew).
MAX_ASSESSMENT_SKEW = timedelta(minutes=5)
# The contract's rules, as a number a ledger stores with each transaction: raised whenever
# the contract would decide a stored command differently (its checks, its results, its
# writes), so a replay runs only the transactions today's rules made.
RULES_VERSION = 3
# The review time of an organisation that has set no policy.
DEFAULT_REVIEW_TIME = timedelta(days=7)


def command_digest(actor: Actor, tx: Transaction) -> str:
    """What an event id is bound to: who asked for which transaction (not when it was sent)."""
    document = {"actor": actor.model_dump(mode="json"), "tx": tx.model_dump(mode="json")}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _recorded(raw: bytes) -> tuple[str | None, TxResult]:
    """An idempotency record: the command's digest and its result. Records written before
    digests were kept hold the bare result; their digest is unknown."""
    document = json.loads(raw)
    if isinstance(document, dict) and set(document) == {"digest", "result"}:
        return str(document["digest"]), TxResult.model_validate(document["result"])
    return None, TxResult.model_validate(document)


def check_permitted(
    state: TransferState | None, action: Action, actor: Actor, parties: frozenset[Party]
) -> TransferState:
    """The next state, or the contract error the table calls for, checked in a fixed order."""
    rule = rule_for(state, action)
    if rule is None:
        shown = state.value if state else "no transfer"
        raise IllegalTransition(f"{action.value} is not allowed from {shown}", state)
    if actor.role not in rule.roles:
        allowed = ", ".join(sorted(r.value for r in rule.roles))
        raise RoleNotAllowed(f"{action.value} needs role {allowed}, not {actor.role.value}", state)
    if not parties & rule.parties:
        needed = ", ".join(sorted(p.value for p in rule.parties))
        raise NotAParty(f"{action.value} may be taken only by the {needed}", state)
    return rule.next_state


class TransferContract:
    def __init__(self, store: StateStore, network: Network | None = None) -> None:
        self._store = store
        # Only submissions need it: reads may construct the contract without one.
        self._network = network

    # ---- entry point -------------------------------------------------------------

    def submit(self, event_id: str, actor: Actor, tx: Transaction, signer: str) -> TxResult:
        """Execute ``tx`` once per ``event_id``, signed by ``signer`` (the member the host
        authenticated); the same command again returns the recorded result."""
        if self._network is None:
            raise ContractFailure("the contract host gave no network configuration")
        check_signer(self._network, signer, actor)
        idempotency_key = composite_key(IDEMPOTENCY, event_id)
        digest = command_digest(actor, tx)
        recorded = self._store.get_state(idempotency_key)
        if recorded is not None:
            recorded_digest, result = _recorded(recorded)
            if recorded_digest not in (None, digest):
                raise EventIdConflict(f"event id {event_id} was used by another command")
            return result
        result = self._execute(actor, tx)
        record = {"digest": digest, "result": result.model_dump(mode="json")}
        self._store.put_state(idempotency_key, json.dumps(record, sort_keys=True).encode())
        return result

    def _execute(self, actor: Actor, tx: Transaction) -> TxResult:
        match tx:
            case SetPolicyTx():
                return self._set_policy(actor, tx.policy)
            case RecordRiskScoreTx():
                return self._record_risk_score(actor, tx.assessment)
            case RecordSafeguardsTx():
                return self._record_safeguards(actor, tx.result)
            case CreateTransferTx():
                return self._create(actor, tx)
            case AuditRiskTx():
                return self._audit_risk(actor, tx.transfer_id)
            case ApplyActionTx():
                return self._apply(actor, tx)
            case RecordReviewVerdictTx():
                return self._record_review_verdict(actor, tx)
            case FlagReviewOverdueTx():
                return self._flag_review_overdue(actor, tx)

    # ---- organisations -----------------------------------------------------------

    def _set_policy(self, actor: Actor, policy: OrganisationPolicy) -> TxResult:
        self._require_org_operator(actor, policy.org_id)
        self._put(composite_key(POLICY, policy.org_id), policy.model_dump_json().encode())
        return TxResult(tx_id=self._store.get_tx_id(), op="set_policy", policy=policy)

    def _record_risk_score(self, actor: Actor, assessment: RecordedAssessment) -> TxResult:
        self._require_org_operator(actor, assessment.org_id)
        if isinstance(assessment, RiskAssessmentV1):
            raise InvalidArgument("a risk assessment must state its validity (schema version 2)")
        self._check_not_future(assessment.assessed_at)
        key = composite_key(RISK, assessment.org_id)
        latest = self.risk_assessment(assessment.org_id)
        # Out-of-order delivery must not replace a newer assessment with an older one.
        if latest is None or assessment.assessed_at >= latest.assessed_at:
            self._put(key, assessment.model_dump_json().encode())
        return TxResult(
            tx_id=self._store.get_tx_id(), op="record_risk_score", assessment=assessment
        )

    def _record_safeguards(self, actor: Actor, result: SafeguardResult) -> TxResult:
        self._require_org_operator(actor, result.org_id)
        self._check_not_future(result.assessed_at)
        key = composite_key(SAFEGUARDS, result.org_id)
        latest = self._safeguards_now(result.org_id)
        # As for scores: a result delivered late never replaces a newer declaration.
        if latest is None or result.assessed_at >= latest.assessed_at:
            self._put(key, result.model_dump_json().encode())
        return TxResult(tx_id=self._store.get_tx_id(), op="record_safeguards", safeguards=result)

    def _check_not_future(self, assessed_at: datetime) -> None:
        if assessed_at > self._store.get_tx_timestamp() + MAX_ASSESSMENT_SKEW:
            raise InvalidArgument("the assessment is dated in the future")

    @staticmethod
    def _require_org_operator(actor: Actor, org_id: str) -> None:
        if actor.role not in (Role.OPS, Role.SYSTEM):
            raise RoleNotAllowed(f"only ops or system of {org_id} may do this")
        if actor.org != org_id:
            raise NotAParty(f"{actor.org} may not act for {org_id}")

    # ---- transfers ----------------------------------------------------------------

    def _create(self, actor: Actor, tx: CreateTransferTx) -> TxResult:
        if self.transfer(tx.transfer_id) is not None:
            raise TransferExists(f"transfer {tx.transfer_id} already exists")
        # The creator is the requesting organisation by definition of the request.
        check_permitted(None, Action.CREATE, actor, frozenset({Party.REQUESTING_ORG}))
        if tx.source_org == actor.org:
            raise InvalidArgument("source and requesting organisation must differ")
        if tx.emergency != (tx.purpose is PurposeOfUse.ETREAT):
            raise InvalidArgument("an emergency, and only an emergency, has the purpose ETREAT")
        if tx.emergency:
            self._count_emergency(actor)
        now = self._store.get_tx_timestamp()
        transition = Transition(
            transfer_id=tx.transfer_id,
            from_state=None,
            to_state=TransferState.INITIALISED,
            action=Action.CREATE,
            actor=actor,
            at=now,
            reason=tx.purpose.value,
        )
        transfer = Transfer(
            transfer_id=tx.transfer_id,
            requesting_org=actor.org,
            source_org=tx.source_org,
            patient_pseudonym=tx.patient_pseudonym,
            emergency=tx.emergency,
            purpose=tx.purpose,
            state=TransferState.INITIALISED,
            created_at=now,
            updated_at=now,
            last_transition=transition,
        )
        self._save_transfer(transfer)
        for index, attr in (
            (BY_REQUESTING_ORG, transfer.requesting_org),
            (BY_SOURCE_ORG, transfer.source_org),
            (BY_PATIENT, transfer.patient_pseudonym),
        ):
            self._put(composite_key(index, attr, transfer.transfer_id), _INDEX_VALUE)
        return self._result("create_transfer", transfer)

    def _count_emergency(self, actor: Actor) -> None:
        """Counts an emergency declared by ``actor`` today (UTC, ledger time), or refuses it
        over their organisation's daily limit. Only organisations with a limit keep a count."""
        policy = self.policy(actor.org)
        limit = None if policy is None else policy.emergencies_per_professional_per_day
        if limit is None:
            return
        day = self._store.get_tx_timestamp().date().isoformat()
        key = composite_key(EMERGENCIES, actor.org, actor.user_id, day)
        raw = self._store.get_state(key)
        declared = 0 if raw is None else int(raw)
        if declared >= limit:
            raise EmergencyLimitReached(
                f"{actor.org} allows {limit} emergencies per professional per day"
            )
        self._put(key, str(declared + 1).encode())

    def _audit_risk(self, actor: Actor, transfer_id: str) -> TxResult:
        transfer = self._existing(transfer_id)
        orgs = (transfer.requesting_org, transfer.source_org)
        policies = {org: self.policy(org) for org in orgs}
        scores = {org: self.risk_assessment(org) for org in orgs}
        decision = audit(policies, scores, self._store.get_tx_timestamp())
        action = Action.ACCEPT_RISK if decision.accepted else Action.REJECT_RISK
        check_permitted(transfer.state, action, actor, parties_of(actor, transfer))
        used = tuple(_evidence(org, s) for org, s in scores.items() if s is not None)
        updates: dict[str, object] = {}
        if decision.accepted:
            source_policy = policies[transfer.source_org]
            assert source_policy is not None
            updates["consent_deadline"] = self._store.get_tx_timestamp() + timedelta(
                seconds=source_policy.consent_time_limit_s
            )
        transfer = self._move(
            transfer, action, actor, reason=decision.reason, risk_scores=used, updates=updates
        )
        return self._result("audit_risk", transfer)

    def _apply(self, actor: Actor, tx: ApplyActionTx) -> TxResult:
        if tx.action in AUDIT_ACTIONS | REVIEW_ACTIONS or tx.action is Action.CREATE:
            raise InvalidArgument(f"{tx.action.value} is not taken through apply_action")
        transfer = self._existing(tx.transfer_id)
        check_permitted(transfer.state, tx.action, actor, parties_of(actor, transfer))
        now = self._store.get_tx_timestamp()
        updates: dict[str, object] = {}
        legal_basis = None
        if tx.action is Action.BYPASS_CONSENT:
            if not transfer.emergency:
                raise ConditionNotMet(
                    "consent may be bypassed only for a declared emergency", transfer.state
                )
            legal_basis = GDPR_VITAL_INTERESTS
            policy = self.policy(transfer.source_org)
            review_time = (
                DEFAULT_REVIEW_TIME
                if policy is None
                else timedelta(seconds=policy.review_time_limit_s)
            )
            updates.update(
                review_required=True, consent_deadline=None, review_deadline=now + review_time
            )
        elif tx.action is Action.EXPIRE:
            if transfer.consent_deadline is None or now < transfer.consent_deadline:
                raise ConditionNotMet("the consent time limit has not passed", transfer.state)
        elif tx.action in (Action.GRANT_CONSENT, Action.REFUSE_CONSENT):
            updates["consent_deadline"] = None
        transfer = self._move(
            transfer, tx.action, actor, reason=tx.reason, legal_basis=legal_basis, updates=updates
        )
        return self._result("apply_action", transfer)

    # ---- reviews of emergency bypasses -------------------------------------------

    def _record_review_verdict(self, actor: Actor, tx: RecordReviewVerdictTx) -> TxResult:
        transfer = self._open_review(tx.transfer_id)
        if actor.role is not Role.DPO:
            raise RoleNotAllowed(
                f"a verdict needs role dpo, not {actor.role.value}", transfer.state
            )
        if actor.org != transfer.source_org:
            raise NotAParty(
                "only the source organisation's data-protection officer reviews", transfer.state
            )
        transfer = self._note(
            transfer,
            Action.RECORD_REVIEW_VERDICT,
            actor,
            reason=tx.reason.value,
            updates={"review_verdict": tx.verdict, "review_reason": tx.reason},
        )
        return self._result("record_review_verdict", transfer)

    def _flag_review_overdue(self, actor: Actor, tx: FlagReviewOverdueTx) -> TxResult:
        transfer = self._open_review(tx.transfer_id)
        if actor.role is not Role.SYSTEM or actor.org != transfer.source_org:
            raise RoleNotAllowed("only the source organisation's system flags", transfer.state)
        deadline = transfer.review_deadline
        if transfer.review_overdue:
            raise ConditionNotMet("the review is already flagged overdue", transfer.state)
        if deadline is None or self._store.get_tx_timestamp() < deadline:
            raise ConditionNotMet("the review time has not passed", transfer.state)
        transfer = self._note(
            transfer,
            Action.FLAG_REVIEW_OVERDUE,
            actor,
            reason="REVIEW_TIME_LIMIT",
            updates={"review_overdue": True},
        )
        return self._result("flag_review_overdue", transfer)

    def _open_review(self, transfer_id: str) -> Transfer:
        transfer = self._existing(transfer_id)
        if not transfer.review_required:
            raise ConditionNotMet("this transfer has no review", transfer.state)
        if transfer.review_verdict is not None:
            raise ConditionNotMet("this review has a verdict already", transfer.state)
        return transfer

    # ---- reads (evaluate) ---------------------------------------------------------

    def transfer(self, transfer_id: str) -> Transfer | None:
        raw = self._store.get_state(composite_key(TRANSFER, transfer_id))
        return None if raw is None else Transfer.model_validate_json(raw)

    def policy(self, org_id: str) -> OrganisationPolicy | None:
        raw = self._store.get_state(composite_key(POLICY, org_id))
        return None if raw is None else OrganisationPolicy.model_validate_json(raw)

    def risk_assessment(self, org_id: str) -> RecordedAssessment | None:
        raw = self._store.get_state(composite_key(RISK, org_id))
        return None if raw is None else _RECORDED_ASSESSMENT.validate_json(raw)

    def safeguard_audit(self, org_id: str, at: datetime, limit: int = 500) -> SafeguardAudit:
        """What ``org_id`` had declared at ``at`` by the ledger's clock, and the transfers
        (at most ``limit``, the latest) with a transition at or after ``at``."""
        return SafeguardAudit(
            org_id=org_id,
            at=at,
            declaration=self._declaration_at(org_id, at),
            transfers=tuple(self._transfers_since(org_id, at)[-limit:]),
        )

    def _safeguards_now(self, org_id: str) -> SafeguardResult | None:
        raw = self._store.get_state(composite_key(SAFEGUARDS, org_id))
        return None if raw is None else SafeguardResult.model_validate_json(raw)

    def _declaration_at(self, org_id: str, at: datetime) -> SafeguardDeclaration | None:
        # The ledger's time, not the tool's: a declaration cannot be backdated.
        found: SafeguardDeclaration | None = None
        for entry in self._store.get_history_for_key(composite_key(SAFEGUARDS, org_id)):
            if entry.timestamp > at:
                break
            if entry.value is not None:
                result = SafeguardResult.model_validate_json(entry.value)
                found = SafeguardDeclaration.of(result, entry.tx_id, entry.timestamp)
        return found

    def _transfers_since(self, org_id: str, at: datetime) -> list[TransferTouch]:
        touched: list[TransferTouch] = []
        for index, role in _ORG_INDEXES:
            for transfer_id in self.transfer_ids(index, org_id):
                transfer = self.transfer(transfer_id)
                if transfer is None or transfer.updated_at < at:
                    continue
                touched.append(
                    TransferTouch(
                        transfer_id=transfer.transfer_id,
                        role=role,
                        state=transfer.state,
                        created_at=transfer.created_at,
                        updated_at=transfer.updated_at,
                    )
                )
        return sorted(touched, key=lambda t: (t.created_at, t.transfer_id))

    def history(self, transfer_id: str) -> list[tuple[str, Transition]]:
        """Every transition of a transfer with the id of the transaction that made it."""
        entries: Iterator[HistoryEntry] = self._store.get_history_for_key(
            composite_key(TRANSFER, transfer_id)
        )
        return [
            (entry.tx_id, Transfer.model_validate_json(entry.value).last_transition)
            for entry in entries
            if entry.value is not None
        ]

    def transfer_ids(self, index: str, value: str) -> list[str]:
        """Ids from one of the indexes: by requesting org, by source org, by patient."""
        return [
            split_composite_key(key)[1][-1]
            for key, _ in by_partial_composite_key(self._store, index, value)
        ]

    # ---- internals -----------------------------------------------------------------

    def _existing(self, transfer_id: str) -> Transfer:
        transfer = self.transfer(transfer_id)
        if transfer is None:
            raise UnknownTransfer(f"no transfer {transfer_id}")
        return transfer

    def _move(
        self,
        transfer: Transfer,
        action: Action,
        actor: Actor,
        *,
        reason: str | None = None,
        legal_basis: str | None = None,
        risk_scores: tuple[RiskScoresUsed, ...] = (),
        updates: dict[str, object],
    ) -> Transfer:
        rule = rule_for(transfer.state, action)
        assert rule is not None  # checked by the caller
        return self._record(
            transfer,
            rule.next_state,
            action,
            actor,
            reason=reason,
            legal_basis=legal_basis,
            risk_scores=risk_scores,
            updates=updates,
        )

    def _note(
        self,
        transfer: Transfer,
        action: Action,
        actor: Actor,
        *,
        reason: str,
        updates: dict[str, object],
    ) -> Transfer:
        """Records ``action`` in the transfer's history without changing its state."""
        return self._record(transfer, transfer.state, action, actor, reason=reason, updates=updates)

    def _record(
        self,
        transfer: Transfer,
        to_state: TransferState,
        action: Action,
        actor: Actor,
        *,
        reason: str | None = None,
        legal_basis: str | None = None,
        risk_scores: tuple[RiskScoresUsed, ...] = (),
        updates: dict[str, object],
    ) -> Transfer:
        now = self._store.get_tx_timestamp()
        transition = Transition(
            transfer_id=transfer.transfer_id,
            from_state=transfer.state,
            to_state=to_state,
            action=action,
            actor=actor,
            at=now,
            reason=reason,
            legal_basis=legal_basis,
            risk_scores=risk_scores,
        )
        if legal_basis is not None:
            updates = {**updates, "legal_basis": legal_basis}
        moved = transfer.model_copy(
            update={
                "state": to_state,
                "updated_at": now,
                "last_transition": transition,
                **updates,
            }
        )
        self._save_transfer(moved)
        return moved

    def _save_transfer(self, transfer: Transfer) -> None:
        self._put(
            composite_key(TRANSFER, transfer.transfer_id), transfer.model_dump_json().encode()
        )

    def _put(self, key: str, value: bytes) -> None:
        self._store.put_state(key, value)

    def _result(self, op: str, transfer: Transfer) -> TxResult:
        return TxResult(tx_id=self._store.get_tx_id(), op=op, transfer=transfer)


_RECORDED_ASSESSMENT: TypeAdapter[RecordedAssessment] = TypeAdapter(RecordedAssessment)


def _evidence(org: str, score: RecordedAssessment) -> RiskScoresUsed:
    """What the transition records of an assessment it used: enough to find the report."""
    named = score if isinstance(score, RiskAssessment) else None
    return RiskScoresUsed(
        org_id=org,
        cybersecurity_score=score.cybersecurity_score,
        privacy_score=score.privacy_score,
        assessed_at=score.assessed_at,
        assessment_id=named.assessment_id if named else None,
        source=score.source,
        valid_until=named.valid_until if named else None,
    )
