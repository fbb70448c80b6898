"""The Blockchain API: reads of one organisation's view of the ledger, for its clients.

Authorised by tokens of the ``curex-ledger`` realm; the organisation in the token must be
this instance's organisation.
"""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime

from ledger_gateway.port import Ledger
from schemas import LedgerHistoryItem, SafeguardAudit, Transfer, utc_now
from schemas.envelope import OrgId
from schemas.safeguards import SafeguardCode
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

    @router.get("/orgs/{org_id}/safeguards")
    async def safeguards(
        org_id: Annotated[OrgId, Path(description="the audited organisation")],
        at: Annotated[
            AwareDatetime | None,
            Query(description="ISO 8601 with a UTC offset; default: now"),
        ] = None,
        safeguard: Annotated[
            SafeguardCode | None, Query(description="only this safeguard's status")
        ] = None,
    ) -> SafeguardAudit:
        """What the organisation had declared at ``at`` (by the recording transactions' time,
        not the tool's), and the transfers it took part in since."""
        audit = await ledger.safeguard_audit(org_id, at or utc_now())
        if safeguard is None or audit.declaration is None:
            return audit
        declared = audit.declaration
        only = tuple(s for s in declared.safeguards if s.code == safeguard)
        return audit.model_copy(
            update={"declaration": declared.model_copy(update={"safeguards": only})}
        )

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
