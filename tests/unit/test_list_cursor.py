"""The list's keyset cursor: opaque, round-trips exactly, and refuses what it did not make."""

from datetime import UTC, datetime

import pytest

from read_model.cursor import BadCursor, Cursor


def test_a_cursor_round_trips_to_the_same_position() -> None:
    cursor = Cursor(datetime(2026, 11, 29, 21, 0, 0, 123456, tzinfo=UTC), "tr-abc")
    assert Cursor.decode(cursor.encode()) == cursor
    assert "tr-abc" not in cursor.encode()  # opaque, not a readable id


@pytest.mark.parametrize(
    "text",
    ["", "not-a-cursor", "W10", "WyIyMDI2LTExLTI5VDIxOjAwOjAwIiwgInRyLWEiXQ", "e30"],
)
def test_a_cursor_the_server_did_not_give_out_is_refused(text: str) -> None:
    with pytest.raises(BadCursor):
        Cursor.decode(text)
