"""Shared input types: strict models, durations and sizes as people write them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema


class StrictModel(BaseModel):
    """A request body: unknown fields are refused, never forwarded to the engine."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class View(BaseModel):
    """A response body. Its schema does not forbid other members: clients must tolerate
    fields added in later versions."""

    model_config = ConfigDict(extra="ignore")


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or a Go-style string such as ``1m30s`` or ``500ms``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as '1m30s'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_go_duration(text)
    else:
        raise ValueError("a duration is a number of seconds or a string such as '1m30s'")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("a duration must be finite and not negative")
    return seconds


def _parse_go_duration(text: str) -> float:
    position, total = 0, 0.0
    if not text:
        raise ValueError("empty duration")
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r}: use seconds (2.5) or units ns, us, ms, s, m, h "
                "as in '1m30s'"
            )
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    return total


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: Any) -> int:
    """Bytes from an integer or a string with a binary unit: ``"256m"``, ``"1g"``, ``"512KiB"``."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes or a string such as '256m'")
    if isinstance(value, int):
        size = value
    elif isinstance(value, float) and value.is_integer():
        size = int(value)
    elif isinstance(value, str):
        match = _SIZE.match(value)
        if match is None:
            raise ValueError(
                f"invalid size {value!r}: use bytes (268435456) or a number with a unit "
                "b, k, m, g, t (as in '256m' or '1g')"
            )
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    else:
        raise ValueError("a size is a number of bytes or a string such as '256m'")
    if size < 0:
        raise ValueError("a size must not be negative")
    return size


def _number_or_text(number: str, examples: list[str], description: str) -> WithJsonSchema:
    """The schema of a quantity given as a plain number or as text with a unit."""
    forms = [{"type": number, "minimum": 0}, {"type": "string", "examples": examples}]
    return WithJsonSchema({"anyOf": forms, "description": description})


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    _number_or_text(
        "number",
        ["1m30s", "500ms"],
        "Seconds, or a Go-style duration string such as '1m30s' or '500ms'.",
    ),
]

Size = Annotated[
    int,
    BeforeValidator(parse_size),
    _number_or_text(
        "integer",
        ["256m", "1g"],
        "Bytes, or a number with a binary unit (b, k, m, g, t) such as '256m'.",
    ),
]

NonEmptyStr = Annotated[str, Field(min_length=1)]


def parsed_text(parse: Callable[[str], Any], failure: str) -> Callable[[Any], Any]:
    """A before-validator for a value people may also write as text (a shell command, JSON in a
    query parameter): text is parsed, anything else is left to the field's type."""

    def validate(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except ValueError as exc:
            raise ValueError(f"{failure}: {exc}") from exc

    return validate


def seconds_to_nanoseconds(seconds: float) -> int:
    return round(seconds * 1_000_000_000)


def engine_time(value: str | None) -> datetime | None:
    """An engine timestamp (RFC 3339 with nanoseconds, or the zero time) as UTC, or None."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.rstrip("Z")
    offset = ""
    if "+" in text[10:] or "-" in text[10:]:
        cut = max(text.rfind("+"), text.rfind("-"))
        if cut > 10:
            text, offset = text[:cut], text[cut:]
    if "." in text:
        head, fraction = text.split(".", 1)
        text = head + "." + fraction[:6]
    parsed = datetime.fromisoformat(text + (offset or "+00:00"))
    return parsed.astimezone(UTC)


def unix_time(value: int | float | None) -> datetime | None:
    """A unix timestamp (seconds) as an aware UTC datetime, or None for 0/None."""
    if not value:
        return None
    return datetime.fromtimestamp(value, tz=UTC)
