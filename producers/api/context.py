"""What the routes share, built once in the lifespan: clients, settings, the caller."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from producers.api.accounts import Accounts
from producers.api.ledger_client import BlockchainApi
from producers.api.monitoring import Prometheus
from producers.api.rate_limits import CreateLimits
from producers.api.settings import ApiSettings
from producers.publisher import CommandPublisher
from read_model.idempotency import IdempotencyKeys
from read_model.notes import TransferNotes
from read_model.queries import ApplicationsDatabase
from read_model.reviews import Reviews
from service_runtime.errors import TokenError
from service_runtime.tokens import TokenValidator
from service_runtime.users import Principal, principal_from


@dataclass(frozen=True, slots=True)
class Services:
    settings: ApiSettings
    tokens: TokenValidator
    publisher: CommandPublisher
    database: ApplicationsDatabase
    idempotency: IdempotencyKeys
    notes: TransferNotes
    reviews: Reviews
    accounts: Accounts
    ledger: BlockchainApi
    create_limits: CreateLimits
    prometheus: Prometheus


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain function dependency in a worker thread.
    found: Services = request.app.state.services
    return found


_bearer = HTTPBearer(auto_error=False, description="An access token of the curex realm")


async def principal(
    ctx: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise TokenError("a bearer token is required")
    claims = await ctx.tokens.claims(credentials.credentials)
    return principal_from(claims, ctx.settings.pseudonym_key.encode())


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
