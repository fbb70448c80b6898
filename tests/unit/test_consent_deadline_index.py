"""The expiry timer's view of the deadlines: what is due now, found without looking at
every deadline, and reported until a commit clears it."""

from datetime import UTC, datetime, timedelta

from processors.deadlines import ConsentDeadlines
from processors.reactions import ConsentDeadline

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def deadline(transfer_id: str, at: datetime | None) -> ConsentDeadline:
    return ConsentDeadline(transfer_id, "ES-SERMAS", at)


def due_ids(deadlines: ConsentDeadlines, now: datetime = NOW) -> list[str]:
    return sorted(transfer_id for transfer_id, _ in deadlines.overdue(now))


def test_only_deadlines_that_have_passed_are_due_and_they_stay_due_until_cleared() -> None:
    deadlines = ConsentDeadlines()
    for n in range(50):
        deadlines.track(deadline(f"t-{n:02d}", NOW + timedelta(minutes=n - 2)))
    assert due_ids(deadlines) == ["t-00", "t-01", "t-02"]
    assert due_ids(deadlines) == ["t-00", "t-01", "t-02"]  # asked again every tick
    deadlines.track(deadline("t-01", None))  # the expiry committed
    assert due_ids(deadlines) == ["t-00", "t-02"]
    assert due_ids(deadlines, NOW + timedelta(minutes=1)) == ["t-00", "t-02", "t-03"]


def test_a_deadline_moved_is_due_at_its_new_time_only() -> None:
    deadlines = ConsentDeadlines()
    deadlines.track(deadline("t-later", NOW - timedelta(minutes=1)))
    deadlines.track(deadline("t-sooner", NOW + timedelta(days=7)))
    assert due_ids(deadlines) == ["t-later"]
    deadlines.track(deadline("t-later", NOW + timedelta(hours=1)))
    deadlines.track(deadline("t-sooner", NOW - timedelta(seconds=1)))
    assert due_ids(deadlines) == ["t-sooner"]
    assert due_ids(deadlines, NOW + timedelta(hours=1)) == ["t-later", "t-sooner"]


def test_a_restored_deadline_and_a_restored_tombstone_count_as_tracked_ones() -> None:
    deadlines = ConsentDeadlines()
    deadlines.restore(b'"t-a"', b'{"source_org": "ES-SERMAS", "at": "2026-11-30T11:00:00+00:00"}')
    deadlines.restore(b'"t-b"', b'{"source_org": "ES-SERMAS", "at": "2026-11-30T11:00:00+00:00"}')
    deadlines.restore(b'"t-b"', None)
    assert due_ids(deadlines) == ["t-a"]


def test_many_changes_leave_what_is_due_unchanged() -> None:
    deadlines = ConsentDeadlines()
    for round_ in range(30):
        for n in range(200):
            at = NOW + timedelta(minutes=(n + round_) % 7 - 3)
            deadlines.track(deadline(f"t-{n:03d}", at))
    expected = sorted(
        f"t-{n:03d}" for n in range(200) if NOW + timedelta(minutes=(n + 29) % 7 - 3) <= NOW
    )
    assert due_ids(deadlines) == expected
    assert len(deadlines) == 200
