"""Who is calling: the roles, profiles and scopes a key carries, and the principal built from it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

Profile = Literal["baseline", "restricted", "privileged"]
Scope = Literal["own", "all"]
RoleName = Literal["viewer", "operator", "admin"]


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    viewer = 1
    operator = 2
    admin = 3

    @classmethod
    def named(cls, name: str) -> Role:
        return cls[name]


@dataclass(frozen=True)
class Limits:
    """Per-key ceilings on what one container may use (None: no ceiling)."""

    memory: int | None = None
    cpus: float | None = None
    pids: int | None = None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the handlers and the policy see it (never the secret)."""

    key_id: str
    role: Role
    profile: Profile = "baseline"
    scope: Scope = "all"
    images: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)

    @property
    def sees_environment(self) -> bool:
        """Environment values often hold secrets: only operators and admins see them."""
        return self.role >= Role.operator

    @property
    def owns_only(self) -> bool:
        return self.scope == "own"


# The key of the request being served, for code far from the request (the stream registry's
# per-key limit); the security middleware sets it once the key is authenticated.
current_key_id: ContextVar[str | None] = ContextVar("current_key_id", default=None)
