"""Every service's event loop: uvloop's, the C loop the web services already run on."""

from collections.abc import Coroutine
from typing import Any

import uvloop


def run_service(main: Coroutine[Any, Any, None]) -> None:
    """Runs a service's main coroutine to its end on uvloop."""
    uvloop.run(main)
