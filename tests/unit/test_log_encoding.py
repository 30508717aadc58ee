"""Log output as SSE: the batched encoder says exactly what the one-event-per-line format says."""

from __future__ import annotations

import random

from app.engine.frames import Stream
from app.services.log_lines import LineIds, ResumePoint, Skipper, split_message
from app.services.logs import Batch, encode_batch
from app.streams import sse

NAMES = {Stream.STDOUT: b"stdout", Stream.STDERR: b"stderr"}


def reference(batch: Batch, ids: LineIds, skipper: Skipper) -> bytes:
    """One ``sse.output_event`` per kept message: the definition the fast path must match."""
    out = []
    for stream, payload in batch:
        ts, text = split_message(payload)
        line_id = ids.assign(ts)
        if skipper.passed or skipper.keep(ts, line_id):
            out.append(sse.output_event(NAMES[stream], text, line_id))
    return sse.utf8(b"".join(out))


def stamp(second: int, nanos: int) -> bytes:
    return b"2026-12-03T04:16:%02d.%09dZ" % (second, nanos)


TEXTS = [b"plain line", b"", b"tab\there", b"caf\xc3\xa9", b"bad \xff utf8", b"cr\rinside"]
ENDINGS = [b"\n", b"\n", b"\n", b"\r\n", b"", b"\nsecond\n"]


def random_batch(rng: random.Random, size: int, *, plain: bool, odd: bool) -> Batch:
    batch: Batch = []
    for _ in range(size):
        ts = stamp(rng.randint(0, 2), rng.randint(0, 3))  # repeats: ids get #n
        text = rng.choice(TEXTS[:4] if plain else TEXTS)
        ending = b"\n" if plain else rng.choice(ENDINGS)
        payload = (b"2026-12-03T04:16:00Z" if odd and rng.random() < 0.1 else ts) + b" "
        batch.append((rng.choice([Stream.STDOUT, Stream.STDERR]), payload + text + ending))
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
            assert encode_batch(part, fast_ids, fast_skip) == reference(part, slow_ids, slow_skip)


def test_a_plain_line_becomes_one_event() -> None:
    batch: Batch = [
        (Stream.STDERR, stamp(5, 7) + b" oops\n"),
        (Stream.STDOUT, stamp(5, 7) + b" ok\n"),
    ]
    assert encode_batch(batch, LineIds(), Skipper(None)) == (
        b"id: 2026-12-03T04:16:05.000000007Z\nevent: stderr\ndata: oops\n\n"
        b"id: 2026-12-03T04:16:05.000000007Z#1\nevent: stdout\ndata: ok\n\n"
    )
