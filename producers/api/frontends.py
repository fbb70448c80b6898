"""The front ends' built files (frontends/dist) at /hpa, /pa and /ops, with /assets.

Each application is a single page: a path that names no file answers its index.html.
Hashed assets are cached for good; the pages, the manifest and the service worker are
revalidated on every load so a new build is picked up at once.
"""

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

APPS = ("hpa", "pa", "ops")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
NOT_BUILT = (
    "The web applications are not built. Run `make setup` in the project "
    "(it runs `npm ci` and `npm run build` in frontends/), then reload."
)


class _Built(StaticFiles):
    """Static files that explain a missing build with a 503 instead of failing."""

    def __init__(self, directory: Path, cache_control: str) -> None:
        super().__init__(directory=directory, check_dir=False)
        self._directory = directory
        self._cache_control = cache_control

    async def check_config(self) -> None:
        # A missing build is answered per request (503), and a later build is picked up.
        if self._directory.is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not self._directory.is_dir():
            return PlainTextResponse(NOT_BUILT, status_code=503)
        response = await self._file_or_fallback(path, scope)
        response.headers["Cache-Control"] = self._cache_control
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def _file_or_fallback(self, path: str, scope: Scope) -> Response:
        return await super().get_response(path, scope)


class SinglePageApp(_Built):
    """An application's folder: its files, else its index.html (client-side routes)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, REVALIDATE)

    async def _file_or_fallback(self, path: str, scope: Scope) -> Response:
        try:
            return await super()._file_or_fallback(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or Path(path).suffix:
                raise
            return await super()._file_or_fallback("index.html", scope)


def add_frontends(app: FastAPI, dist: Path) -> None:
    # Compressed here only: the API's own answers keep their measured path.
    assets = GZipMiddleware(_Built(dist / "assets", IMMUTABLE), minimum_size=1024)
    app.mount("/assets", assets, name="assets")
    for name in APPS:
        app.mount(f"/{name}", SinglePageApp(dist / name), name=name)
