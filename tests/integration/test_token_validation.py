"""TokenValidator against a JWKS it fetches over HTTP: every forged token gets a reason.

The signing keys here are the test's own, served on 127.0.0.1, so each attack can be
built exactly (expired, not yet valid, wrong issuer...). The same attacks against real
Keycloak tokens run end to end in tests/e2e/test_jwt_attacks.py.
"""

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from service_runtime.errors import TokenError
from service_runtime.tokens import Issuer, TokenValidator

pytestmark = pytest.mark.integration
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
LATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class JwksServer:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = [
            {
                **json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())),
                "kid": "rsa-1",
                "alg": "RS256",
                "use": "sig",
            },
            {
                **json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())),
                "kid": "ec-1",
                "alg": "ES256",
                "use": "sig",
            },
        ]
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/realms/test"

    def __enter__(self) -> "JwksServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


@pytest.fixture
def validator(jwks: JwksServer) -> TokenValidator:
    return TokenValidator(
        Issuer(jwks.base, "applications-server"), leeway_s=0, refetch_cooldown_s=0
    )


def claims(jwks: JwksServer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": jwks.base,
        "sub": "user-1",
        "aud": "applications-server",
        "iat": now,
        "exp": now + 300,
        "azp": "curex-web",
        **overrides,
    }


def sign(
    payload: dict[str, Any], key: Any = RSA_KEY, alg: str = "RS256", kid: str = "rsa-1"
) -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


async def test_a_valid_rs256_and_es256_token_is_accepted(
    jwks: JwksServer, validator: TokenValidator
) -> None:
    assert (await validator.claims(sign(claims(jwks))))["sub"] == "user-1"
    es = sign(claims(jwks), EC_KEY, "ES256", "ec-1")
    assert (await validator.claims(es))["sub"] == "user-1"


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'rsa-1'})}.{part(payload)}."


def hs256_with_public_key(payload: dict[str, Any]) -> str:
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(payload).encode())}"
    import hashlib
    import hmac

    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def tampered(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


ATTACKS = {
    "alg none": lambda j: unsigned(claims(j)),
    "HS256 signed with the public key": lambda j: hs256_with_public_key(claims(j)),
    "expired": lambda j: sign(claims(j, exp=int(time.time()) - 60, iat=int(time.time()) - 400)),
    "not yet valid": lambda j: sign(claims(j, nbf=int(time.time()) + 120)),
    "wrong issuer": lambda j: sign(claims(j, iss=j.base + "-other")),
    "wrong audience": lambda j: sign(claims(j, aud="blockchain-api", azp="ledger-se-ki")),
    "tampered payload": lambda j: tampered(sign(claims(j)), sub="someone-else"),
    "unknown kid": lambda j: sign(claims(j), LATE_KEY, "RS256", "never-published"),
    "no expiry": lambda j: sign({k: v for k, v in claims(j).items() if k != "exp"}),
    "garbage": lambda j: "not.a.jwt",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_forged_or_foreign_token_is_refused(
    jwks: JwksServer, validator: TokenValidator, attack: str
) -> None:
    with pytest.raises(TokenError):
        await validator.claims(ATTACKS[attack](jwks))


async def test_an_unknown_kid_makes_the_validator_refetch_the_keys(
    jwks: JwksServer, validator: TokenValidator
) -> None:
    await validator.claims(sign(claims(jwks)))
    rotated = {
        **json.loads(RSAAlgorithm.to_jwk(LATE_KEY.public_key())),
        "kid": "rsa-2",
        "alg": "RS256",
        "use": "sig",
    }
    jwks.keys.append(rotated)
    fetches = jwks.fetches
    try:
        result = await validator.claims(sign(claims(jwks), LATE_KEY, "RS256", "rsa-2"))
    finally:
        jwks.keys.remove(rotated)
    assert result["sub"] == "user-1"
    assert jwks.fetches == fetches + 1


async def test_a_key_removed_from_the_realm_is_refused_within_the_key_lifetime(
    jwks: JwksServer,
) -> None:
    lifetime_s = 1.0
    validator = TokenValidator(
        Issuer(jwks.base, "applications-server"), leeway_s=0, key_max_age_s=lifetime_s
    )
    await validator.claims(sign(claims(jwks)))
    removed = jwks.keys[0]
    jwks.keys.remove(removed)
    try:
        started = time.monotonic()
        deadline = started + lifetime_s + 2
        while True:
            try:
                # A fresh token each time: the key, not a verified token, is what is cached.
                await validator.claims(sign(claims(jwks, jti=str(time.monotonic()))))
            except TokenError:
                break
            assert time.monotonic() < deadline, "a removed key was still trusted"
            await asyncio.sleep(0.05)  # the interval of a deadline-bounded poll
    finally:
        jwks.keys.insert(0, removed)
    assert time.monotonic() - started <= lifetime_s + 1


async def test_made_up_kids_refetch_the_keys_at_most_once_per_cooldown(jwks: JwksServer) -> None:
    validator = TokenValidator(
        Issuer(jwks.base, "applications-server"), leeway_s=0, refetch_cooldown_s=60
    )
    await validator.claims(sign(claims(jwks)))
    fetches = jwks.fetches
    for n in range(20):
        with pytest.raises(TokenError):
            await validator.claims(sign(claims(jwks), kid=f"made-up-{n}"))
    assert jwks.fetches - fetches <= 1
