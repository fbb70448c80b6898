"""``python -m curex.bench.relay_process PLAN GROUP``: one baseline relay (``relay``).

The principal's access comes in the environment, never on the command line.
"""

import json
import os
import sys

import uvloop

from curex.bench.relay import ACCESS_ENV, RelayPlan, relay
from service_runtime.kafka_access import KafkaAccess


def main() -> None:
    plan = RelayPlan(**json.loads(sys.argv[1]))
    access = KafkaAccess(**json.loads(os.environ[ACCESS_ENV]))
    uvloop.run(relay(plan, access, sys.argv[2]))


if __name__ == "__main__":
    main()
