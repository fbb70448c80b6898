"""The feed's hand-over from its own writer (pure, a fake store): rows that follow the last
row pushed go out at once; rows behind someone else's commit wait for a read in order;
a read that overlaps what was handed over pushes nothing twice."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from notifier.connections import Hub
from notifier.feed import InboxFeed
from notifier.inbox import InboxEntry, InboxStore, Written
from tests.unit.test_notifier_connections import entry


@dataclass
class FakeStore:
    writer: str = "this-writer"
    rows: list[InboxEntry] = field(default_factory=list)
    during_read: Callable[[], None] = lambda: None

    async def since(self, after_seq: int, limit: int) -> list[InboxEntry]:
        found = [row for row in self.rows if row.seq > after_seq][:limit]
        self.during_read()  # what happens while the query is on its way
        return found


class RecordingHub(Hub):
    def __init__(self) -> None:
        super().__init__()
        self.pushed: list[int] = []

    def publish(self, entries: Any) -> None:
        entries = list(entries)
        self.pushed.extend(e.seq for e in entries)
        super().publish(entries)


def feed_with(store: FakeStore, head: int) -> tuple[InboxFeed, RecordingHub]:
    hub = RecordingHub()
    hub.head = head
    return InboxFeed("postgresql://unused", cast(InboxStore, store), hub, 1.0), hub


def test_rows_that_follow_the_last_pushed_go_out_without_a_read() -> None:
    feed, hub = feed_with(FakeStore(), head=10)

    feed.written(Written(after=10, entries=[entry(11), entry(12)]))

    assert hub.pushed == [11, 12]
    assert hub.head == 12


def test_rows_behind_another_writers_commit_wait_for_the_read_in_order() -> None:
    store = FakeStore(rows=[entry(11), entry(12), entry(13)])  # 11 is another writer's
    feed, hub = feed_with(store, head=10)

    feed.written(Written(after=11, entries=[entry(12), entry(13)]))

    assert hub.pushed == []
    assert feed._wake.is_set()


async def test_a_read_overlapping_a_hand_over_pushes_nothing_twice() -> None:
    store = FakeStore(rows=[entry(11), entry(12), entry(13)])
    feed, hub = feed_with(store, head=10)
    store.during_read = lambda: feed.written(Written(after=10, entries=[entry(11), entry(12)]))

    await feed._push_new()

    assert hub.pushed == [11, 12, 13]
