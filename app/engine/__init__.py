"""Everything that speaks to the Docker engine lives here; ``EngineClient`` is the API."""

from app.engine.client import EngineClient
from app.engine.sockets import EngineSocket
from app.engine.transport import ENGINE_FAILURES, EngineError, EngineStream, is_status

__all__ = [
    "ENGINE_FAILURES",
    "EngineClient",
    "EngineError",
    "EngineSocket",
    "EngineStream",
    "is_status",
]
