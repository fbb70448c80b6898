"""WS /v1/notifications: live, authorised changes to the caller's transfers.

Protocol: the client's first frame is ``{"type": "auth", "token": "<JWT>"}`` within 5 s,
else the server closes with 4401. Then one ``transfer.updated`` frame per committed
change; ``{"type": "resume", "after": "<tx_id>"}`` replays what was missed, followed by
``{"type": "resume.completed"}``. The token is honoured until it expires: a fresh
``auth`` frame for the same user extends the connection, else it is closed with 4401.

The hosting app puts a ``NotifierContext`` at ``app.state.notifier``.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from notifier.frames import replay_frames
from notifier.hub import NotificationHub, Subscriber
from read_model.queries import ApplicationsDatabase, Viewer
from service_runtime.errors import TokenError
from service_runtime.tokens import TokenValidator
from service_runtime.users import Principal, principal_from

router = APIRouter()
AUTH_TIMEOUT_S = 5.0
UNAUTHORISED = 4401


@dataclass(frozen=True, slots=True)
class NotifierContext:
    hub: NotificationHub
    tokens: TokenValidator
    database: ApplicationsDatabase
    pseudonym_key: bytes
    replay_limit: int


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


@router.websocket("/v1/notifications")
async def notifications(socket: WebSocket) -> None:
    ctx: NotifierContext = socket.app.state.notifier
    await socket.accept()
    try:
        session = await _authenticate(socket, ctx)
    except WebSocketDisconnect:
        return
    if session is None:
        await socket.close(code=UNAUTHORISED, reason="authenticate within 5 s with a valid token")
        return
    principal = session.principal
    subscriber = Subscriber(principal.actor, socket, await ctx.database.language(principal.user_id))
    ctx.hub.add(subscriber)
    try:
        await subscriber.send({"type": "auth.ok", "user_id": principal.user_id})
        while True:
            try:
                frame: Any = await asyncio.wait_for(
                    socket.receive_json(), timeout=max(0.0, session.expires_at - time.time())
                )
            except TimeoutError:
                await socket.close(code=UNAUTHORISED, reason="the token expired")
                return
            if isinstance(frame, dict) and frame.get("type") == "auth":
                renewed = await _session_from(frame, ctx)
                if renewed is None or renewed.principal.user_id != principal.user_id:
                    await socket.close(code=UNAUTHORISED, reason="not a valid token for you")
                    return
                session = renewed
                await subscriber.send({"type": "auth.ok", "user_id": principal.user_id})
            elif isinstance(frame, dict) and frame.get("type") == "resume":
                after = frame.get("after")
                page = await ctx.database.page(
                    Viewer(principal.role, principal.org, principal.patient_pseudonym),
                    ctx.replay_limit,
                )
                histories = await ctx.database.history_of([t.transfer_id for t in page.items])
                for update in replay_frames(
                    list(histories.items()),
                    after if isinstance(after, str) else None,
                    subscriber.language,
                ):
                    await subscriber.send(update)
                await subscriber.send({"type": "resume.completed"})
    except (WebSocketDisconnect, ValueError, KeyError):
        pass
    finally:
        ctx.hub.remove(subscriber)
