"""The pull policy of create and run (``docker run --pull``): the image is there before the
container is made.

A pull goes through what the caller was already admitted for (the key's image allowlist is
checked on the spec's ``image`` before this runs) and the registry credentials of the server's
configuration, never the request's.
"""

from __future__ import annotations

from app.engine import EngineClient, EngineError, is_status
from app.schemas.containers import PullPolicy
from app.schemas.images import PullSpec
from app.services import images
from app.services.images import Transfer
from app.settings import Settings


async def needs_pull(engine: EngineClient, image: str, policy: PullPolicy) -> bool:
    """Whether ``policy`` asks for a pull of ``image`` now."""
    if policy == "never":
        return False
    if policy == "always":
        return True
    try:
        await engine.images.inspect(image)
    except EngineError as exc:
        if is_status(exc, 404):
            return True
        raise
    return False


async def open_pull(engine: EngineClient, image: str, settings: Settings) -> Transfer:
    """Start pulling ``image`` (its progress is the caller's to read or drain)."""
    return await images.open_pull(engine, PullSpec(image=image), settings)


async def ensure_image(
    engine: EngineClient, image: str, policy: PullPolicy, settings: Settings
) -> None:
    """Pull ``image`` to the end when ``policy`` says so; a registry without it is 404
    image-not-found."""
    if await needs_pull(engine, image, policy):
        await images.finish(engine, await open_pull(engine, image, settings))
