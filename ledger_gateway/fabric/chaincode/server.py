"""Chaincode as a service: the server the peer opens ``Chaincode.Connect`` to, start to stop.

One event loop (uvloop's) in one thread does everything: grpclib (gRPC over the pure-Python
h2 HTTP/2 stack) reads and writes the streams, and the chaincode (synchronous code) runs in
the loop between messages. grpcio is not used here: its C core moves every message between its own
threads and the Python loop's, and those thread switches cost several times more CPU per
transaction than the contract itself.
"""

import asyncio
import socket
import threading
import weakref

import uvloop
from fabric_protos.peer import chaincode_shim_pb2
from grpclib.const import Cardinality, Handler
from grpclib.health.service import Health
from grpclib.protocol import H2Protocol
from grpclib.server import Server, Stream

from ledger_gateway.fabric.chaincode.replay import Chaincode
from ledger_gateway.fabric.chaincode.session import Session

ChaincodeMessage = chaincode_shim_pb2.ChaincodeMessage

SERVICE = "protos.Chaincode"
CONNECT = f"/{SERVICE}/Connect"


class ChaincodeService:
    """The ``protos.Chaincode`` service the peer connects to (a grpclib handler)."""

    def __init__(
        self, chaincode_id: str, chaincode: Chaincode, request_timeout_s: float = 30.0
    ) -> None:
        self._chaincode_id = chaincode_id
        self._chaincode = chaincode
        self._request_timeout_s = request_timeout_s

    def __mapping__(self) -> dict[str, Handler]:
        return {
            CONNECT: Handler(
                self.connect, Cardinality.STREAM_STREAM, ChaincodeMessage, ChaincodeMessage
            )
        }

    async def connect(self, stream: "Stream[ChaincodeMessage, ChaincodeMessage]") -> None:
        session = Session(self._chaincode_id, self._chaincode, self._request_timeout_s)
        writer = asyncio.create_task(session.write(stream))
        try:
            await session.read(stream)
        finally:
            # However the RPC ends (the peer goes away, the server stops), the session closes.
            session.close()
            writer.cancel()


class _Server(Server):
    """grpclib's server, which also closes its connections when it stops. Beside the
    chaincode it serves the gRPC health protocol, so a probe tests that this server answers
    gRPC on the loop that serves the peer's streams, not only that its port is open."""

    def __init__(self, service: ChaincodeService) -> None:
        super().__init__([service, Health({service: []})])
        self._protocols: weakref.WeakSet[H2Protocol] = weakref.WeakSet()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        self._protocols.add(protocol)
        return protocol

    def close_connections(self) -> None:
        for protocol in list(self._protocols):
            if hasattr(protocol, "connection"):  # set once the connection is made
                protocol.connection.close()


class ChaincodeServer:
    """A started server, with its own event loop in its own thread."""

    def __init__(self, host: str, port: int, chaincode_id: str, chaincode: Chaincode) -> None:
        listener = _listen(host, port)
        self.port: int = listener.getsockname()[1]
        self._loop = uvloop.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="chaincode-server", daemon=True
        )
        self._thread.start()
        try:
            self._server = asyncio.run_coroutine_threadsafe(
                self._start(listener, ChaincodeService(chaincode_id, chaincode)), self._loop
            ).result()
        except BaseException:
            listener.close()
            self._halt()
            raise

    @staticmethod
    async def _start(listener: socket.socket, service: ChaincodeService) -> _Server:
        server = _Server(service)  # in the loop: grpclib binds to the running loop
        await server.start(sock=listener)
        return server

    def stop(self, grace_s: float) -> None:
        """Ends the streams (failing every request still waiting), lets the transactions
        finish for up to ``grace_s`` seconds, and stops the loop."""
        asyncio.run_coroutine_threadsafe(self._stop(grace_s), self._loop).result()
        self._halt()

    async def _stop(self, grace_s: float) -> None:
        self._server.close()
        self._server.close_connections()
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=grace_s)

    def _halt(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Its protocol is set explicitly: grpclib turns Nagle off
    (TCP_NODELAY) only on sockets that say they are TCP, and with Nagle on, every answer
    after a small write waits for a delayed ACK (40 ms)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(100)
    except OSError:
        listener.close()
        raise
    return listener


def start_server(address: str, chaincode_id: str, chaincode: Chaincode) -> ChaincodeServer:
    """A started plaintext server on ``host:port`` (port 0 picks one: see ``.port``)."""
    host, _, port = address.rpartition(":")
    return ChaincodeServer(host, int(port), chaincode_id, chaincode)
