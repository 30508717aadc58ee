"""The event fan-out: bounded buffers, overflow, filters."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.problems import StreamOverflow
from app.services.events import EventFilter, normalise, sse_events
from app.streams.event_hub import EventHub


def raw(n: int, **attributes: str) -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": "start",
        "Actor": {"ID": f"abc{n}", "Attributes": {"name": f"c{n}", **attributes}},
        "timeNano": 1_700_000_000_000_000_000 + n,
    }


async def test_a_slow_subscriber_overflows_without_holding_up_others() -> None:
    hub = EventHub(engine=None, buffer_size=2)  # type: ignore[arg-type]
    slow, fast = hub.subscribe(), hub.subscribe()
    for n in range(3):
        hub.publish(raw(n))
        assert (await fast.get())["timeNano"] == raw(n)["timeNano"]
    assert slow.overflowed
    assert not fast.overflowed
    with pytest.raises(StreamOverflow):
        await slow.get()


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


async def test_an_overflowed_client_is_told_and_its_stream_ends() -> None:
    hub = EventHub(engine=None, buffer_size=2)  # type: ignore[arg-type]
    stream = sse_events(hub, None, EventFilter(), None)  # type: ignore[arg-type]
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # the stream subscribes
    for n in range(3):  # one more than the buffer holds, while the client reads nothing
        hub.publish(raw(n))
    # The client is told at once (the stream response sends this as ``event: error``);
    # what it missed it replays with Last-Event-ID.
    with pytest.raises(StreamOverflow) as caught:
        await first
    assert caught.value.extra["reason"] == "overflow"
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    hub.publish(raw(4))  # nobody is subscribed any more: publishing still never waits
