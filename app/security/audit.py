"""The audit trail: one JSON line per mutating call and per denial, to a file and live subscribers.

Records carry ids, decisions and rule names only: never a token, a hash, a body or an
environment value.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.security.policy import Violation
from app.streams.hub import FanOut, Subscription

Decision = Literal["allow", "deny"]


class AuditRecord(BaseModel):
    # Records written by later versions may carry more fields; readers keep what they know.
    model_config = ConfigDict(extra="ignore")

    time: datetime
    request_id: str
    key_id: str | None
    role: str | None
    action: str
    target_id: str | None
    profile: str | None
    decision: Decision
    violations: list[Violation]
    status: int


@dataclass
class AuditNote:
    """What a handler learns that the audit record needs (set during the request)."""

    target_id: str | None = None
    violations: list[Violation] = field(default_factory=list)


_note: ContextVar[AuditNote | None] = ContextVar("audit_note", default=None)


def current_note() -> AuditNote:
    """The note of the request being served (a throwaway one outside a request)."""
    return _note.get() or AuditNote()


@contextlib.contextmanager
def noting(note: AuditNote) -> Iterator[AuditNote]:
    token = _note.set(note)
    try:
        yield note
    finally:
        _note.reset(token)


def note_target(target_id: str) -> None:
    current_note().target_id = target_id


class AuditLog:
    """Appends records to a JSON-lines file (0600) and fans them out to bounded readers."""

    def __init__(self, path: Path, *, queue_size: int = 1000) -> None:
        self.path = path
        self.queue_size = queue_size
        self._lock = threading.Lock()
        # A reader too far behind is cut off rather than letting memory grow.
        self._readers = FanOut[AuditRecord](queue_size)

    def record(self, entry: AuditRecord) -> None:
        line = entry.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        self._readers.publish(entry)

    def read(
        self,
        *,
        key_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditRecord]:
        """The newest ``limit`` records that pass the filters, oldest first.

        Reads the file backwards in blocks, so a long trail costs only what is returned; a line
        that is not a whole record (cut by a crash, or a block starting mid-record) is skipped,
        never an error: the trail must always be readable.
        """
        out: list[AuditRecord] = []
        for line in self._lines_newest_first():
            entry = _parse(line)
            if entry is None:
                continue
            if matches(entry, key_id=key_id, action=action, since=since, until=until):
                out.append(entry)
                if len(out) >= limit:
                    break
        out.reverse()
        return out

    def _lines_newest_first(self) -> Iterator[str]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            end = handle.seek(0, os.SEEK_END)
            rest = b""  # the start of a line whose beginning is in an earlier block
            while end > 0:
                start = max(0, end - _BLOCK)
                handle.seek(start)
                block = handle.read(end - start) + rest
                end = start
                lines = block.split(b"\n")
                # Unless the block starts the file, its first piece may begin mid-line
                # (even mid-character): keep it for the next, earlier block.
                rest = lines.pop(0) if start > 0 else b""
                for raw in reversed(lines):
                    if raw.strip():
                        yield raw.decode("utf-8", errors="replace")

    def subscribe(self) -> Subscription[AuditRecord]:
        """New records from now on (bounded, see ``FanOut``); ``close`` it when done."""
        return self._readers.subscribe()


_BLOCK = 64 * 1024


def _parse(line: str) -> AuditRecord | None:
    """The record on ``line``, or None for a line that is not one (cut short, garbled)."""
    try:
        return AuditRecord.model_validate_json(line)
    except ValueError:
        return None


def matches(
    entry: AuditRecord,
    *,
    key_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> bool:
    return (
        (key_id is None or entry.key_id == key_id)
        and (action is None or entry.action == action)
        and (since is None or entry.time >= since)
        and (until is None or entry.time <= until)
    )
