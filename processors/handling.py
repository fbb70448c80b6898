"""Handling one input message: retry what is retriable, dead-letter what is not.

ProcessingError
 └── RecordsUnavailable   (retriable: the records system did not answer)

Anything else a handler raises (a schema violation, a bug) is not retriable: the message
goes to the dead-letter topic with the error, and the stream moves on. The exception is
``OutputFailed``: Kafka refused an output, which says nothing about the message, so it
propagates; the consumer stops before committing and the message is read again.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from pydantic import ValidationError


class ProcessingError(Exception):
    retriable: ClassVar[bool] = False


class RecordsUnavailable(ProcessingError):
    retriable = True


class OutputFailed(Exception):
    """An output could not be handed to Kafka: not the message's fault."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    first_delay_s: float = 0.1
    factor: float = 3.0

    def delays(self) -> list[float]:
        return [self.first_delay_s * self.factor**n for n in range(self.attempts - 1)]


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
            await dead_letter(f"invalid message: {error}")
            return Outcome.DEAD_LETTERED
        except ProcessingError as error:
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
