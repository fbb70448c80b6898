"""WS /v1/notifications: live, authorised changes to the caller's transfers.

Protocol: the client's first frame is ``{"type": "auth", "token": "<JWT>"}`` within 5 s,
else the server closes with 4401. Then one ``transfer.updated`` frame per committed
change; ``{"type": "resume", "after": "<tx_id>"}`` replays what was missed from the inbox,
followed by ``{"type": "resume.completed", "more": <bool>}`` (``more``: the replay stopped
at its limit; resume again after its last frame). The token is honoured until it expires:
a fresh ``auth`` frame for the same user extends the connection, else it is closed with
4401. A client that does not keep up with its frames is closed with 1013.
"""

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from psycopg_pool import PoolTimeout

from notifier.connections import TRY_AGAIN_LATER, Connection, Hub, SlowClient
from notifier.frames import FrameCache, encode
from notifier.inbox import InboxStore
from notifier.metrics import DROPS
from notifier.recipients import inbox_of
from read_model.queries import ApplicationsDatabase
from schemas import DEFAULT_LANGUAGE, Language
from service_runtime.errors import TokenError
from service_runtime.tokens import TokenValidator
from service_runtime.users import Principal, principal_from

log = structlog.get_logger()
router = APIRouter()
AUTH_TIMEOUT_S = 5.0
UNAUTHORISED = 4401
_REPLAY_PAGE = 500
_HOLD_S = 0.5


@dataclass(frozen=True, slots=True)
class NotifierContext:
    hub: Hub
    store: InboxStore
    tokens: TokenValidator
    database: ApplicationsDatabase
    pseudonym_key: bytes
    replay_limit: int
    send_queue: int
    send_timeout_s: float
    close_timeout_s: float


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    expires_at: float  # epoch seconds: the token's exp


async def _session_from(frame: Any, ctx: NotifierContext) -> Session | None:
    """The session an ``auth`` frame opens, or None if it is not a valid one."""
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        return None
    token = frame.get("token")
    if not isinstance(token, str):
        return None
    try:
        claims = await ctx.tokens.claims(token)
        return Session(principal_from(claims, ctx.pseudonym_key), float(claims["exp"]))
    except TokenError:
        return None


async def _authenticate(socket: WebSocket, ctx: NotifierContext) -> Session | None:
    try:
        first: Any = await asyncio.wait_for(socket.receive_json(), timeout=AUTH_TIMEOUT_S)
    except (TimeoutError, ValueError, KeyError):
        return None
    return await _session_from(first, ctx)


async def _close(socket: WebSocket, code: int, reason: str, within_s: float) -> None:
    # The close frame queues behind what the client has not read yet; a client that never
    # reads again never gets it, and the connection is dropped after ``within_s``.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(socket.close(code=code, reason=reason), within_s)


@router.websocket("/v1/notifications")
async def notifications(socket: WebSocket) -> None:
    ctx: NotifierContext = socket.app.state.notifier
    await socket.accept()
    try:
        session = await _authenticate(socket, ctx)
    except WebSocketDisconnect:
        return
    if session is None:
        DROPS.labels("unauthorised").inc()
        await _close(
            socket, UNAUTHORISED, "authenticate within 5 s with a valid token", ctx.close_timeout_s
        )
        return
    principal = session.principal
    connection = Connection(
        socket,
        inbox_of(principal),
        await _language(ctx, principal.user_id),
        ctx.send_queue,
        ctx.send_timeout_s,
    )
    ctx.hub.add(connection)
    connection.control(encode({"type": "auth.ok", "user_id": principal.user_id}))
    # A reconnecting client sends resume right after auth: until then live changes wait.
    release = asyncio.get_running_loop().call_later(_HOLD_S, _release_unless_resumed, connection)
    pump = asyncio.create_task(connection.pump())
    listen = asyncio.create_task(_listen(connection, session, ctx))
    try:
        await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
        close_code = listen.result() if listen.done() else None
        if pump.done() and close_code is None:
            slow = connection.overflowed.is_set() or isinstance(pump.exception(), SlowClient)
            close_code = TRY_AGAIN_LATER if slow else None
        for task in (pump, listen):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if close_code == TRY_AGAIN_LATER:
            DROPS.labels("slow_client").inc()
            await _close(
                socket,
                TRY_AGAIN_LATER,
                "the client is not reading fast enough",
                ctx.close_timeout_s,
            )
        elif close_code == UNAUTHORISED:
            DROPS.labels("unauthorised").inc()
            await _close(
                socket,
                UNAUTHORISED,
                "the token expired or is not valid for you",
                ctx.close_timeout_s,
            )
    finally:
        release.cancel()
        ctx.hub.remove(connection)


async def _language(ctx: NotifierContext, user_id: str) -> Language:
    """The user's language; the default while the database cannot be asked."""
    try:
        return await ctx.database.language(user_id)
    except (psycopg.OperationalError, PoolTimeout):
        return DEFAULT_LANGUAGE


def _release_unless_resumed(connection: Connection) -> None:
    if not connection.resumed:
        connection.release()


async def _listen(connection: Connection, session: Session, ctx: NotifierContext) -> int | None:
    """Reads the client's frames until it leaves (None) or must be closed (the code)."""
    socket = connection.socket
    user_id = session.principal.user_id
    try:
        while True:
            try:
                frame: Any = await asyncio.wait_for(
                    socket.receive_json(), timeout=max(0.0, session.expires_at - time.time())
                )
            except TimeoutError:
                log.debug("token expired")
                return UNAUTHORISED
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "auth":
                renewed = await _session_from(frame, ctx)
                if renewed is None or renewed.principal.user_id != user_id:
                    return UNAUTHORISED
                session = renewed
                connection.language = await _language(ctx, user_id)
                connection.control(encode({"type": "auth.ok", "user_id": user_id}))
            elif kind == "resume":
                connection.resumed = True
                after = frame.get("after")
                more = await _resume(connection, after if isinstance(after, str) else None, ctx)
                connection.control(encode({"type": "resume.completed", "more": more}))
    except (WebSocketDisconnect, ValueError, KeyError, RuntimeError) as error:
        log.debug("client gone", error=type(error).__name__)
        return None
    except SlowClient:
        return TRY_AGAIN_LATER


async def _resume(connection: Connection, after_tx: str | None, ctx: NotifierContext) -> bool:
    """Replays the inbox after ``after_tx`` (the newest ``replay_limit`` changes when it is
    unknown) while live changes are held, then releases those the replay did not cover;
    True when the limit cut the replay short."""
    inbox = connection.inbox
    if inbox is None:
        connection.release()
        return False
    connection.hold()
    try:
        start = None if after_tx is None else await ctx.store.seq_of(inbox, after_tx)
        if start is None:
            start = await ctx.store.before_newest(inbox, ctx.replay_limit)
        cursor, budget = start, ctx.replay_limit
        while budget > 0:
            wanted = min(_REPLAY_PAGE, budget)
            page = await ctx.store.after(inbox, cursor, wanted)
            for entry in page:
                await connection.replayed(entry.seq, FrameCache(entry))
                cursor = entry.seq
            budget -= len(page)
            if len(page) < wanted:
                # Rows committed after this query reach the feed, hence the held list.
                connection.floor = max(connection.floor, cursor)
                return False
        connection.floor = max(connection.floor, cursor)
        return True
    finally:
        connection.release()
