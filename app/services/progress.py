"""Engine progress messages (pull, push, build) normalised into one small event vocabulary."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from app.schemas.images import LogEvent, ProgressEvent

# Per-byte ticks say nothing in a failure report; status changes do.
# The classic builder paints a step's stderr red with terminal escapes; events carry text.
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_TICKS = frozenset({"Downloading", "Extracting", "Pushing", "Waiting", "Verifying Checksum"})


@dataclass
class Progress:
    """Follows one progress stream: what it produced, its last lines, and its error if any."""

    tail_lines: int
    image_id: str | None = None
    digest: str | None = None
    error: str | None = None
    _tail: deque[str] = field(init=False)
    _partial: str = ""

    def __post_init__(self) -> None:
        self._tail = deque(maxlen=self.tail_lines)

    @property
    def log(self) -> list[str]:
        """The last lines of output, for a failure report."""
        return [*self._tail, *([self._partial] if self._partial else [])]

    def feed(self, message: dict[str, Any]) -> list[ProgressEvent | LogEvent]:
        """The events one engine message makes (often none, sometimes several lines)."""
        events: list[ProgressEvent | LogEvent] = []
        if message.get("error") or message.get("errorDetail"):
            detail = message.get("errorDetail") or {}
            self.error = str(message.get("error") or detail.get("message") or "unknown error")
            return events
        aux = message.get("aux")
        if isinstance(aux, dict):
            self._remember(aux)
        text = message.get("stream")
        if isinstance(text, str):
            events.extend(LogEvent(line=line) for line in self._lines(text))
        status = message.get("status")
        if isinstance(status, str):
            events.append(self._status(message, status))
        return events

    def _remember(self, aux: dict[str, Any]) -> None:
        if isinstance(aux.get("ID"), str):
            self.image_id = aux["ID"]  # build: the image it made
        if isinstance(aux.get("Digest"), str):
            self.digest = aux["Digest"]  # push: the manifest digest in the registry

    def _lines(self, text: str) -> list[str]:
        # The builder sends text in arbitrary pieces; events are whole lines.
        *complete, self._partial = (self._partial + _COLOUR.sub("", text)).split("\n")
        lines = [line.rstrip("\r") for line in complete]
        self._tail.extend(lines)
        return lines

    def _status(self, message: dict[str, Any], status: str) -> ProgressEvent:
        layer = message.get("id") if isinstance(message.get("id"), str) else None
        detail = message.get("progressDetail") or {}
        event = ProgressEvent(
            id=layer,
            status=status,
            current=_int(detail.get("current")),
            total=_int(detail.get("total")),
        )
        if status not in _TICKS:
            self._tail.append(f"{layer}: {status}" if layer else status)
        return event

    def flush(self) -> list[LogEvent]:
        """The last partial line, when the stream ends without a newline."""
        if not self._partial:
            return []
        line, self._partial = self._partial, ""
        self._tail.append(line)
        return [LogEvent(line=line)]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


Operation = Literal["pull", "push", "build"]
