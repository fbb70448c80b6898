"""Run a notifier instance: ``python -m notifier``."""

import uvicorn

from notifier.app import create_app
from notifier.settings import NotifierSettings
from service_runtime.logs import configure_logging
from service_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(NotifierSettings)
    configure_logging("notifier")
    uvicorn.run(
        create_app(settings),
        host=settings.notifier_host,
        port=settings.notifier_port,
        log_level="warning",
        proxy_headers=False,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # A WebSocket frame over 16 KiB closes the socket (1009): no client frame needs more.
        ws_max_size=16 * 1024,
        server_header=False,
    )


if __name__ == "__main__":
    main()
