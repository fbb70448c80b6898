"""The transfer contract and the state-store interface it runs on."""

from ledger_gateway.chaincode.contract import (
    BY_PATIENT,
    BY_REQUESTING_ORG,
    BY_SOURCE_ORG,
    RULES_VERSION,
    TransferContract,
    check_permitted,
)
from ledger_gateway.chaincode.errors import (
    ConditionNotMet,
    ContractError,
    ContractFailure,
    EventIdConflict,
    IllegalTransition,
    InvalidArgument,
    NotAParty,
    RoleNotAllowed,
    TransferExists,
    UnknownTransfer,
    WrongSigner,
)
from ledger_gateway.chaincode.state_store import HistoryEntry, StateStore, composite_key

__all__ = [
    "BY_PATIENT",
    "BY_REQUESTING_ORG",
    "BY_SOURCE_ORG",
    "RULES_VERSION",
    "ConditionNotMet",
    "ContractError",
    "ContractFailure",
    "EventIdConflict",
    "HistoryEntry",
    "IllegalTransition",
    "InvalidArgument",
    "NotAParty",
    "RoleNotAllowed",
    "StateStore",
    "TransferContract",
    "TransferExists",
    "UnknownTransfer",
    "WrongSigner",
    "check_permitted",
    "composite_key",
]
