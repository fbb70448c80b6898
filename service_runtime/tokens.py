"""Bearer-token validation against a Keycloak realm's JWKS (PyJWT's JWKS client).

Keys are cached for ``key_max_age_s`` (then the realm's key set is read again, so a
removed key stops being trusted) and fetched again when a token names an unknown ``kid``.
Only RS256 and ES256 are accepted, so ``alg: none`` and HMAC tokens signed with a public key fail.
Signature, ``exp``, ``nbf``, ``iss`` and the audience (``aud``) are checked; ``azp`` only
names the client that asked for the token, so it does not stand in for the audience.

Every refusal is a ``TokenError`` (``service_runtime.errors``) saying why.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient

from service_runtime.errors import TokenError

ALLOWED_ALGORITHMS = ("RS256", "ES256")
_VERIFIED_TOKENS = 4096  # the most recently verified tokens kept


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
        self,
        issuer: Issuer,
        leeway_s: float = 5.0,
        refetch_cooldown_s: float = 30.0,
        key_max_age_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._leeway = leeway_s
        self._key_max_age_s = key_max_age_s
        self._clock = clock
        # The cooldown bounds how often tokens with made-up kids can make us refetch; the
        # key set is read again after key_max_age_s, so a key the realm removed stops
        # being trusted then.
        self._jwks = PyJWKClient(
            issuer.jwks_url,
            cache_keys=False,
            lifespan=key_max_age_s,
            timeout=5,
            cooldown_duration=refetch_cooldown_s,
        )
        self._keys: dict[str, tuple[PyJWK, float]] = {}
        self._verified: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``, or TokenError saying why not."""
        verified = self._verified.get(token)
        if verified is not None:
            claims, valid_until = verified
            if self._clock() < valid_until:
                return claims
            del self._verified[token]
        claims = await self._verify(token)
        # A client sends the same token with every request until it expires: check its
        # signature once. Never past the token's own expiry or the keys' maximum age.
        expires_in = float(claims["exp"]) - time.time()
        self._verified[token] = (
            claims,
            self._clock() + max(0.0, min(expires_in, self._key_max_age_s)),
        )
        while len(self._verified) > _VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenError(f"malformed token: {error}") from error
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise TokenError(f"algorithm {header.get('alg')!r} is not accepted")
        key = await self._signing_key(token, str(header.get("kid")))
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

    async def _signing_key(self, token: str, kid: str) -> PyJWK:
        known = self._keys.get(kid)
        if known is not None and self._clock() - known[1] < self._key_max_age_s:
            return known[0]  # no thread hop and no I/O for the common case
        try:
            # A JWKS fetch is blocking I/O: keep it off the event loop.
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as error:
            self._keys.pop(kid, None)
            raise TokenError(f"no signing key for this token: {error}") from error
        self._keys[kid] = (key, self._clock())
        return key

    def _check_audience(self, claims: dict[str, Any]) -> None:
        audience = claims.get("aud", [])
        audiences = {audience} if isinstance(audience, str) else set(audience or [])
        if self._issuer.audience not in audiences:
            raise TokenError(f"token is not meant for {self._issuer.audience}")
