"""Bearer-token validation against a Keycloak realm's JWKS (PyJWT's JWKS client).

Keys are cached and fetched again when a token names an unknown ``kid``. Only RS256 and
ES256 are accepted, so ``alg: none`` and HMAC tokens signed with a public key fail.
Signature, ``exp``, ``nbf``, ``iss`` and the audience (``aud``) are checked; ``azp`` only
names the client that asked for the token, so it does not stand in for the audience.

Every refusal is a ``TokenError`` (``service_runtime.errors``) saying why.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWKClient

from service_runtime.errors import TokenError

ALLOWED_ALGORITHMS = ("RS256", "ES256")


@dataclass(frozen=True, slots=True)
class Issuer:
    """A realm whose tokens a service accepts, and the audience they must name."""

    issuer: str  # e.g. http://127.0.0.1:8180/realms/curex
    audience: str

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"


class TokenValidator:
    def __init__(
        self, issuer: Issuer, leeway_s: float = 5.0, refetch_cooldown_s: float = 30.0
    ) -> None:
        self._issuer = issuer
        self._leeway = leeway_s
        # The cooldown bounds how often tokens with made-up kids can make us refetch.
        self._jwks = PyJWKClient(
            issuer.jwks_url,
            cache_keys=True,
            lifespan=3600,
            timeout=5,
            cooldown_duration=refetch_cooldown_s,
        )

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``, or TokenError saying why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenError(f"malformed token: {error}") from error
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise TokenError(f"algorithm {header.get('alg')!r} is not accepted")
        try:
            # A JWKS fetch is blocking I/O: keep it off the event loop.
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as error:
            raise TokenError(f"no signing key for this token: {error}") from error
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(ALLOWED_ALGORITHMS),
                issuer=self._issuer.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise TokenError(f"invalid token: {error}") from error
        self._check_audience(claims)
        return claims

    def _check_audience(self, claims: dict[str, Any]) -> None:
        audience = claims.get("aud", [])
        audiences = {audience} if isinstance(audience, str) else set(audience or [])
        if self._issuer.audience not in audiences:
            raise TokenError(f"token is not meant for {self._issuer.audience}")
