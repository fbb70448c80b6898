"""Run the processors: ``python -m processors``."""

import asyncio

from processors.records import LocalRecordsStore
from processors.service import serve
from processors.settings import ProcessorSettings
from service_runtime.logs import configure_logging
from service_runtime.settings import load_settings


def main() -> None:
    settings = load_settings(ProcessorSettings)
    configure_logging("processors")
    records = LocalRecordsStore(settings.records_dir, settings.pseudonym_key.encode())
    records.seed_demo_patients()
    asyncio.run(serve(settings, records))


if __name__ == "__main__":
    main()
