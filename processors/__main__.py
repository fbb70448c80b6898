"""Run the processors: ``python -m processors``."""

from processors.records import LocalRecordsStore
from processors.service import serve
from processors.settings import ProcessorSettings
from service_runtime.event_loop import run_service
from service_runtime.logs import configure_logging
from service_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(ProcessorSettings)
    configure_logging("processors")
    records = LocalRecordsStore(settings.records_dir, settings.pseudonym_key.encode())
    records.seed_demo_patients()
    run_service(serve(settings, records))


if __name__ == "__main__":
    main()
