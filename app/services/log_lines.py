"""Pure log-line handling: engine timestamps, event ids with ``#n``, resuming after an id.

The engine stamps every log message with a fixed-width RFC 3339 time (nanoseconds, ``Z``). A
long line is split into 16 KiB partial messages that share one timestamp, and stdout and stderr
are stamped by different goroutines, so neither uniqueness nor strict order can be assumed:
the n-th message with a given timestamp gets the id ``TS#n`` (the first plain ``TS``), and a
resume re-reads from a little before ``TS`` and skips everything up to and including that id.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.schemas.common import parse_duration

TS_WIDTH = 30  # "2006-01-02T15:04:05.000000000Z"
# Messages stamped up to this long before the resume point may still come after it in the log.
RESUME_MARGIN_NS = 1_000_000_000
_ID = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)(?:#(\d{1,9}))?$")
_UNIX = re.compile(r"^\d{1,12}(\.\d{1,9})?$")


def ts_to_ns(ts: bytes | str) -> int:
    """Nanoseconds since the epoch of a fixed-width engine timestamp."""
    text = ts.decode("ascii") if isinstance(ts, bytes) else ts
    seconds = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int(text[20:29])


def ns_to_param(ns: int) -> str:
    """The engine's ``since``/``until`` form: ``seconds.nanoseconds``."""
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


def time_param(value: str, *, now: float | None = None) -> str:
    """``since``/``until`` as written (RFC 3339, unix seconds, ``10m`` ago) in the engine's form.

    Raises ValueError with a message fit for the client.
    """
    text = value.strip()
    if _UNIX.match(text):
        whole, _, fraction = text.partition(".")
        return f"{int(whole)}.{fraction.ljust(9, '0')}"
    if text[:1].isdigit() and "T" not in text and "-" not in text:
        ago = parse_duration(text)  # raises ValueError for nonsense
        moment = (time.time() if now is None else now) - ago
        return ns_to_param(round(moment * 1_000_000_000))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"invalid time {value!r}: use RFC 3339, unix seconds, or a duration like '10m'"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    nanos = _fraction_nanos(text)
    return f"{int(parsed.timestamp())}.{nanos:09d}"


def _fraction_nanos(text: str) -> int:
    # datetime keeps microseconds only; the engine's ids have nanoseconds.
    match = re.search(r"T\d\d:\d\d:\d\d\.(\d+)", text)
    return int(match.group(1)[:9].ljust(9, "0")) if match else 0


@dataclass(frozen=True)
class ResumePoint:
    """The last event id a client saw: a timestamp and its ``#n``."""

    ts: bytes
    n: int

    @classmethod
    def parse(cls, last_event_id: str) -> ResumePoint:
        match = _ID.match(last_event_id.strip())
        if match is None:
            raise ValueError(
                "Last-Event-ID is not a log event id (RFC 3339 with nanoseconds, optional #n)"
            )
        return cls(match.group(1).encode("ascii"), int(match.group(2) or 0))

    @property
    def id(self) -> bytes:
        return self.ts + (b"#%d" % self.n if self.n else b"")

    def since_param(self) -> str:
        return ns_to_param(max(ts_to_ns(self.ts) - RESUME_MARGIN_NS, 0))


# LineIds remembers this many timestamps; reaching it, it forgets the oldest _FORGET of them.
_REMEMBER = 512
_FORGET = 256


@dataclass
class LineIds:
    """Gives each message its id: the timestamp, plus ``#n`` for the n-th repeat of it."""

    _seen: dict[bytes, int] = field(default_factory=dict)

    def assign(self, ts: bytes) -> bytes:
        count = self._seen.get(ts)
        if count is None:
            if len(self._seen) >= _REMEMBER:
                # Repeats are microseconds apart: old timestamps will not come back.
                for old in list(self._seen)[:_FORGET]:
                    del self._seen[old]
            self._seen[ts] = 0
            return ts
        count += 1
        self._seen[ts] = count
        return ts + b"#%d" % count

    def assign_new(self, stamps: list[bytes]) -> bool:
        """True when no timestamp in ``stamps`` repeats (one seen before, or twice in it): then
        each one's id is itself, and they are remembered as ``assign`` would, one by one.
        False otherwise, and nothing changes. Whole-list operations instead of a call a line.
        """
        seen = self._seen
        if len(set(stamps)) != len(stamps) or not seen.keys().isdisjoint(stamps):
            return False
        total = len(seen) + len(stamps)
        if total <= _REMEMBER:
            seen.update(dict.fromkeys(stamps, 0))
            return True
        # ``assign`` forgets the oldest _FORGET each time it reaches _REMEMBER: what it keeps
        # in the end is the newest ``kept`` of the old timestamps and these, in order.
        kept = _REMEMBER - _FORGET + 1 + (total - _REMEMBER - 1) % _FORGET
        older = kept - len(stamps)
        fresh = dict(list(seen.items())[len(seen) - older :]) if older > 0 else {}
        fresh.update(dict.fromkeys(stamps[max(-older, 0) :], 0))
        self._seen = fresh
        return True


@dataclass
class Skipper:
    """Drops messages up to and including the resume point, then lets everything through."""

    point: ResumePoint | None
    passed: bool = False
    _limit_ns: int = 0

    def __post_init__(self) -> None:
        if self.point is None:
            self.passed = True
        else:
            self._limit_ns = ts_to_ns(self.point.ts) + RESUME_MARGIN_NS

    def keep(self, ts: bytes, line_id: bytes) -> bool:
        if self.passed:
            return True
        assert self.point is not None
        if line_id == self.point.id:
            self.passed = True
            return False
        if ts_to_ns(ts) > self._limit_ns:
            # The resume point is gone (rotated away): carry on from here rather than stall.
            self.passed = True
            return True
        return False


def split_message(payload: bytes) -> tuple[bytes, bytes]:
    """(timestamp, text without its line ending) of one timestamped engine message."""
    if payload[TS_WIDTH - 1 : TS_WIDTH + 1] == b"Z ":
        ts, start = payload[:TS_WIDTH], TS_WIDTH + 1
    else:
        ts, _, text = payload.partition(b" ")
        start = len(payload) - len(text)
    # One slice for the text, its line ending cut off in the same copy (once per log line).
    end = len(payload)
    if payload.endswith(b"\n", start):
        end -= 1
    if payload.endswith(b"\r", start, end):
        end -= 1
    return ts, payload[start:end]


class TtyLines:
    """A TTY log stream is not multiplexed: split it on newlines into messages."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        return [line + b"\n" for line in lines]

    def flush(self) -> list[bytes]:
        rest, self._partial = self._partial, b""
        return [rest] if rest else []
