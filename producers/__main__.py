"""Run the Applications Server: ``python -m producers``."""

from producers.api.app import create_app
from producers.api.settings import ApiSettings
from service_runtime.logs import configure_logging
from service_runtime.service_http import run_web_service
from service_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(ApiSettings)
    configure_logging("applications-server")
    run_web_service(create_app(settings), settings.api_host, settings.api_port)


if __name__ == "__main__":
    main()
