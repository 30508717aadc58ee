"""API keys: the keys file (hashes only, written atomically with mode 0600) and token checks."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.security.principal import Limits, Principal, Profile, Role, RoleName, Scope

TOKEN_PREFIX = "dyk"
# Compared against when the id is unknown, so a miss costs the same as a wrong secret.
_DUMMY_HASH = hashlib.sha256(b"dockyard-no-such-key").hexdigest()


class KeyLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    memory: int | None = Field(default=None, ge=0, description="Bytes")
    cpus: float | None = Field(default=None, gt=0)
    pids: int | None = Field(default=None, ge=1)


class ApiKey(BaseModel):
    """One key as stored: never the token, only its SHA-256 (the token is 256 random bits)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    sha256: str
    role: RoleName
    profile: Profile = "baseline"
    scope: Scope = "all"
    expires: datetime | None = None
    images: list[str] = Field(default_factory=list)
    limits: KeyLimits = Field(default_factory=KeyLimits)
    revoked: bool = False
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    description: str = ""

    def usable(self, now: datetime) -> bool:
        return not self.revoked and (self.expires is None or now < self.expires)

    def principal(self) -> Principal:
        return Principal(
            key_id=self.id,
            role=Role.named(self.role),
            profile=self.profile,
            scope=self.scope,
            images=tuple(self.images),
            limits=Limits(memory=self.limits.memory, cpus=self.limits.cpus, pids=self.limits.pids),
        )


class KeysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[ApiKey] = Field(default_factory=list)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(key_id: str) -> str:
    return f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(token: str) -> str | None:
    """The id a token names (``dyk_<id>_<secret>``), or None when it is not one of ours."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


class KeyStore:
    """The keys file, re-read when it changes on disk (so a revocation by the CLI takes effect)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys: dict[str, ApiKey] = {}

    # ------------------------------------------------------------------ reading

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _current(self) -> dict[str, ApiKey]:
        """The keys by id, re-read when the file changed (one stat per call)."""
        with self._lock:
            stamp = self._file_stamp()
            if stamp != self._stamp:
                self._keys = {k.id: k for k in self._read().keys}
                self._stamp = stamp
            return self._keys

    def keys(self) -> list[ApiKey]:
        """Every key in the file, current as of now."""
        return list(self._current().values())

    def _read(self) -> KeysFile:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return KeysFile()
        return KeysFile.model_validate_json(text) if text.strip() else KeysFile()

    def authenticate(self, token: str, now: datetime | None = None) -> ApiKey | None:
        """The usable key this token belongs to, or None; the hash compare is constant-time."""
        now = now or datetime.now(UTC)
        key_id = key_id_of(token)
        # A lookup by id, not a scan: each request pays the same with ten keys or ten thousand.
        key = self._current().get(key_id or "")
        expected = key.sha256 if key is not None else _DUMMY_HASH
        matches = hmac.compare_digest(token_hash(token), expected)
        if key is None or not matches or not key.usable(now):
            return None
        return key

    # ------------------------------------------------------------------ writing

    def _write(self, data: KeysFile) -> None:
        """Replace the file atomically; it is created 0600 and never readable by others."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data.model_dump(mode="json"), indent=2) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def create(
        self,
        *,
        role: RoleName,
        profile: Profile = "baseline",
        scope: Scope = "all",
        expires: datetime | None = None,
        images: list[str] | None = None,
        limits: KeyLimits | None = None,
        description: str = "",
    ) -> tuple[ApiKey, str]:
        """Mint a key; the token is returned once and only its hash is stored."""
        with self._lock:
            data = self._read()
            taken = {k.id for k in data.keys}
            key_id = secrets.token_hex(6)
            while key_id in taken:
                key_id = secrets.token_hex(6)
            token = new_token(key_id)
            key = ApiKey(
                id=key_id,
                sha256=token_hash(token),
                role=role,
                profile=profile,
                scope=scope,
                expires=expires,
                images=list(images or []),
                limits=limits or KeyLimits(),
                description=description,
            )
            data.keys.append(key)
            self._write(data)
            self._stamp = None
            return key, token

    def revoke(self, key_id: str) -> ApiKey | None:
        """Mark a key revoked (kept in the file so the audit trail still names it)."""
        with self._lock:
            data = self._read()
            for index, key in enumerate(data.keys):
                if key.id == key_id:
                    data.keys[index] = key.model_copy(update={"revoked": True})
                    self._write(data)
                    self._stamp = None
                    return data.keys[index]
            return None


def ensure_first_key(store: KeyStore) -> str | None:
    """With no keys at all, mint one admin key and return its token (to be shown once)."""
    if store.keys():
        return None
    _, token = store.create(role="admin", profile="baseline", scope="all", description="first key")
    return token
