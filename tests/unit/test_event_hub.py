"""The event fan-out: bounded buffers, overflow, filters."""

from __future__ import annotations

from typing import Any

from app.events import EventHub
from app.services.events import EventFilter, normalise


def raw(n: int, **attributes: str) -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": "start",
        "Actor": {"ID": f"abc{n}", "Attributes": {"name": f"c{n}", **attributes}},
        "timeNano": 1_700_000_000_000_000_000 + n,
    }


async def test_a_slow_subscriber_overflows_without_holding_up_others() -> None:
    hub = EventHub(docker=None, buffer_size=2)  # type: ignore[arg-type]
    slow, fast = hub.subscribe(), hub.subscribe()
    for n in range(3):
        hub.publish(raw(n))
        await fast.queue.get()
    assert slow.overflowed
    assert not fast.overflowed
    assert slow.queue.qsize() == 2


def test_filters_match_labels_and_containers() -> None:
    event = raw(1, team="a")
    assert EventFilter(labels=("team=a",)).matches(event)
    assert EventFilter(labels=("team",)).matches(event)
    assert not EventFilter(labels=("team=b",)).matches(event)
    assert EventFilter(containers=frozenset({"c1"})).matches(event)
    assert EventFilter(containers=frozenset({"abc"})).matches(event)
    assert not EventFilter(types=frozenset({"image"})).matches(event)


def test_normalised_event_keeps_labels_apart_from_attributes() -> None:
    view = normalise(raw(1, team="a", image="busybox"))
    assert view.labels == {"team": "a"}
    assert view.name == "c1"
    assert view.id == "abc1"
