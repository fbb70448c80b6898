"""Run the processors: ``python -m processors``."""

import gc

from faust.worker import Worker

from infra.logs import configure_logging
from processors.app import create_app
from processors.records import LocalRecordsStore
from processors.settings import ProcessorSettings


def main() -> None:
    settings = ProcessorSettings()
    configure_logging("processors")
    records = LocalRecordsStore(settings.records_dir, settings.pseudonym_key.encode())
    records.seed_demo_patients()
    settings.worker_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, records)
    # Start-up objects live as long as the process: keep them out of every collection.
    gc.freeze()
    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
