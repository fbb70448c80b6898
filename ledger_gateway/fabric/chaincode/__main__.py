"""Serve the transfer chaincode: ``python -m ledger_gateway.fabric.chaincode``.

Environment: ``CUREX_CHAINCODE_ID`` (the package id the peer knows), ``CUREX_CHAINCODE_ADDRESS``
(host:port to listen on), ``CUREX_FABRIC_MEMBERS`` (comma-separated member MSP ids).
"""

import signal
import threading
from types import FrameType

import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger_gateway.fabric.chaincode.functions import TransferChaincode
from ledger_gateway.fabric.chaincode.server import start_server
from service_runtime.logs import configure_logging


class ChaincodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    chaincode_id: str
    chaincode_address: str
    fabric_members: str

    @property
    def members(self) -> frozenset[str]:
        return frozenset(m.strip() for m in self.fabric_members.split(",") if m.strip())


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
        TransferChaincode(settings.members),
    )
    log.info(
        "chaincode server started",
        chaincode_id=settings.chaincode_id,
        address=settings.chaincode_address,
        port=server.port,
        members=sorted(settings.members),
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
