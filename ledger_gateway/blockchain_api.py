"""The Blockchain API: reads of one organisation's view of the ledger, for its clients.

Authorised by tokens of the ``curex-ledger`` realm; the organisation in the token must be
this instance's organisation.
"""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger_gateway.port import Ledger
from schemas import LedgerHistoryItem, Transfer
from service_runtime.errors import TokenError
from service_runtime.tokens import TokenValidator

_bearer = HTTPBearer(auto_error=False)


def blockchain_router(ledger: Ledger, tokens: TokenValidator, org: str) -> APIRouter:
    async def authorised(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        unauthorised = status.HTTP_401_UNAUTHORIZED
        if credentials is None:
            raise HTTPException(
                unauthorised, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            claims = await tokens.claims(credentials.credentials)
        except TokenError as error:
            raise HTTPException(
                unauthorised, str(error), headers={"WWW-Authenticate": "Bearer"}
            ) from error
        if claims.get("org") != org:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this is the Blockchain API of {org}")
        return org

    router = APIRouter(prefix="/v1/ledger", tags=["ledger"], dependencies=[Depends(authorised)])

    @router.get("/transfers/{transfer_id}")
    async def transfer(transfer_id: str) -> Transfer:
        found: Transfer | None = await ledger.transfer(transfer_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no transfer {transfer_id}")
        return found

    @router.get("/transfers/{transfer_id}/history")
    async def history(transfer_id: str) -> list[LedgerHistoryItem]:
        items = await ledger.history(transfer_id)
        if not items:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no transfer {transfer_id}")
        return items

    @router.get("/blocks/{number}")
    async def block(number: int) -> dict[str, Any]:
        found = await ledger.block(number)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no block {number}")
        return asdict(found)

    @router.get("/verify")
    async def verify() -> dict[str, Any]:
        return asdict(await ledger.verify())

    return router
