"""gRPC failures of the Fabric Gateway, translated into our errors."""

import grpc
import pytest
from fabric_protos.gateway import gateway_pb2
from google.protobuf.any_pb2 import Any
from google.rpc.status_pb2 import Status

from ledger_gateway.chaincode import ContractFailure, IllegalTransition, NotAParty
from ledger_gateway.fabric.errors import (
    ContractRejected,
    GatewayError,
    LedgerUnavailable,
    parse_contract_message,
    translate,
)
from schemas import TransferState

CUREX_ILLEGAL = (
    'CUREX:{"code":"ILLEGAL_TRANSITION","reason":"no such move from CLOSED",'
    '"current_state":"CLOSED"}'
)


def _rpc_error(code: grpc.StatusCode, message: str, *details: str) -> grpc.aio.AioRpcError:
    status = Status(code=code.value[0], message=message)
    for i, text in enumerate(details):
        packed = Any()
        packed.Pack(
            gateway_pb2.ErrorDetail(
                address=f"127.0.0.1:{7051 + i}", msp_id="ES-SERMAS", message=text
            )
        )
        status.details.append(packed)
    trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, message)


def test_parse_contract_message_finds_the_json_after_the_prefix() -> None:
    assert parse_contract_message(CUREX_ILLEGAL) == (
        "ILLEGAL_TRANSITION",
        "no such move from CLOSED",
        TransferState.CLOSED,
    )
    wrapped = f"chaincode response 500, {CUREX_ILLEGAL} (trailing words)"
    assert parse_contract_message(wrapped) is not None
    assert parse_contract_message(
        'CUREX:{"code":"NOT_A_PARTY","reason":"x","current_state":null}'
    ) == (
        "NOT_A_PARTY",
        "x",
        None,
    )
    assert parse_contract_message("no prefix here") is None
    assert parse_contract_message("CUREX:{broken") is None


def test_a_chaincode_refusal_in_the_details_becomes_the_contract_error() -> None:
    error = translate(
        _rpc_error(
            grpc.StatusCode.ABORTED,
            "failed to endorse transaction, see attached details for more info",
            CUREX_ILLEGAL,
        ),
        "tx-1",
    )
    assert isinstance(error, ContractRejected)
    assert error.unanimous
    assert not error.retriable
    assert error.tx_id == "tx-1"
    assert error.details[0].msp_id == "ES-SERMAS"
    contract_error = error.contract_error()
    assert isinstance(contract_error, IllegalTransition)
    assert contract_error.code == "ILLEGAL_TRANSITION"
    assert contract_error.current_state is TransferState.CLOSED


def test_a_refusal_by_a_later_endorser_is_retryable() -> None:
    error = translate(
        _rpc_error(
            grpc.StatusCode.ABORTED,
            "failed to collect enough transaction endorsements, see attached details",
            'CUREX:{"code":"NOT_A_PARTY","reason":"r","current_state":null}',
        )
    )
    assert isinstance(error, ContractRejected)
    assert not error.unanimous
    assert error.retriable
    assert isinstance(error.contract_error(), NotAParty)


def test_an_unknown_contract_code_is_a_contract_failure() -> None:
    error = translate(_rpc_error(grpc.StatusCode.UNKNOWN, 'CUREX:{"code":"NEW_CODE","reason":"r"}'))
    assert isinstance(error, ContractRejected)
    assert isinstance(error.contract_error(), ContractFailure)


@pytest.mark.parametrize(
    "code",
    [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED],
)
def test_an_unreachable_network_is_ledger_unavailable(code: grpc.StatusCode) -> None:
    error = translate(_rpc_error(code, "connection refused"))
    assert isinstance(error, LedgerUnavailable)
    assert error.retriable


def test_other_failures_keep_their_code_and_details() -> None:
    error = translate(
        _rpc_error(
            grpc.StatusCode.ABORTED,
            "failed to collect enough transaction endorsements",
            "ProposalResponsePayloads do not match",
        )
    )
    assert type(error) is GatewayError
    assert error.retriable
    assert "ProposalResponsePayloads do not match" in str(error)
    denied = translate(_rpc_error(grpc.StatusCode.PERMISSION_DENIED, "access denied"))
    assert type(denied) is GatewayError
    assert not denied.retriable


@pytest.mark.parametrize(
    "message",
    [
        "no combination of peers can be derived which satisfy the endorsement policy: "
        "no peer combination can satisfy the endorsement policy",
        "failed to select a set of endorsers that satisfy the endorsement policy due to "
        "unavailability of peers: [127.0.0.1:9051]",
        "failed to find any endorsing peers for org(s): SE-KI",
    ],
)
def test_endorsers_missing_from_discovery_are_unavailability(message: str) -> None:
    error = translate(_rpc_error(grpc.StatusCode.FAILED_PRECONDITION, message))
    assert isinstance(error, LedgerUnavailable)
    assert error.retriable
