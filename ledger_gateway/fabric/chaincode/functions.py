"""The chaincode's functions: the transfer contract behind Fabric's invocation arguments.

``args[0]`` names the function, the rest are UTF-8 strings:

- ``submit <LedgerCommand JSON>``: the command's transaction, once per ``event_id``;
- ``transfer <id>``: the Transfer JSON, or an empty payload;
- ``history <id>``: ``[{"tx_id": ..., "transition": {...}}, ...]``, oldest first;
- ``transfer_ids <index> <value>``: a JSON list of transfer ids;
- ``safeguard_audit <org> <ISO 8601 time>``: the SafeguardAudit JSON.

Identity: the proposal's creator (its MSP, which the peer authenticated) is the signer the
contract checks: the member that hosts ``actor.org`` in the network's configuration. A
refusal is status 500 with the message
``CUREX:{"code", "reason", "current_state"}``; a write sets the ``curex.transaction``
event carrying the TxResult.
"""

import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from fabric_protos.peer import chaincode_event_pb2, proposal_response_pb2
from pydantic import BaseModel, ValidationError

from ledger_gateway.chaincode import (
    BY_PATIENT,
    BY_REQUESTING_ORG,
    BY_SOURCE_ORG,
    ContractError,
    ContractFailure,
    InvalidArgument,
    TransferContract,
)
from ledger_gateway.fabric.chaincode.replay import (
    ERROR_STATUS,
    Invocation,
    Outcome,
    PeerError,
    PeerLink,
)
from ledger_gateway.fabric.chaincode.stub_store import StubStore
from schemas import LEDGER_COMMAND, LedgerCommand, Transition
from schemas.network import Network

log = structlog.get_logger()

EVENT_NAME = "curex.transaction"
ERROR_PREFIX = "CUREX:"
INDEXES = frozenset({BY_REQUESTING_ORG, BY_SOURCE_ORG, BY_PATIENT})
_OK = 200


class HistoryItem(BaseModel):
    tx_id: str
    transition: Transition


Function = Callable[[StubStore, Sequence[str]], Outcome]


def _ok(payload: bytes = b"") -> Outcome:
    return Outcome(proposal_response_pb2.Response(status=_OK, payload=payload))


def rejection_message(error: ContractError) -> str:
    body = {
        "code": error.code,
        "reason": error.reason,
        "current_state": error.current_state.value if error.current_state else None,
    }
    return ERROR_PREFIX + json.dumps(body, separators=(",", ":"))


def _rejected(error: ContractError) -> Outcome:
    return Outcome(
        proposal_response_pb2.Response(status=ERROR_STATUS, message=rejection_message(error))
    )


def _arguments(raw: Sequence[bytes], count: int) -> list[str]:
    if len(raw) != count:
        raise InvalidArgument(f"expected {count} argument(s), got {len(raw)}")
    try:
        return [arg.decode() for arg in raw]
    except UnicodeDecodeError as err:
        raise InvalidArgument("arguments must be UTF-8") from err


# The shim runs a transaction once per answer of the peer: parse its command once. The
# command is immutable (a frozen model), so every run sees the same one.
@functools.lru_cache(maxsize=256)
def _ledger_command(raw: str) -> LedgerCommand:
    return LEDGER_COMMAND.validate_json(raw)


class TransferChaincode:
    """A ``Chaincode`` for the shim: the transfer contract and its identity rule."""

    def __init__(self, network: Network) -> None:
        self._network = network
        self._functions: dict[str, tuple[int, Function]] = {
            "submit": (1, self._submit),
            "transfer": (1, self._transfer),
            "history": (1, self._history),
            "transfer_ids": (2, self._transfer_ids),
            "safeguard_audit": (2, self._safeguard_audit),
        }

    def __call__(self, invocation: Invocation, link: PeerLink) -> Outcome:
        name = invocation.args[0].decode(errors="replace") if invocation.args else ""
        # Built only when something is logged: the shim may run a transaction several times.
        context = {"tx_id": invocation.tx_id, "function": name}
        try:
            count, function = self._function(name)
            args = _arguments(invocation.args[1:], count)
            outcome = function(StubStore(invocation, link), args)
        except ContractError as err:
            log.info("transaction refused", code=err.code, **context)
            return _rejected(err)
        except PeerError:
            log.warning("the peer refused a request", **context)
            return _rejected(ContractFailure("the peer refused a state request"))
        except Exception as err:  # noqa: BLE001 - any defect becomes an answer, never a hang
            # Not log.exception: a traceback's messages may quote the command's fields.
            log.error("contract failed", error_type=type(err).__name__, **context)  # noqa: TRY400
            return _rejected(ContractFailure(f"the contract failed ({type(err).__name__})"))
        # Debug: a line per transaction costs more CPU than many a transaction.
        log.debug("transaction done", wrote=outcome.event is not None, **context)
        return outcome

    def _function(self, name: str) -> tuple[int, Function]:
        if name not in self._functions:
            raise InvalidArgument(f"no function {name[:40]!r}")
        return self._functions[name]

    # ---- functions -------------------------------------------------------------------

    def _submit(self, store: StubStore, args: Sequence[str]) -> Outcome:
        try:
            command = _ledger_command(args[0])
        except ValidationError as err:
            where = sorted({".".join(map(str, e["loc"])) or "(root)" for e in err.errors()})
            raise InvalidArgument(f"not a LedgerCommand: invalid {', '.join(where)}") from None
        result = TransferContract(store, self._network).submit(
            str(command.event_id), command.actor, command.tx, store.creator.msp_id
        )
        payload = result.model_dump_json().encode()
        if not store.wrote:  # a replay: the recorded result, nothing written
            return _ok(payload)
        event = chaincode_event_pb2.ChaincodeEvent(event_name=EVENT_NAME, payload=payload)
        return Outcome(_ok(payload).response, event)

    @staticmethod
    def _transfer(store: StubStore, args: Sequence[str]) -> Outcome:
        transfer = TransferContract(store).transfer(args[0])
        return _ok(b"" if transfer is None else transfer.model_dump_json().encode())

    @staticmethod
    def _history(store: StubStore, args: Sequence[str]) -> Outcome:
        items = [
            HistoryItem(tx_id=tx_id, transition=transition).model_dump(mode="json")
            for tx_id, transition in TransferContract(store).history(args[0])
        ]
        return _ok(json.dumps(items, separators=(",", ":")).encode())

    @staticmethod
    def _transfer_ids(store: StubStore, args: Sequence[str]) -> Outcome:
        index, value = args
        if index not in INDEXES:
            raise InvalidArgument(f"no index {index[:40]!r}")
        ids = TransferContract(store).transfer_ids(index, value)
        return _ok(json.dumps(ids, separators=(",", ":")).encode())

    @staticmethod
    def _safeguard_audit(store: StubStore, args: Sequence[str]) -> Outcome:
        org_id, at_text = args
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            raise InvalidArgument("the audit time is not ISO 8601") from None
        if at.tzinfo is None:
            raise InvalidArgument("the audit time needs a UTC offset")
        audit = TransferContract(store).safeguard_audit(org_id, at)
        return _ok(audit.model_dump_json().encode())
