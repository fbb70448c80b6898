"""WS /v1/notifications: live, authorised changes to the caller's transfers.

Protocol: the client's first frame is ``{"type": "auth", "token": "<JWT>"}`` within 5 s,
else the server closes with 4401. Then one ``transfer.updated`` frame per committed
change; ``{"type": "resume", "after": "<tx_id>"}`` replays what was missed, followed by
``{"type": "resume.completed"}``.
"""

import asyncio
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from notifier.hub import Subscriber, replay_frames
from producers.api.context import Services
from producers.auth.principal import NotAUser, Principal, principal_from
from producers.auth.tokens import TokenError

router = APIRouter()
AUTH_TIMEOUT_S = 5.0
UNAUTHORISED = 4401


async def _authenticate(socket: WebSocket, ctx: Services) -> Principal | None:
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
        claims = await ctx.tokens.claims(token)
        return principal_from(claims, ctx.settings.pseudonym_key.encode())
    except (TokenError, NotAUser):
        return None


@router.websocket("/v1/notifications")
async def notifications(socket: WebSocket) -> None:
    ctx: Services = socket.app.state.services
    await socket.accept()
    try:
        principal = await _authenticate(socket, ctx)
    except WebSocketDisconnect:
        return
    if principal is None:
        await socket.close(code=UNAUTHORISED, reason="authenticate within 5 s with a valid token")
        return
    subscriber = Subscriber(principal, socket, await ctx.database.language(principal.user_id))
    ctx.notifications.add(subscriber)
    try:
        await subscriber.send({"type": "auth.ok", "user_id": principal.user_id})
        while True:
            frame: Any = await socket.receive_json()
            if isinstance(frame, dict) and frame.get("type") == "resume":
                after = frame.get("after")
                transfers = await ctx.database.transfers_for(
                    principal.role,
                    principal.org,
                    principal.patient_pseudonym,
                    ctx.settings.list_limit,
                )
                for update in replay_frames(
                    [(t.transfer_id, t.history) for t in transfers],
                    after if isinstance(after, str) else None,
                    subscriber.language,
                ):
                    await subscriber.send(update)
                await subscriber.send({"type": "resume.completed"})
    except (WebSocketDisconnect, ValueError, KeyError):
        pass
    finally:
        ctx.notifications.remove(subscriber)
