"""A dead letter says where refused input came from and why, never what it held."""

import base64
import hashlib
import json

from schemas import DeadLetter, dead_letter_for


def test_a_dead_letter_holds_a_digest_of_the_input_and_no_copy_of_it() -> None:
    canary = b"CANARY-5f0e"
    value = b'{"patient_id": "' + canary + b'", "note": "chest pain"'
    letter = dead_letter_for("curex.transfer.requests", 3, 17, value, "not JSON")
    written = letter.model_dump_json().encode()
    assert canary not in written
    assert base64.b64encode(canary)[:8] not in written
    assert letter.original_sha256 == hashlib.sha256(value).hexdigest()
    assert letter.original_size == len(value)


def test_a_version_1_letter_is_read_as_its_digest_and_size() -> None:
    original = b"not json"
    v1 = {
        "schema_version": 1,
        "event_id": "0b6a7a36-9d1c-4b43-8f0d-1d5b0b7f3f11",
        "correlation_id": "curex.transfer.requests/0/1",
        "occurred_at": "2026-11-01T00:00:00+00:00",
        "type": "dead_letter",
        "source_topic": "curex.transfer.requests",
        "source_partition": 0,
        "source_offset": 1,
        "original_key_b64": None,
        "original_value_b64": base64.b64encode(original).decode(),
        "error": "not JSON",
    }
    letter = DeadLetter.model_validate_json(json.dumps(v1))
    assert (letter.original_sha256, letter.original_size) == (
        hashlib.sha256(original).hexdigest(),
        len(original),
    )
