"""Domain and auth errors mapped to HTTP answers, at the edge only."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from producers.auth.principal import NotAUser
from producers.auth.tokens import TokenError
from producers.authorization import AccessDenied, ActionNotAllowedNow


class TransferNotFound(Exception):
    pass


class BadRequest(Exception):
    """A body that parses but cannot be acted on (422)."""


def _problem(status: int, detail: str, **extra: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def unauthorised(_: Request, error: Exception) -> JSONResponse:
        return _problem(401, str(error) or "authentication required")

    async def forbidden(_: Request, error: Exception) -> JSONResponse:
        return _problem(403, str(error))

    async def not_found(_: Request, error: Exception) -> JSONResponse:
        return _problem(404, str(error))

    async def conflict(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ActionNotAllowedNow)
        return _problem(409, str(error), current_state=error.current_state.value)

    async def unprocessable(_: Request, error: Exception) -> JSONResponse:
        return _problem(422, str(error))

    app.add_exception_handler(TokenError, unauthorised)
    app.add_exception_handler(NotAUser, unauthorised)
    app.add_exception_handler(AccessDenied, forbidden)
    app.add_exception_handler(TransferNotFound, not_found)
    app.add_exception_handler(ActionNotAllowedNow, conflict)
    app.add_exception_handler(BadRequest, unprocessable)
