"""Log ids and resume positions: the rules that make Last-Event-ID lossless."""

from __future__ import annotations

import pytest

from app.services.log_lines import (
    LineIds,
    ResumePoint,
    Skipper,
    TtyLines,
    ns_to_param,
    split_message,
    time_param,
    ts_to_ns,
)

T1 = b"2026-01-02T03:04:05.000000001Z"
T2 = b"2026-01-02T03:04:05.000000002Z"
T3 = b"2026-01-02T03:04:07.500000000Z"


def msg(ts: bytes, text: bytes) -> bytes:
    return ts + b" " + text


def test_repeated_timestamps_get_a_counter() -> None:
    lines = LineIds()
    messages = [msg(T1, b"a"), msg(T1, b"b"), msg(T2, b"c"), msg(T1, b"d")]
    ids = [lines.assign(split_message(m)[0]) for m in messages]
    assert ids == [T1, T1 + b"#1", T2, T1 + b"#2"]


def test_resume_skips_up_to_and_including_the_id() -> None:
    messages = [msg(T1, b"a"), msg(T1, b"b"), msg(T1, b"c"), msg(T2, b"d"), msg(T3, b"e")]
    point = ResumePoint.parse((T1 + b"#1").decode())
    ids, skipper = LineIds(), Skipper(point)
    kept = []
    for payload in messages:
        ts, text = split_message(payload)
        if skipper.keep(ts, ids.assign(ts)):
            kept.append(text)
    assert kept == [b"c", b"d", b"e"]


def test_resume_point_that_is_gone_does_not_stall() -> None:
    point = ResumePoint.parse(T1.decode())
    ids, skipper = LineIds(), Skipper(point)
    ts, _ = split_message(msg(T3, b"later"))  # 2.5 s later: beyond the margin
    assert skipper.keep(ts, ids.assign(ts))


def test_resume_reads_from_a_second_before() -> None:
    point = ResumePoint.parse(T3.decode())
    assert point.since_param() == ns_to_param(ts_to_ns(T3) - 1_000_000_000)
    assert point.since_param().endswith(".500000000")


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-01-02T03:04:05Z#x", "12#1"])
def test_bad_last_event_id_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="Last-Event-ID"):
        ResumePoint.parse(bad)


def test_split_message_strips_line_endings() -> None:
    assert split_message(msg(T1, b"hello\r\n")) == (T1, b"hello")
    assert split_message(msg(T1, b"partial")) == (T1, b"partial")


def test_tty_stream_is_split_on_newlines() -> None:
    lines = TtyLines()
    assert lines.feed(msg(T1, b"a\r\n") + T2[:10]) == [msg(T1, b"a\r\n")]
    assert lines.feed(T2[10:] + b" b\r\n") == [msg(T2, b"b\r\n")]
    assert lines.flush() == []


def test_time_params() -> None:
    assert time_param("1700000000") == "1700000000.000000000"
    assert time_param("1700000000.5") == "1700000000.500000000"
    assert time_param("2023-11-14T22:13:20.123456789Z") == "1700000000.123456789"
    assert time_param("10m", now=1700000600.0) == "1700000000.000000000"
    with pytest.raises(ValueError, match="invalid"):
        time_param("last tuesday")
