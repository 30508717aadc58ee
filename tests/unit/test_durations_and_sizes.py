"""Durations and sizes are accepted the way people write them, and refused clearly otherwise."""

from __future__ import annotations

import pytest

from app.schemas.common import parse_duration, parse_size, seconds_to_nanoseconds


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        (2.5, 2.5),
        (0, 0.0),
        (30, 30.0),
        ("30", 30.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("250us", 0.00025),
        ("100ns", 1e-7),
        ("2h45m", 9900.0),
    ],
)
def test_durations(given: object, seconds: float) -> None:
    assert parse_duration(given) == pytest.approx(seconds)


@pytest.mark.parametrize("given", ["", "1x", "ms", "-1s", "1m30", "1 m", True, None, [], -2, "inf"])
def test_bad_durations(given: object) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(given)


def test_health_check_times_are_nanoseconds() -> None:
    assert seconds_to_nanoseconds(parse_duration("1m30s")) == 90_000_000_000
    assert seconds_to_nanoseconds(parse_duration("500ms")) == 500_000_000


@pytest.mark.parametrize(
    ("given", "size"),
    [
        (268435456, 268435456),
        ("256m", 256 * 1024**2),
        ("1g", 1024**3),
        ("1G", 1024**3),
        ("512k", 512 * 1024),
        ("512KiB", 512 * 1024),
        ("100b", 100),
        ("1.5g", int(1.5 * 1024**3)),
        ("64mb", 64 * 1024**2),
        ("1024", 1024),
    ],
)
def test_sizes(given: object, size: int) -> None:
    assert parse_size(given) == size


@pytest.mark.parametrize("given", ["", "12q", "m", "-5m", "1.2.3g", True, None, -1, 1.5])
def test_bad_sizes(given: object) -> None:
    with pytest.raises(ValueError, match=r"size"):
        parse_size(given)
