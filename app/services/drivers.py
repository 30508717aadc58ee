"""Driver names checked against what the engine has, before any create.

An engine asked for a driver it lacks searches for a plugin of that name for many seconds
before it fails; engine info lists the drivers it has (``Plugins``), so an unknown one is
refused at once. Info is cached briefly per engine client: a burst of creates costs one call.
"""

from __future__ import annotations

import time
import weakref
from typing import Literal

from app.engine import EngineClient
from app.problems import Unprocessable

Kind = Literal["Volume", "Network"]
TTL_SECONDS = 10.0
# IPAM drivers built into the engine (engine info does not list them).
BUILTIN_IPAM = ("default", "null")

_cache: weakref.WeakKeyDictionary[EngineClient, tuple[float, dict[str, list[str]]]] = (
    weakref.WeakKeyDictionary()
)


async def _plugins(engine: EngineClient) -> dict[str, list[str]]:
    cached = _cache.get(engine)
    if cached is not None and time.monotonic() - cached[0] < TTL_SECONDS:
        return cached[1]
    info = await engine.system.info()
    plugins = {kind: list(names or []) for kind, names in (info.get("Plugins") or {}).items()}
    _cache[engine] = (time.monotonic(), plugins)
    return plugins


async def require(engine: EngineClient, kind: Kind, driver: str, field: str) -> None:
    """422 unless the engine has a ``kind`` driver named ``driver``."""
    known = (await _plugins(engine)).get(kind, [])
    if driver in known:
        return
    message = f"the engine has no {kind.lower()} driver {driver!r} (it has: {', '.join(known)})"
    raise Unprocessable(message, errors=[{"loc": ["body", *field.split(".")], "msg": message}])


async def require_ipam(engine: EngineClient, driver: str) -> None:
    """422 unless ``driver`` is a built-in IPAM driver or a network plugin's."""
    if driver in BUILTIN_IPAM:
        return
    await require(engine, "Network", driver, "ipam.driver")
