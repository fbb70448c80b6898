"""Serve the transfer chaincode: ``python -m ledger_gateway.fabric.chaincode``.

Environment: ``CUREX_CHAINCODE_ID`` (the package id the peer knows), ``CUREX_CHAINCODE_ADDRESS``
(host:port to listen on), ``CUREX_FABRIC_MEMBERS`` (comma-separated member MSP ids).
"""

import asyncio
import concurrent.futures
import signal

import structlog
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.logs import configure_logging
from ledger_gateway.fabric.chaincode.functions import TransferChaincode
from ledger_gateway.fabric.chaincode.shim import start_server


class ChaincodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    chaincode_id: str
    chaincode_address: str
    fabric_members: str
    chaincode_workers: int = 64

    @property
    def members(self) -> frozenset[str]:
        return frozenset(m.strip() for m in self.fabric_members.split(",") if m.strip())


async def serve(settings: ChaincodeSettings) -> None:
    log = structlog.get_logger()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    executor = concurrent.futures.ThreadPoolExecutor(
        settings.chaincode_workers, thread_name_prefix="chaincode-tx"
    )
    try:
        server, port = await start_server(
            settings.chaincode_address,
            settings.chaincode_id,
            TransferChaincode(settings.members),
            executor,
        )
        log.info(
            "chaincode server started",
            chaincode_id=settings.chaincode_id,
            address=settings.chaincode_address,
            port=port,
            members=sorted(settings.members),
        )
        await stop.wait()
        log.info("chaincode server stopping")
        await server.stop(grace=5)
    finally:
        # Off the event loop: a transaction still running needs it to hear its stream is gone.
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


def main() -> None:
    configure_logging("chaincode")
    asyncio.run(serve(ChaincodeSettings()))


if __name__ == "__main__":
    main()
