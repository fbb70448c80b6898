"""JWT attacks against the running Applications Server and Blockchain API: each gets 401.

Where Keycloak can issue the offending token it is real: the payloads of ``alg: none``,
the HS256 and the tampered token are a real doctor's; wrong issuer is a real token of
the ``curex-ledger`` realm (so also the cross-realm case); wrong audience is the real
service-account token of the ``applications-server`` client (``aud: realm-management``).
Keycloak can't be made to issue an expired or not-yet-valid token on demand, so those
two are forged with correct claims and the realm's ``kid`` but a key of our own: the
signature check refuses them before ``exp``/``nbf`` are looked at. The precise
``exp``/``nbf`` checks are pinned against keys of our own in
tests/integration/test_token_validation.py.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.secrets import client_secret
from infra.settings import InfraSettings
from tests.e2e.rest import API, KEYCLOAK, LEDGER_GATEWAYS, client_token, user_token

pytestmark = pytest.mark.integration

ES_SERMAS_LEDGER = LEDGER_GATEWAYS["ES-SERMAS"]
OWN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
USER_ROUTES = ("/v1/me", "/v1/transfers")
# Verifying the whole chain reads every block: give it time on a long-lived ledger.
VERIFY_TIMEOUT_S = 300


@dataclass(frozen=True)
class Material:
    """Real tokens and the curex realm's published key, the raw stuff of the attacks."""

    doctor: str  # doctor.ki, realm curex
    ledger_es_sermas: str  # realm curex-ledger, org ES-SERMAS
    ledger_se_ki: str  # realm curex-ledger, org SE-KI
    service_account: str  # realm curex, client applications-server
    realm_kid: str
    realm_key_der: bytes  # SubjectPublicKeyInfo, as the realm endpoint publishes it

    @property
    def realm_key_pem(self) -> bytes:
        body = base64.encodebytes(self.realm_key_der).decode().replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join(
            ["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----\n"]
        ).encode()


@pytest.fixture(scope="module")
async def material(stack: InfraSettings) -> Material:
    async with httpx.AsyncClient(base_url=f"{KEYCLOAK}/realms/curex", timeout=30) as http:
        realm = (await http.get("")).json()
        certs = (await http.get("/protocol/openid-connect/certs")).json()
    [signing] = [k for k in certs["keys"] if k.get("use") == "sig" and k["alg"] == "RS256"]
    return Material(
        doctor=await user_token("doctor.ki"),
        ledger_es_sermas=await client_token(
            "ledger-es-sermas", client_secret(stack, "ledger-es-sermas")
        ),
        ledger_se_ki=await client_token("ledger-se-ki", client_secret(stack, "ledger-se-ki")),
        service_account=await client_token(
            "applications-server", client_secret(stack, "applications-server"), realm="curex"
        ),
        realm_kid=signing["kid"],
        realm_key_der=base64.b64decode(realm["public_key"]),
    )


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part_of(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def unsigned(m: Material) -> str:
    header = {**part_of(m.doctor, 0), "alg": "none"}
    return f"{b64url(json.dumps(header).encode())}.{m.doctor.split('.')[1]}."


def hs256_keyed_with(secret: Callable[[Material], bytes]) -> Callable[[Material], str]:
    """PyJWT refuses to use a PEM public key as an HMAC secret, so the JWS is built here."""

    def forge(m: Material) -> str:
        header = {**part_of(m.doctor, 0), "alg": "HS256"}
        signing_input = f"{b64url(json.dumps(header).encode())}.{m.doctor.split('.')[1]}"
        mac = hmac.new(secret(m), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    return forge


def tampered(token: str, **changes: Any) -> str:
    header, _, signature = token.split(".")
    payload = {**part_of(token, 1), **changes}
    return f"{header}.{b64url(json.dumps(payload).encode())}.{signature}"


def own_key(m: Material, kid: str, **changes: Any) -> str:
    return jwt.encode({**part_of(m.doctor, 1), **changes}, OWN_KEY, "RS256", headers={"kid": kid})


def now() -> int:
    return int(time.time())


ATTACKS: dict[str, Callable[[Material], str]] = {
    "alg none": unsigned,
    "HS256 keyed with the realm's public key (PEM)": hs256_keyed_with(lambda m: m.realm_key_pem),
    "HS256 keyed with the realm's public key (DER)": hs256_keyed_with(lambda m: m.realm_key_der),
    "tampered payload (org changed)": lambda m: tampered(m.doctor, org="ES-SERMAS"),
    "unknown kid, our own key": lambda m: own_key(m, "a-kid-keycloak-never-published"),
    "wrong issuer (a curex-ledger token)": lambda m: m.ledger_es_sermas,
    "wrong audience (service account for realm-management)": lambda m: m.service_account,
    "expired (forged: realm kid, own key)": lambda m: own_key(
        m, m.realm_kid, iat=now() - 900, exp=now() - 600
    ),
    "not yet valid (forged: realm kid, own key)": lambda m: own_key(
        m, m.realm_kid, iat=now(), nbf=now() + 600, exp=now() + 900
    ),
}


async def test_the_real_token_the_attacks_start_from_is_accepted(
    material: Material, http: httpx.AsyncClient
) -> None:
    for route in USER_ROUTES:
        response = await http.get(f"{API}{route}", headers=bearer(material.doctor))
        assert response.status_code == 200, (route, response.text)


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_the_applications_server_refuses(
    material: Material, http: httpx.AsyncClient, attack: str
) -> None:
    token = ATTACKS[attack](material)
    for route in USER_ROUTES:
        response = await http.get(f"{API}{route}", headers=bearer(token))
        assert response.status_code == 401, (route, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_the_wrong_audience_is_refused_by_the_audience_check(
    material: Material, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"{API}/v1/me", headers=bearer(material.service_account))
    assert response.status_code == 401
    assert "not meant for" in response.json()["detail"]


async def test_the_blockchain_api_refuses_a_users_token_with_401(
    material: Material, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        f"{ES_SERMAS_LEDGER}/v1/ledger/verify", headers=bearer(material.doctor)
    )
    assert response.status_code == 401, response.text


async def test_the_blockchain_api_refuses_forged_ledger_tokens_with_401(
    material: Material, http: httpx.AsyncClient
) -> None:
    none_header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    for token in (
        # Another organisation's real token, claiming to be ES-SERMAS.
        tampered(material.ledger_se_ki, org="ES-SERMAS"),
        f"{none_header}.{material.ledger_es_sermas.split('.')[1]}.",
    ):
        response = await http.get(f"{ES_SERMAS_LEDGER}/v1/ledger/blocks/0", headers=bearer(token))
        assert response.status_code == 401, response.text


async def test_the_blockchain_api_refuses_another_organisations_token_with_403(
    material: Material, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        f"{ES_SERMAS_LEDGER}/v1/ledger/verify", headers=bearer(material.ledger_se_ki)
    )
    assert response.status_code == 403, response.text


async def test_the_blockchain_api_serves_its_own_organisations_token(
    material: Material, http: httpx.AsyncClient
) -> None:
    response = await http.get(
        f"{ES_SERMAS_LEDGER}/v1/ledger/verify",
        headers=bearer(material.ledger_es_sermas),
        timeout=VERIFY_TIMEOUT_S,
    )
    assert response.status_code == 200, response.text
    assert response.json()["ok"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
