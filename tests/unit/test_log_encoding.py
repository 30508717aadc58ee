"""Log output as SSE: the batched encoder says exactly what the one-event-per-line format says."""

from __future__ import annotations

import random

import pytest

from app.engine.frames import Frames, Stream
from app.services.log_lines import LineIds, ResumePoint, Skipper, split_message
from app.services.logs import encode_batch
from app.streams import sse

NAMES = {Stream.STDOUT: b"stdout", Stream.STDERR: b"stderr"}
Messages = list[tuple[Stream, bytes]]


def frames(messages: Messages) -> Frames:
    return Frames(bytes(stream for stream, _ in messages), [payload for _, payload in messages])


def reference(messages: Messages, ids: LineIds, skipper: Skipper) -> bytes:
    """One ``sse.output_event`` per kept message: the definition the fast paths must match."""
    out = []
    for stream, payload in messages:
        ts, text = split_message(payload)
        line_id = ids.assign(ts)
        if skipper.passed or skipper.keep(ts, line_id):
            out.append(sse.output_event(NAMES[stream], text, line_id))
    return sse.utf8(b"".join(out))


def stamp(second: int, nanos: int) -> bytes:
    return b"2026-12-03T04:16:%02d.%09dZ" % (second, nanos)


TEXTS = [b"plain line", b"", b"tab\there", b"caf\xc3\xa9", b"bad \xff utf8", b"cr\rinside"]
ENDINGS = [b"\n", b"\n", b"\n", b"\r\n", b"", b"\nsecond\n"]
# Text that a whole-batch encoding must notice: a stamp's "Z " elsewhere, no line feed at all.
AWKWARD = [b"Z ", b"ends with Z", b"Z  twice Z ", b"2026-12-03T04:16:00.000000000Z x"]


def random_batch(rng: random.Random, size: int, *, plain: bool, odd: bool) -> Messages:
    batch: Messages = []
    for _ in range(size):
        ts = stamp(rng.randint(0, 2), rng.randint(0, 3))  # repeats: ids get #n
        text = rng.choice(TEXTS[:4] if plain else TEXTS)
        ending = b"\n" if plain else rng.choice(ENDINGS)
        payload = (b"2026-12-03T04:16:00Z" if odd and rng.random() < 0.1 else ts) + b" "
        batch.append((rng.choice([Stream.STDOUT, Stream.STDERR]), payload + text + ending))
    return batch


def flood_batch(rng: random.Random, size: int, start: int) -> Messages:
    """One stream, distinct stamps, plain lines: the batches a flood brings (now and then
    spoilt by one message the whole-batch encoding must leave to the line-by-line one)."""
    streams = [Stream.STDOUT, Stream.STDERR]
    mixed = rng.random() < 0.3
    stream = rng.choice(streams)
    batch: Messages = []
    for index in range(size):
        text = rng.choice(TEXTS[:4])
        payload = stamp(start // 1000 % 60, start % 1000 + index) + b" " + text + b"\n"
        batch.append((rng.choice(streams) if mixed else stream, payload))
    if batch and rng.random() < 0.5:
        spoilt = rng.randrange(len(batch))
        kind, payload = batch[spoilt]
        spoilers = [
            (kind, payload[:31] + rng.choice(AWKWARD) + b"\n"),
            (kind, payload[:-1]),  # no line feed
            (kind, payload[:-1] + b"\r\n"),
            (kind, payload + b"more\n"),  # two lines in one message
            (Stream.STDERR if kind == Stream.STDOUT else Stream.STDOUT, payload),
            batch[0] if spoilt else batch[-1],  # a repeated stamp
            (kind, b"2026-12-03T04:16:00Z " + payload[31:]),  # not fixed-width
        ]
        batch[spoilt] = rng.choice(spoilers)
    return batch


def test_batches_encode_as_one_event_per_message() -> None:
    rng = random.Random(16)
    for round_ in range(300):
        resume = round_ % 3 == 0
        # A timestamp that is not fixed-width takes the slow path (never in resumed streams: a
        # resume compares times, and the engine's are always fixed-width).
        batch = random_batch(rng, rng.randint(0, 40), plain=round_ % 2 == 0, odd=not resume)
        point = ResumePoint(stamp(1, rng.randint(0, 3)), rng.randint(0, 2)) if resume else None
        fast_ids, slow_ids = LineIds(), LineIds()
        fast_skip, slow_skip = Skipper(point), Skipper(point)
        for part in (batch[: len(batch) // 2], batch[len(batch) // 2 :]):
            got = encode_batch(frames(part), fast_ids, fast_skip)
            assert got == reference(part, slow_ids, slow_skip)


def test_flood_batches_encode_as_one_event_per_message() -> None:
    rng = random.Random(17)
    fast_ids, slow_ids = LineIds(), LineIds()
    start = 0
    for _ in range(400):
        size = rng.choice([1, 2, 7, 40, 300, 700])  # across LineIds' memory limit too
        batch = flood_batch(rng, size, start)
        start += size
        got = encode_batch(frames(batch), fast_ids, Skipper(None))
        assert got == reference(batch, slow_ids, Skipper(None))
        # The same memory, in the same order (it decides what is forgotten next).
        assert list(fast_ids._seen.items()) == list(slow_ids._seen.items())


@pytest.mark.parametrize(
    ("batch", "events"),
    [
        pytest.param(
            [(Stream.STDERR, stamp(5, 7) + b" oops\n"), (Stream.STDOUT, stamp(5, 7) + b" ok\n")],
            b"id: 2026-12-03T04:16:05.000000007Z\nevent: stderr\ndata: oops\n\n"
            b"id: 2026-12-03T04:16:05.000000007Z#1\nevent: stdout\ndata: ok\n\n",
            id="a repeated timestamp gets #n",
        ),
        pytest.param(
            [(Stream.STDOUT, stamp(5, 7) + b" one\n"), (Stream.STDOUT, stamp(5, 8) + b" two Z\n")],
            b"id: 2026-12-03T04:16:05.000000007Z\nevent: stdout\ndata: one\n\n"
            b"id: 2026-12-03T04:16:05.000000008Z\nevent: stdout\ndata: two Z\n\n",
            id="a flood batch",
        ),
    ],
)
def test_each_line_becomes_one_event(batch: Messages, events: bytes) -> None:
    assert encode_batch(frames(batch), LineIds(), Skipper(None)) == events
