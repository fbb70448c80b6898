"""The caller's own profile, preferences and password."""

from fastapi import APIRouter, status

from producers.api.context import PrincipalDep, ServicesDep
from producers.api.models import PasswordChange, PreferencesPatch, Problem, Profile

router = APIRouter(prefix="/v1/me", tags=["me"])
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": Problem} for code in (401, 403, 422)}


@router.get("", responses=ERRORS)
async def me(principal: PrincipalDep, ctx: ServicesDep) -> Profile:
    return Profile(
        user_id=principal.user_id,
        username=principal.username,
        org=principal.org,
        role=principal.role,
        language=await ctx.database.language(principal.user_id),
        notifications_url=ctx.settings.notifications_url,
    )


@router.patch("/preferences", responses=ERRORS)
async def update_preferences(
    body: PreferencesPatch, principal: PrincipalDep, ctx: ServicesDep
) -> Profile:
    await ctx.database.set_language(principal.user_id, body.language)
    return await me(principal, ctx)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def change_password(body: PasswordChange, principal: PrincipalDep, ctx: ServicesDep) -> None:
    await ctx.accounts.change_password(
        principal.user_id, principal.username, body.current_password, body.new_password
    )
