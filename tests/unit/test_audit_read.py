"""The audit trail stays readable whatever the file holds: cut records, bad bytes, long lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.security import audit
from app.security.audit import AuditLog, AuditRecord


def _record(action: str, request_id: str = "r") -> AuditRecord:
    return AuditRecord(
        time=datetime(2026, 1, 1, tzinfo=UTC),
        request_id=request_id,
        key_id="k1",
        role="admin",
        action=action,
        target_id=None,
        profile=None,
        decision="allow",
        violations=[],
        status=200,
    )


def test_a_trail_that_starts_mid_record_and_mid_character_is_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    whole = (_record("créé-" + "é" * 50).model_dump_json() + "\n").encode()
    # The file starts in the middle of a record, inside a two-byte character.
    cut = whole[whole.index("é".encode()) + 1 :]
    path.write_bytes(cut + b"\xff\xfe not json\n" + whole)
    log = AuditLog(path)
    assert [r.action for r in log.read()] == ["créé-" + "é" * 50]


def test_records_are_found_across_block_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for n in range(40):
        log.record(_record(f"a{n}", request_id="x" * (n * 7)))
    monkeypatch.setattr(audit, "_BLOCK", 97)  # far smaller than a record: lines span blocks
    assert [r.action for r in log.read()] == [f"a{n}" for n in range(40)]
    assert [r.action for r in log.read(limit=3)] == ["a37", "a38", "a39"]


def test_a_missing_trail_is_empty(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "none.jsonl").read() == []
