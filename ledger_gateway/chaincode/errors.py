"""Why the contract refuses a transaction.

ContractError
 ├── UnknownTransfer        (UNKNOWN_TRANSFER)
 ├── TransferExists         (TRANSFER_EXISTS)
 ├── IllegalTransition      (ILLEGAL_TRANSITION: the table has no such move now)
 ├── RoleNotAllowed         (ROLE_NOT_ALLOWED)
 ├── NotAParty              (NOT_A_PARTY)
 │    └── WrongSigner        (WRONG_SIGNER: signed by a member that does not host the actor)
 ├── EventIdConflict        (EVENT_ID_CONFLICT: an event id already used by another command)
 ├── ConditionNotMet        (CONDITION_NOT_MET: e.g. no emergency declared, deadline not reached)
 │    └── EmergencyLimitReached (EMERGENCY_LIMIT: the professional's emergencies of the day)
 ├── InvalidArgument        (INVALID_ARGUMENT)
 └── ContractFailure        (CONTRACT_FAILURE: the contract itself failed; a defect to fix)
"""

from typing import ClassVar

from schemas import TransferState


class ContractError(Exception):
    code: ClassVar[str] = "CONTRACT_ERROR"

    def __init__(self, reason: str, current_state: TransferState | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.current_state = current_state


class UnknownTransfer(ContractError):
    code = "UNKNOWN_TRANSFER"


class TransferExists(ContractError):
    code = "TRANSFER_EXISTS"


class IllegalTransition(ContractError):
    code = "ILLEGAL_TRANSITION"


class RoleNotAllowed(ContractError):
    code = "ROLE_NOT_ALLOWED"


class NotAParty(ContractError):
    code = "NOT_A_PARTY"


class WrongSigner(NotAParty):
    code = "WRONG_SIGNER"


class EventIdConflict(ContractError):
    code = "EVENT_ID_CONFLICT"


class ConditionNotMet(ContractError):
    code = "CONDITION_NOT_MET"


class EmergencyLimitReached(ConditionNotMet):
    code = "EMERGENCY_LIMIT"


class InvalidArgument(ContractError):
    code = "INVALID_ARGUMENT"


class ContractFailure(ContractError):
    code = "CONTRACT_FAILURE"


def error_class(code: str) -> type[ContractError] | None:
    """The error a refusal's code names, among every kind the contract raises."""
    found: dict[str, type[ContractError]] = {}
    pending: list[type[ContractError]] = [ContractError]
    while pending:
        kind = pending.pop()
        found.setdefault(kind.code, kind)
        pending += kind.__subclasses__()
    return found.get(code)
