"""WS /v1/notifications: live, authorised changes to the caller's transfers.

Protocol: the client's first frame is ``{"type": "auth", "token": "<JWT>"}`` within 5 s,
else the server closes with 4401. Then one ``transfer.updated`` frame per committed
change; ``{"type": "resume", "after": "<tx_id>"}`` replays what was missed, followed by
``{"type": "resume.completed"}``.

The hosting app puts a ``NotifierContext`` at ``app.state.notifier``.
"""

import asyncio
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


async def _authenticate(socket: WebSocket, ctx: NotifierContext) -> Principal | None:
    try:
        first: Any = await asyncio.wait_for(socket.receive_json(), timeout=AUTH_TIMEOUT_S)
    except (TimeoutError, ValueError, KeyError):
        return None
    if not isinstance(first, dict) or first.get("type") != "auth":
        return None
    token = first.get("token")
    if not isinstance(token, str):
        return None
    try:
        return principal_from(await ctx.tokens.claims(token), ctx.pseudonym_key)
    except TokenError:
        return None


@router.websocket("/v1/notifications")
async def notifications(socket: WebSocket) -> None:
    ctx: NotifierContext = socket.app.state.notifier
    await socket.accept()
    try:
        principal = await _authenticate(socket, ctx)
    except WebSocketDisconnect:
        return
    if principal is None:
        await socket.close(code=UNAUTHORISED, reason="authenticate within 5 s with a valid token")
        return
    subscriber = Subscriber(principal.actor, socket, await ctx.database.language(principal.user_id))
    ctx.hub.add(subscriber)
    try:
        await subscriber.send({"type": "auth.ok", "user_id": principal.user_id})
        while True:
            frame: Any = await socket.receive_json()
            if isinstance(frame, dict) and frame.get("type") == "resume":
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
