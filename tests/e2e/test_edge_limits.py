"""The edges hold their limits: big bodies are refused before parsing, big WebSocket frames
close the socket, and a live connection does not outlive its token."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
import websockets
from keycloak import KeycloakAdmin

from curex.stack_settings import api_settings
from infra.secrets import keycloak_admin_password
from infra.settings import InfraSettings
from service_runtime.errors import TokenError
from service_runtime.tokens import TokenValidator
from tests.e2e.rest import WS_NOTIFICATIONS, in_process_api, user_token

pytestmark = pytest.mark.integration
WS = WS_NOTIFICATIONS
SHORT_TOKEN_S = 10


async def raw_post(head: str, body: bytes) -> tuple[int, dict[str, object]]:
    """Send a request as bytes and read the answer: the server may answer before the body
    is sent, as it should for a body it refuses (an HTTP library would still be sending)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", InfraSettings().api_port)
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    return int(status_line.split()[1]), json.loads(answer.split(b"\r\n\r\n", 1)[1])


async def test_a_body_over_64_kib_is_refused_with_413_before_it_is_read(
    stack: InfraSettings,
) -> None:
    # A 1 MiB body announced: the answer comes before a byte of it is sent.
    declared = await raw_post(
        "POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {1024 * 1024}\r\n\r\n",
        b"",
    )
    # Chunked, with no length: refused once it passes 64 KiB. Only 16 bytes go past it, and
    # no closing chunk: the server has read all that was sent when it answers, so closing
    # its side sends no reset that would race the answer.
    chunks = [b" " * 65_536, b" " * 16]
    chunked = await raw_post(
        "POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks),
    )
    for status, answer in (declared, chunked):
        assert status == 413
        assert "64 KiB" in str(answer["detail"])


async def test_a_websocket_frame_over_16_kib_closes_the_socket_with_1009(
    stack: InfraSettings,
) -> None:
    async with websockets.connect(WS, max_size=None) as socket:
        await socket.send(json.dumps({"type": "auth", "token": "x" * (1024 * 1024)}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def next_control_frame(socket: websockets.ClientConnection) -> dict[str, object]:
    """The next frame that is not a change: changes of the user's other transfers may be
    on their way at any time."""
    while True:
        frame: dict[str, object] = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        if frame.get("type") != "transfer.updated":
            return frame


async def until_closed(
    socket: websockets.ClientConnection, within: float
) -> websockets.ConnectionClosed:
    """Read (and drop) frames until the server closes; the close, or fail at the deadline."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(socket.recv(), timeout=deadline - time.monotonic())
        except websockets.ConnectionClosed as closed:
            return closed
    raise AssertionError("the server never closed the connection")


@pytest.fixture
def short_tokens(stack: InfraSettings) -> Iterator[None]:
    """curex-web's access tokens live SHORT_TOKEN_S seconds while the test runs."""
    admin = KeycloakAdmin(
        server_url=stack.keycloak_url,
        username="admin",
        password=keycloak_admin_password(stack),
        realm_name="curex",
        user_realm_name="master",
    )
    client = admin.get_client_id("curex-web")
    assert client is not None
    attributes = admin.get_client(client).get("attributes", {})
    admin.update_client(
        client,
        {"attributes": {**attributes, "access.token.lifespan": str(SHORT_TOKEN_S)}},
    )
    try:
        yield
    finally:
        # Keycloak merges attributes: an empty value is what removes the short lifespan.
        lifespan = attributes.get("access.token.lifespan", "")
        admin.update_client(
            client, {"attributes": {**attributes, "access.token.lifespan": lifespan}}
        )


async def test_a_connection_is_closed_with_4401_when_its_token_expires(
    short_tokens: None,
) -> None:
    token = await user_token("patient.es")
    expires_at = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))[
        "exp"
    ]
    async with websockets.connect(WS) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        assert (await next_control_frame(socket))["type"] == "auth.ok"
        closed = await until_closed(socket, within=SHORT_TOKEN_S + 10)
        closed_at = time.time()
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4401
    assert expires_at - 1 <= closed_at <= expires_at + 5


async def test_a_fresh_auth_frame_keeps_the_connection_past_the_first_token(
    short_tokens: None,
) -> None:
    first = await user_token("patient.es")
    async with websockets.connect(WS) as socket:
        await socket.send(json.dumps({"type": "auth", "token": first}))
        assert (await next_control_frame(socket))["type"] == "auth.ok"
        await asyncio.sleep(SHORT_TOKEN_S / 2)  # the client renews mid-life, as a PA would
        await socket.send(json.dumps({"type": "auth", "token": await user_token("patient.es")}))
        assert (await next_control_frame(socket))["type"] == "auth.ok"
        await asyncio.sleep(SHORT_TOKEN_S / 2 + 2)  # past the first token's expiry
        await socket.send(json.dumps({"type": "resume", "after": None}))
        frames = []
        while not frames or frames[-1].get("type") != "resume.completed":
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=10)))


async def test_the_eleventh_emergency_over_a_limit_of_ten_is_refused_with_429(
    stack: InfraSettings,
) -> None:
    settings = api_settings(stack).model_copy(update={"emergencies_per_user": "10/day"})
    body = {
        "patient_id": "SE-2000002",
        "source_org": "SE-KI",
        "emergency": True,
        "purpose": "ETREAT",
    }
    async with in_process_api(settings, await user_token("doctor.sermas")) as http:
        answers = [(await http.post("/v1/transfers", json=body)).status_code for _ in range(10)]
        refused = await http.post("/v1/transfers", json=body)
    assert answers == [202] * 10
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "emergencies" in refused.json()["detail"]


async def test_a_key_removed_from_the_realm_is_refused_within_the_key_lifetime(
    stack: InfraSettings,
) -> None:
    """A signing key added to the realm, used, then removed (as after a compromise): tokens
    it signed stop being accepted once the validator's cached keys reach their lifetime."""
    lifetime_s = 3.0
    admin = KeycloakAdmin(
        server_url=stack.keycloak_url,
        username="admin",
        password=keycloak_admin_password(stack),
        realm_name="curex",
        user_realm_name="master",
    )
    name = f"test-compromised-{uuid.uuid4().hex[:8]}"
    component = admin.create_component(
        {
            "name": name,
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": admin.get_realm("curex")["id"],
            # The highest priority: new tokens are signed with it.
            "config": {"priority": ["100000"], "enabled": ["true"], "active": ["true"]},
        }
    )
    try:
        token = await user_token("doctor.ki")
        kid = jwt.get_unverified_header(token)["kid"]
        ours = [k for k in admin.get_keys()["keys"] if k.get("providerId") == component]
        assert kid in {k["kid"] for k in ours}
        validator = TokenValidator(api_settings(stack).users_issuer, key_max_age_s=lifetime_s)
        assert (await validator.claims(token))["preferred_username"] == "doctor.ki"
    finally:
        admin.delete_component(component)
    removed_at = time.monotonic()
    while True:
        try:
            await validator.claims(token)
        except TokenError:
            break
        assert time.monotonic() - removed_at < lifetime_s + 2, "a removed key was still trusted"
        await asyncio.sleep(0.1)  # the interval of a deadline-bounded poll
