"""The health cache's rules: transitions once each, stale results dropped, bounded watchers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.health.cache import HealthCache
from app.health.monitor import backoff_delay
from app.health.snapshot import Snapshot, snapshot_as_of, snapshot_from_inspect
from app.problems import Conflict, StreamOverflow
from app.schemas.health import HealthState
from app.services.health import matches_labels

CID = "a" * 64


def snap(status: HealthState, *, cid: str = CID, name: str = "web", **kw: Any) -> Snapshot:
    fields: dict[str, Any] = {
        "container_id": cid,
        "name": name,
        "labels": {},
        "state": "running",
        "has_check": True,
        "status": status,
        "failing_streak": 0 if status != "unhealthy" else 3,
        "last_output": "ok\n" if status != "unhealthy" else "missing\n",
        "last_exit_code": 0 if status != "unhealthy" else 1,
        "last_check_at": None,
        "since": None,
    }
    fields.update(kw)
    return Snapshot(**fields)


def test_a_transition_is_reported_once_with_the_probe_output() -> None:
    cache = HealthCache()
    first = cache.apply(snap("healthy"), issued=1)
    assert first is not None
    assert (first.from_, first.to) == ("none", "healthy")
    assert cache.apply(snap("healthy"), issued=2) is None  # same status: no duplicate
    went = cache.apply(snap("unhealthy"), issued=3)
    assert went is not None
    assert (went.from_, went.to, went.last_output, went.failing_streak) == (
        "healthy",
        "unhealthy",
        "missing\n",
        3,
    )
    assert went.model_dump(by_alias=True)["from"] == "healthy"
    entry = cache.get(CID)
    assert entry is not None
    assert entry.changed_at == went.at


def test_an_older_result_never_overwrites_a_newer_one() -> None:
    cache = HealthCache()
    cache.apply(snap("unhealthy"), issued=2)
    assert cache.apply(snap("healthy"), issued=1) is None
    entry = cache.get(CID)
    assert entry is not None
    assert entry.snap.status == "unhealthy"


def test_a_result_issued_before_removal_does_not_resurrect() -> None:
    cache = HealthCache()
    cache.apply(snap("healthy"), issued=1)
    cache.discard(CID, issued=5)
    assert cache.apply(snap("healthy"), issued=4) is None
    assert cache.get(CID) is None
    cache.apply(snap("starting"), issued=6)  # a new run with the same id, seen later
    assert cache.get(CID) is not None


def test_a_listing_drops_only_what_it_should_have_seen() -> None:
    cache = HealthCache()
    old, new = "b" * 64, "c" * 64
    cache.apply(snap("healthy", cid=old), issued=1)
    cache.apply(snap("healthy", cid=new), issued=10)  # created after the listing was issued
    cache.discard_missing([], issued=5)
    assert cache.get(old) is None
    assert cache.get(new) is not None


def test_resolve_like_the_engine() -> None:
    cache = HealthCache()
    cache.apply(snap("healthy", cid="abc1" + "0" * 60, name="web"), issued=1)
    cache.apply(snap("healthy", cid="abc2" + "0" * 60, name="db"), issued=1)
    assert cache.resolve("web") is not None
    assert cache.resolve("/db") is not None
    found = cache.resolve("abc1")
    assert found is not None
    assert found.snap.name == "web"
    assert cache.resolve("zzz") is None
    with pytest.raises(Conflict):
        cache.resolve("abc")


async def test_a_slow_watcher_is_cut_off_not_blocking() -> None:
    cache = HealthCache()
    slow = cache.subscribe(2)
    statuses: list[HealthState] = ["starting", "healthy", "unhealthy", "healthy"]
    for issued, status in enumerate(statuses):
        cache.apply(snap(status), issued=issued)
    # Cut off at once: the next read is the overflow problem, not the stale buffer.
    with pytest.raises(StreamOverflow):
        await slow.get()
    fresh = cache.subscribe(2)
    cache.apply(snap("unhealthy"), issued=10)
    assert (await fresh.get()).to == "unhealthy"
    with pytest.raises(StreamOverflow):  # no longer subscribed: still cut off
        await slow.get()


def test_waiters_are_woken_by_a_change() -> None:
    cache = HealthCache()
    cache.apply(snap("starting"), issued=1)
    signal = cache.changed(CID)
    assert not signal.is_set()
    cache.apply(snap("healthy"), issued=2)
    assert signal.is_set()
    assert not cache.changed(CID).is_set()  # a fresh signal for the next change


def test_confirm_advances_observed_at_only() -> None:
    cache = HealthCache()
    cache.apply(replace(snap("unhealthy"), state="exited"), issued=1)
    entry = cache.get(CID)
    assert entry is not None
    cache.confirm(CID, issued=2)
    later = cache.get(CID)
    assert later is not None
    assert later.observed_at >= entry.observed_at
    assert later.snap == entry.snap


def _doc(health: dict[str, Any] | None, test: list[str] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Status": "running", "StartedAt": "2025-01-01T00:00:00.5Z"}
    if health is not None:
        state["Health"] = health
    return {
        "Id": CID,
        "Name": "/web",
        "State": state,
        "Config": {"Labels": {"a": "b"}, "Healthcheck": {"Test": test} if test else None},
    }


def test_snapshot_of_a_container_without_check() -> None:
    s = snapshot_from_inspect(_doc(None))
    assert (s.status, s.has_check, s.name, s.labels) == ("none", False, "web", {"a": "b"})
    assert snapshot_from_inspect(_doc(None, ["NONE"])).has_check is False


def test_snapshot_takes_the_last_probe_and_estimates_since() -> None:
    log = [
        {"End": "2025-01-01T00:00:01Z", "ExitCode": 0, "Output": "ok\n"},
        {"End": "2025-01-01T00:00:02Z", "ExitCode": 1, "Output": "bad\n"},
        {"End": "2025-01-01T00:00:03Z", "ExitCode": 1, "Output": "worse\n"},
    ]
    health = {"Status": "unhealthy", "FailingStreak": 2, "Log": log}
    s = snapshot_from_inspect(_doc(health, ["CMD-SHELL", "x"]))
    assert (s.status, s.failing_streak, s.last_output, s.last_exit_code) == (
        "unhealthy",
        2,
        "worse\n",
        1,
    )
    assert s.since is not None
    assert s.since.second == 2
    assert s.last_check_at is not None
    assert s.last_check_at.second == 3


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    for attempt in range(12):
        ceiling = min(8.0, 0.5 * 2**attempt)
        delay = backoff_delay(attempt, 0.5, 8.0)
        assert ceiling / 2 <= delay <= ceiling
    assert len({backoff_delay(6, 0.5, 8.0) for _ in range(20)}) > 1


def test_label_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert matches_labels(labels, ["app", "tier=front"])
    assert not matches_labels(labels, ["app=db"])
    assert not matches_labels(labels, ["missing"])
    assert matches_labels(labels, [])


def test_snapshot_as_of_an_event_rebuilds_that_moment_from_the_log() -> None:
    log = [
        {"End": "2025-01-01T00:00:01Z", "ExitCode": 0, "Output": "ok\n"},
        {"End": "2025-01-01T00:00:02Z", "ExitCode": 1, "Output": "missing\n"},
        {"End": "2025-01-01T00:00:03Z", "ExitCode": 0, "Output": "ok again\n"},
    ]
    doc = _doc({"Status": "healthy", "FailingStreak": 0, "Log": log}, ["CMD-SHELL", "x"])
    at = datetime(2025, 1, 1, 0, 0, 2, 500000, tzinfo=UTC)
    then = snapshot_as_of(doc, "unhealthy", at)
    assert (then.status, then.failing_streak, then.last_output, then.last_exit_code) == (
        "unhealthy",
        1,
        "missing\n",
        1,
    )
    assert then.since == at
