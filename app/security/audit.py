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
    model_config = ConfigDict(extra="forbid")

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
        """The newest ``limit`` records that pass the filters, oldest first."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out: list[AuditRecord] = []
        for line in reversed(lines):
            if not line.strip():
                continue
            entry = AuditRecord.model_validate_json(line)
            if matches(entry, key_id=key_id, action=action, since=since, until=until):
                out.append(entry)
                if len(out) >= limit:
                    break
        out.reverse()
        return out

    def subscribe(self) -> Subscription[AuditRecord]:
        """New records from now on (bounded, see ``FanOut``); ``close`` it when done."""
        return self._readers.subscribe()


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
