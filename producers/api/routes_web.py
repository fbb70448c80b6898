"""What the web applications need before anyone signs in: where and as whom to sign in."""

from fastapi import APIRouter

from producers.api.context import ServicesDep
from producers.api.models import WebConfig

router = APIRouter(prefix="/v1/web", tags=["web"])


@router.get("/config")
async def web_config(ctx: ServicesDep) -> WebConfig:
    """The OpenID Connect authority and public client the pages sign in with (PKCE)."""
    return WebConfig(authority=ctx.settings.web_authority, client_id=ctx.settings.web_client_id)
