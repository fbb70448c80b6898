"""What the routes share, built once in the lifespan: clients, settings, the caller."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.hub import NotificationHub
from producers.api.accounts import Accounts
from producers.api.ledger_client import BlockchainApi
from producers.api.settings import ApiSettings
from producers.auth.principal import Principal, principal_from
from producers.auth.tokens import TokenError, TokenValidator
from producers.publisher import CommandPublisher
from producers.read_model import ApplicationsDatabase


@dataclass(frozen=True, slots=True)
class Services:
    settings: ApiSettings
    tokens: TokenValidator
    publisher: CommandPublisher
    database: ApplicationsDatabase
    accounts: Accounts
    notifications: NotificationHub
    ledger: BlockchainApi


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


_bearer = HTTPBearer(auto_error=False, description="An access token of the curex realm")


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise TokenError("a bearer token is required")
    ctx = services(request)
    claims = await ctx.tokens.claims(credentials.credentials)
    return principal_from(claims, ctx.settings.pseudonym_key.encode())


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
