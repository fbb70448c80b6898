"""Domain and auth errors mapped to HTTP problem answers, at the edge only.

A service the server depends on being down (Kafka, Keycloak, the Applications Database) is a 503
naming that service, never a bare 500 and never a 401 blaming the caller's token.
"""

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jwt import PyJWKClientConnectionError
from keycloak.exceptions import KeycloakError
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from producers.errors import (
    AccessDenied,
    ActionNotAllowedNow,
    BadRequest,
    LedgerRecordMissing,
    LedgerUnavailable,
    RateLimited,
    ReviewDecided,
    TransferNotFound,
)
from service_runtime.errors import TokenError

IDENTITY_SERVICE = "the identity service (Keycloak)"
# Failures of these reach the edge only when the service is down or broken, never
# because of what the caller sent: the adapters translate the caller's own mistakes.
UNAVAILABLE_SERVICES: tuple[tuple[type[Exception], str], ...] = (
    (KafkaError, "the event bus (Kafka)"),
    (KeycloakError, IDENTITY_SERVICE),
    (OperationalError, "the applications database"),
    (PoolTimeout, "the applications database"),
)
RETRY_AFTER_S = 5


_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": str(RETRY_AFTER_S)}}


def _problem(status: int, detail: str, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, **extra}, status_code=status, headers=_HEADERS.get(status)
    )


def _unavailable(service: str, error: BaseException) -> JSONResponse:
    return _problem(503, f"{service} is unavailable ({type(error).__name__}); try again later")


def install_error_handlers(app: FastAPI) -> None:
    async def unauthorised(_: Request, error: Exception) -> JSONResponse:
        if isinstance(error.__cause__, PyJWKClientConnectionError):
            # The realm's signing keys could not be fetched: the token may well be good.
            return _unavailable(IDENTITY_SERVICE, error.__cause__)
        return _problem(401, str(error) or "authentication required")

    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        service = next(name for kind, name in UNAVAILABLE_SERVICES if isinstance(error, kind))
        return _unavailable(service, error)

    async def forbidden(_: Request, error: Exception) -> JSONResponse:
        return _problem(403, str(error))

    async def not_found(_: Request, error: Exception) -> JSONResponse:
        return _problem(404, str(error))

    async def conflict(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ActionNotAllowedNow)
        return _problem(409, str(error), current_state=error.current_state.value)

    async def decided(_: Request, error: Exception) -> JSONResponse:
        return _problem(409, str(error))

    async def unprocessable(_: Request, error: Exception) -> JSONResponse:
        return _problem(422, str(error))

    async def ledger_unavailable(_: Request, error: Exception) -> JSONResponse:
        return _problem(503, str(error))

    async def too_many(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RateLimited)
        return JSONResponse(
            {"detail": str(error)},
            status_code=429,
            headers={"Retry-After": str(error.retry_after_s)},
        )

    app.add_exception_handler(RateLimited, too_many)
    app.add_exception_handler(TokenError, unauthorised)
    app.add_exception_handler(AccessDenied, forbidden)
    app.add_exception_handler(TransferNotFound, not_found)
    app.add_exception_handler(LedgerRecordMissing, not_found)
    app.add_exception_handler(LedgerUnavailable, ledger_unavailable)
    app.add_exception_handler(ActionNotAllowedNow, conflict)
    app.add_exception_handler(ReviewDecided, decided)
    app.add_exception_handler(BadRequest, unprocessable)
    for kind, _ in UNAVAILABLE_SERVICES:
        app.add_exception_handler(kind, unavailable)
