"""The Applications Server serves each web application as a single page with the right
cache headers, says plainly when the build is missing, and publishes the OpenAPI the pages'
types are generated from."""

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from infra.keycloak.clients import _address_changes
from producers.api.app import create_app
from producers.api.frontends import IMMUTABLE, REVALIDATE, add_frontends
from producers.api.settings import ApiSettings

FRONTENDS = Path(__file__).resolve().parents[2] / "frontends"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    for app in ("hpa", "pa", "ops"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "index.html").write_text(f"<title>{app}</title>")
    (tmp_path / "pa" / "sw.js").write_text("// worker")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1);" * 200)
    return tmp_path


async def _get(dist: Path, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    app = FastAPI()
    add_frontends(app, dist)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://web"
    ) as client:
        return await client.get(path, headers=headers)


async def test_a_client_side_route_answers_its_apps_page_revalidated(built: Path) -> None:
    response = await _get(built, "/hpa/transfers/tr-123")
    assert response.status_code == 200
    assert "<title>hpa</title>" in response.text
    assert response.headers["cache-control"] == REVALIDATE


async def test_each_app_has_its_own_page(built: Path) -> None:
    for app in ("hpa", "pa", "ops"):
        assert f"<title>{app}</title>" in (await _get(built, f"/{app}/")).text


async def test_hashed_assets_are_cached_for_good_and_the_service_worker_is_not(
    built: Path,
) -> None:
    assert (await _get(built, "/assets/app-1a2b.js")).headers["cache-control"] == IMMUTABLE
    assert (await _get(built, "/pa/sw.js")).headers["cache-control"] == REVALIDATE


async def test_assets_are_sent_compressed_to_a_browser_that_accepts_it(built: Path) -> None:
    response = await _get(built, "/assets/app-1a2b.js", {"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "console.log(1);" * 200


async def test_a_missing_file_with_an_extension_is_404_not_the_page(built: Path) -> None:
    assert (await _get(built, "/pa/missing.js")).status_code == 404


async def test_a_path_outside_the_build_is_not_served(built: Path) -> None:
    response = await _get(built, "/hpa/%2e%2e/%2e%2e/etc/passwd")
    assert "root:" not in response.text


async def test_a_missing_build_answers_503_saying_how_to_build(tmp_path: Path) -> None:
    response = await _get(tmp_path / "absent", "/pa/")
    assert response.status_code == 503
    assert "make setup" in response.text


def test_the_committed_openapi_matches_the_server() -> None:
    """frontends/openapi.json is what the pages' types come from: regenerate both when the
    API changes (see frontends/package.json, `api-types`)."""
    served = create_app(ApiSettings(env="dev")).openapi()
    committed = json.loads((FRONTENDS / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(served)), (
        "frontends/openapi.json is stale: run `npm run api-types` in frontends/ and commit both"
    )


def test_an_installed_web_client_gets_the_committed_addresses() -> None:
    wanted = {
        "redirectUris": ["http://127.0.0.1:28080/hpa/*"],
        "webOrigins": ["http://127.0.0.1:28080"],
        "attributes": {"post.logout.redirect.uris": "http://127.0.0.1:28080/hpa/*"},
    }
    current = {
        "redirectUris": ["http://127.0.0.1:28080/*"],
        "webOrigins": ["+"],
        "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
    }
    assert _address_changes(wanted, current) == {
        "redirectUris": ["http://127.0.0.1:28080/hpa/*"],
        "webOrigins": ["http://127.0.0.1:28080"],
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": "http://127.0.0.1:28080/hpa/*",
            "access.token.lifespan": "",
        },
    }
    assert _address_changes(wanted, {**current, **_address_changes(wanted, current)}) == {}


def test_a_token_lifespan_left_on_the_web_client_is_removed() -> None:
    wanted = {"redirectUris": ["http://127.0.0.1:8080/hpa/*"], "attributes": {}}
    current = {
        "redirectUris": ["http://127.0.0.1:8080/hpa/*"],
        "attributes": {"pkce.code.challenge.method": "S256", "access.token.lifespan": "10"},
    }
    assert _address_changes(wanted, current) == {
        "attributes": {"pkce.code.challenge.method": "S256", "access.token.lifespan": ""}
    }
