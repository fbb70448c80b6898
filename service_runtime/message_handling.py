"""Handling one input message: retry what is retriable, dead-letter what is not.

A handler raises a ``MessageError`` subclass whose ``retriable`` decides: retried with
backoff, then dead-lettered; anything else it raises (a schema violation, a bug) is not
retriable, so the message goes to the dead-letter topic with the error and the stream moves
on. ``OutputFailed`` (Kafka refused an output) says nothing about the message: it
propagates, the consumer stops before committing, and the message is read again.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from service_runtime.errors import MessageError, OutputFailed


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    first_delay_s: float = 0.1
    factor: float = 3.0

    def delays(self) -> list[float]:
        return [self.first_delay_s * self.factor**n for n in range(self.attempts - 1)]


def describe_invalid(error: ValidationError) -> str:
    """Where a message broke its schema and how, never what it held: pydantic's own text
    repeats the input, which may carry an identifier, into dead letters and logs."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False, include_context=False)
    )


class Outcome(StrEnum):
    HANDLED = "handled"
    DEAD_LETTERED = "dead-lettered"


async def handle_message(
    work: Callable[[], Awaitable[None]],
    dead_letter: Callable[[str], Awaitable[None]],
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Outcome:
    delays = policy.delays()
    while True:
        try:
            await work()
        except OutputFailed:
            raise
        except ValidationError as error:
            await dead_letter(f"invalid message: {describe_invalid(error)}")
            return Outcome.DEAD_LETTERED
        except MessageError as error:
            if not (error.retriable and delays):
                reason = "gave up after retries" if error.retriable else "not retriable"
                await dead_letter(f"{reason}: {error!r}")
                return Outcome.DEAD_LETTERED
            await sleep(delays.pop(0))
        except Exception as error:  # noqa: BLE001 - a poison message must not stop the stream
            await dead_letter(f"unexpected failure: {error!r}")
            return Outcome.DEAD_LETTERED
        else:
            return Outcome.HANDLED
