"""Run the Applications Server: ``python -m producers``."""

import uvicorn

from producers.api.app import create_app
from producers.api.settings import ApiSettings
from service_runtime.logs import configure_logging
from service_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(ApiSettings)
    configure_logging("applications-server")
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        proxy_headers=False,
        # The C event loop and HTTP parser: about half the server's CPU per request.
        loop="uvloop",
        http="httptools",
        access_log=False,
        # A WebSocket frame over 16 KiB closes the socket (1009): no client frame needs more.
        ws_max_size=16 * 1024,
        server_header=False,
    )


if __name__ == "__main__":
    main()
