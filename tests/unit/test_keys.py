"""API keys: stored hashed with mode 0600, checked in constant time, revocable, expiring."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.__main__ import main as cli
from app.security.keys import KeyStore, ensure_first_key
from app.settings import Settings
from app.streams.tickets import StreamLimiter


def test_the_file_holds_hashes_only_with_mode_0600(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "sub" / "keys.json")
    key, token = store.create(role="operator", profile="restricted", scope="own")
    text = store.path.read_text()
    assert token not in text
    assert token.split("_", 2)[2] not in text
    assert key.sha256 in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert list(store.path.parent.iterdir()) == [store.path]  # no temp file left behind


def test_authenticate_accepts_only_the_exact_usable_token(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, token = store.create(role="viewer")
    assert store.authenticate(token) == key
    assert store.authenticate(token + "x") is None
    assert store.authenticate(token[:-1]) is None
    assert store.authenticate(f"dyk_nosuchid_{token.split('_', 2)[2]}") is None
    assert store.authenticate("not-a-dockyard-token") is None
    assert store.revoke(key.id) is not None
    assert store.authenticate(token) is None
    assert store.revoke("nosuchid") is None


def test_expired_keys_are_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    soon = datetime.now(UTC) + timedelta(hours=1)
    _, token = store.create(role="admin", expires=soon)
    assert store.authenticate(token) is not None
    assert store.authenticate(token, now=soon + timedelta(seconds=1)) is None


def test_a_second_store_sees_a_revocation_made_by_the_first(tmp_path: Path) -> None:
    server_view, cli_view = KeyStore(tmp_path / "k.json"), KeyStore(tmp_path / "k.json")
    key, token = cli_view.create(role="admin")
    assert server_view.authenticate(token) is not None
    cli_view.revoke(key.id)
    assert server_view.authenticate(token) is None


def test_first_start_mints_one_admin_key_once(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    token = ensure_first_key(store)
    assert token is not None
    key = store.authenticate(token)
    assert key is not None
    assert key.role == "admin"
    assert ensure_first_key(store) is None
    assert len(store.keys()) == 1


def test_cli_create_list_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKYARD_KEYS_FILE", str(tmp_path / "keys.json"))
    argv = ["keys", "create", "--role", "operator", "--profile", "restricted", "--scope", "own"]
    assert cli([*argv, "--expires", "720h", "--images", "busybox:*", "--memory", "512m"]) == 0
    created = capsys.readouterr().out
    token = created.split("token: ")[1].split()[0]
    store = KeyStore(Settings().keys_file)
    key = store.authenticate(token)
    assert key is not None
    assert (key.role, key.profile, key.scope, key.images) == (
        "operator",
        "restricted",
        "own",
        ["busybox:*"],
    )
    assert key.limits.memory == 512 * 2**20
    assert key.expires is not None
    assert cli(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key.id in listing
    assert "active" in listing
    assert token not in listing
    assert cli(["keys", "revoke", key.id]) == 0
    assert store.authenticate(token) is None
    assert cli(["keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_stream_limiter_counts_per_key() -> None:
    limiter = StreamLimiter(per_key=2)
    assert limiter.try_acquire("a")
    assert limiter.try_acquire("a")
    assert not limiter.try_acquire("a")
    assert limiter.try_acquire("b")  # another key has its own allowance
    limiter.release("a")
    assert limiter.try_acquire("a")
    assert not limiter.try_acquire("a")
