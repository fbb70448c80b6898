"""Retry what is retriable, dead-letter what is not, and never stop the stream."""

import pytest
from pydantic import BaseModel, ValidationError

from processors.errors import RecordsUnavailable
from service_runtime.errors import MessageError, OutputFailed
from service_runtime.message_handling import Outcome, RetryPolicy, handle_message


class Recorder:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0
        self.dead_letters: list[str] = []
        self.sleeps: list[float] = []

    async def work(self) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)

    async def dead_letter(self, error: str) -> None:
        self.dead_letters.append(error)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def run(self, attempts: int = 3) -> Outcome:
        policy = RetryPolicy(attempts=attempts)
        return await handle_message(self.work, self.dead_letter, policy, self.sleep)


def validation_error() -> ValidationError:
    class Strict(BaseModel):
        n: int

    try:
        Strict.model_validate({"n": "not a number"})
    except ValidationError as error:
        return error
    raise AssertionError("expected a validation error")


async def test_a_dead_letter_says_where_the_schema_broke_but_never_repeats_the_input() -> None:
    class Command(BaseModel):
        patient_pseudonym: str
        count: int

    canary = "CANARY-ES-1000001"
    try:
        Command.model_validate({"patient_pseudonym": 7, "count": canary})
    except ValidationError as error:
        recorder = Recorder([error])
    assert await recorder.run() is Outcome.DEAD_LETTERED
    [letter] = recorder.dead_letters
    assert canary not in letter
    assert "count" in letter
    assert "patient_pseudonym" in letter


async def test_a_schema_violation_is_dead_lettered_without_retrying() -> None:
    recorder = Recorder([validation_error()])
    assert await recorder.run() is Outcome.DEAD_LETTERED
    assert recorder.calls == 1
    assert recorder.dead_letters[0].startswith("invalid message")


async def test_a_retriable_failure_is_retried_with_growing_delays_until_it_succeeds() -> None:
    recorder = Recorder([RecordsUnavailable("down"), RecordsUnavailable("still down")])
    assert await recorder.run() is Outcome.HANDLED
    assert recorder.calls == 3
    assert recorder.sleeps == [0.1, 0.1 * 3]
    assert recorder.dead_letters == []


async def test_a_retriable_failure_that_persists_is_dead_lettered_after_the_last_attempt() -> None:
    recorder = Recorder([RecordsUnavailable("down")] * 5)
    assert await recorder.run(attempts=3) is Outcome.DEAD_LETTERED
    assert recorder.calls == 3
    assert "gave up after retries" in recorder.dead_letters[0]


async def test_non_retriable_and_unexpected_failures_are_dead_lettered_at_once() -> None:
    for failure in (MessageError("bad"), KeyError("bug")):
        recorder = Recorder([failure])
        assert await recorder.run() is Outcome.DEAD_LETTERED
        assert recorder.calls == 1
        assert recorder.sleeps == []


async def test_a_failed_output_is_not_the_messages_fault_and_stops_the_stream() -> None:
    recorder = Recorder([OutputFailed("curex.ledger.commands: broker unavailable")])
    with pytest.raises(OutputFailed):
        await recorder.run()
    assert recorder.calls == 1
    assert recorder.dead_letters == []
