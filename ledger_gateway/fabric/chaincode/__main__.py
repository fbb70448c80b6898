"""Serve the transfer chaincode: ``python -m ledger_gateway.fabric.chaincode``.

Environment: ``CUREX_CHAINCODE_ID`` (the package id the peer knows), ``CUREX_CHAINCODE_ADDRESS``
(host:port to listen on), ``CUREX_NETWORK`` (the members and the organisations they host, JSON).
"""

import signal
import threading
from types import FrameType

import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger_gateway.fabric.chaincode.functions import TransferChaincode
from ledger_gateway.fabric.chaincode.server import start_server
from schemas.network import Network
from service_runtime.logs import configure_logging


class ChaincodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    chaincode_id: str
    chaincode_address: str
    network: Network


def serve(settings: ChaincodeSettings) -> None:
    log = structlog.get_logger()
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    server = start_server(
        settings.chaincode_address,
        settings.chaincode_id,
        TransferChaincode(settings.network),
    )
    log.info(
        "chaincode server started",
        chaincode_id=settings.chaincode_id,
        address=settings.chaincode_address,
        port=server.port,
        members=list(settings.network.members),
    )
    stop.wait()
    log.info("chaincode server stopping")
    # Stopping cancels the streams, which fails every request still waiting.
    server.stop(grace_s=5)


def main() -> None:
    configure_logging("chaincode")
    serve(ChaincodeSettings())


if __name__ == "__main__":
    main()
