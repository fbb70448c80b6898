"""Knowing when a member peer has committed a transaction.

``FabricLedger`` counts a command as committed once every member peer has committed it, so
the next command of the transfer is endorsed against the state it left, whichever peer
endorses. Two ways to learn it:

- ``StatusCommits`` asks the peer's gateway (CommitStatus): one signed call per transaction
  and peer, a signature to make here and one to verify there;
- ``DeliverCommits`` follows the peer's filtered blocks (DeliverFiltered) on one long-lived
  stream and settles every transaction it is waiting for as its block goes by. A peer sends
  a block only once it has committed the block's state and history (its ledger's block
  iterator waits on the commit lock), so a transaction seen here is readable at that peer:
  the same guarantee as CommitStatus, without a call per transaction.

Register a transaction (``watch``) before submitting it, and only once the source is
``ready``: a block that went by before is not seen again.
"""

import asyncio
import contextlib
from typing import Protocol

import grpc
import structlog
from fabric_protos.common import common_pb2
from fabric_protos.peer import events_pb2

from ledger_gateway.fabric.errors import GatewayError, LedgerUnavailable, translate
from ledger_gateway.fabric.gateway_client import CommitStatus, GatewayClient, validation_code_name
from ledger_gateway.fabric.proposals import seek_envelope

log = structlog.get_logger()

_NEWEST = -1
_STATUS_NAMES = {int(value): name for name, value in common_pb2.Status.items()}


class CommitWatch(Protocol):
    async def result(self) -> CommitStatus:
        """Waits until the peer has committed the transaction: its code and block."""
        ...

    def cancel(self) -> None:
        """Stops waiting (the transaction was not submitted, or the caller gave up)."""
        ...


class CommitSource(Protocol):
    async def ready(self) -> None:
        """Returns once a transaction submitted from now on will be seen."""
        ...

    def watch(self, tx_id: str) -> CommitWatch: ...

    async def close(self) -> None: ...


class _StatusWatch:
    def __init__(self, client: GatewayClient, tx_id: str) -> None:
        self._client = client
        self._tx_id = tx_id

    async def result(self) -> CommitStatus:
        return await self._client.commit_status(self._tx_id)

    def cancel(self) -> None:
        pass


class StatusCommits:
    """A peer's commits through its gateway's CommitStatus call, one per transaction."""

    def __init__(self, client: GatewayClient) -> None:
        self._client = client

    async def ready(self) -> None:
        pass

    def watch(self, tx_id: str) -> CommitWatch:
        return _StatusWatch(self._client, tx_id)

    async def close(self) -> None:
        pass


class _DeliverWatch:
    def __init__(
        self,
        source: "DeliverCommits",
        tx_id: str,
        future: asyncio.Future[CommitStatus],
        timeout_s: float,
    ) -> None:
        self._source = source
        self._tx_id = tx_id
        self._future = future
        self._timeout_s = timeout_s

    async def result(self) -> CommitStatus:
        try:
            return await asyncio.wait_for(self._future, self._timeout_s)
        except TimeoutError:
            raise LedgerUnavailable(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"{self._source.address} did not commit {self._tx_id} in {self._timeout_s:g} s",
                tx_id=self._tx_id,
            ) from None
        finally:
            self.cancel()

    def cancel(self) -> None:
        self._source.forget(self._tx_id, self._future)


class DeliverCommits:
    """A peer's commits from one filtered-block stream, reopened after the last block seen
    whenever it breaks. Create it inside the event loop; ``close()`` it after."""

    def __init__(self, client: GatewayClient, reconnect_delay_s: float = 1.0) -> None:
        self._client = client
        self._reconnect_delay_s = reconnect_delay_s
        self._waiting: dict[str, asyncio.Future[CommitStatus]] = {}
        self._next_block = _NEWEST  # where the next stream starts
        self._positioned = asyncio.Event()
        self._failure: GatewayError | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return self._client.endpoint.address

    async def ready(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name=f"commits@{self.address}")
        if self._positioned.is_set():
            return
        if self._failure is not None:  # not reachable now: let the caller retry later
            raise LedgerUnavailable(self._failure.code, f"{self.address}: {self._failure.message}")
        try:
            await asyncio.wait_for(self._positioned.wait(), self._client.timeouts.evaluate_s)
        except TimeoutError:
            raise LedgerUnavailable(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no filtered blocks from {self.address} in {self._client.timeouts.evaluate_s:g} s",
            ) from None

    def watch(self, tx_id: str) -> CommitWatch:
        future: asyncio.Future[CommitStatus] = asyncio.get_running_loop().create_future()
        self._waiting[tx_id] = future
        return _DeliverWatch(self, tx_id, future, self._client.timeouts.commit_status_s)

    def forget(self, tx_id: str, future: asyncio.Future[CommitStatus]) -> None:
        if self._waiting.get(tx_id) is future:
            del self._waiting[tx_id]
        future.cancel()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()

    # ---- the stream ---------------------------------------------------------------------

    async def _follow(self) -> None:
        while True:
            try:
                await self._read_stream()
            except grpc.aio.AioRpcError as error:
                self._failure = translate(error)
            except GatewayError as error:
                self._failure = error
            log.info(
                "filtered block stream ended, reopening",
                peer=self.address,
                next_block=self._next_block,
                error=str(self._failure),
            )
            await asyncio.sleep(self._reconnect_delay_s)

    async def _read_stream(self) -> None:
        client = self._client
        call = client.deliver_stub.DeliverFiltered()
        try:
            envelope = seek_envelope(client.identity, client.channel_name, self._next_block)
            await call.write(envelope)
            await call.done_writing()
            async for response in call:
                self._receive(response)
        finally:
            call.cancel()
        raise LedgerUnavailable(None, "the peer ended the filtered block stream")

    def _receive(self, response: events_pb2.DeliverResponse) -> None:
        kind = response.WhichOneof("Type")
        if kind == "status":
            name = _STATUS_NAMES.get(response.status, str(response.status))
            raise LedgerUnavailable(None, f"filtered block stream ended with {name}")
        if kind != "filtered_block":
            return
        block = response.filtered_block
        self._next_block = block.number + 1
        self._failure = None
        for tx in block.filtered_transactions:
            future = self._waiting.pop(tx.txid, None)
            if future is not None and not future.done():
                code = validation_code_name(tx.tx_validation_code)
                future.set_result(CommitStatus(code, block.number))
        self._positioned.set()
