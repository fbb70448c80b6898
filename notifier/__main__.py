"""Run a notifier instance: ``python -m notifier``."""

from notifier.app import create_app
from notifier.settings import NotifierSettings
from service_runtime.logs import configure_logging
from service_runtime.service_http import run_web_service
from service_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(NotifierSettings)
    configure_logging("notifier")
    run_web_service(create_app(settings), settings.notifier_host, settings.notifier_port)


if __name__ == "__main__":
    main()
