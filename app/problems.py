"""Every error the API reports, as one exception tree; no framework imports (rendering lives in
``app/http/problem_responses.py``, the engine's failures are mapped in ``app/engine/errors.py``).

Each class fixes an RFC 9457 problem's ``status``, ``type`` (``PROBLEM_BASE`` + ``slug``) and
``title``; an instance adds the ``detail``, response headers and extension members::

    Problem                           500 internal
    ├── BadRequest                    400 bad-request
    ├── Unauthorized                  401 unauthorized                (with WWW-Authenticate)
    ├── Forbidden                     403 forbidden                   (role too low)
    │   └── PolicyDenied              403 policy-denied               (+ violations)
    ├── NotFound                      404 not-found
    │   └── ImageNotFound             404 image-not-found
    ├── MethodNotAllowed              405 method-not-allowed
    ├── NotAcceptable                 406 not-acceptable
    ├── Conflict                      409 conflict                    (in use, wrong state, prefix)
    │   ├── IdempotencyKeyInProgress  409 idempotency-key-in-progress
    │   ├── Unhealthy                 409 unhealthy
    │   └── SwarmInactive             409 swarm-inactive              (engine not a swarm manager)
    ├── PayloadTooLarge               413 payload-too-large
    ├── UnsupportedMediaType          415 unsupported-media-type
    ├── Unprocessable                 422 validation-error            (+ errors)
    │   ├── IdempotencyKeyReused      422 idempotency-key-reused
    │   ├── ContainerFailed           422 container-error
    │   └── BuildFailed               422 build-failed                (+ log)
    ├── TooManyRequests               429 too-many-requests           (any limit; Retry-After)
    ├── HTTPError                     4xx http-error                  (other statuses)
    ├── ServerMisconfigured           500 server-misconfigured
    ├── EngineFailure                 502 engine-error
    ├── EngineUnavailable             503 engine-unavailable          (with Retry-After)
    ├── StreamOverflow                503 overflow                    (a reader fell behind)
    └── EngineTimeout                 504 engine-timeout
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROBLEM_BASE = "https://dockyard.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
CHALLENGE = 'Bearer realm="dockyard"'


class Problem(Exception):
    """Base of every error the API reports; subclasses fix the status, type and title."""

    status: int = 500
    slug: str = "internal"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def document(self, instance: str, request_id: str) -> dict[str, Any]:
        """This problem as an RFC 9457 document about ``instance`` (the request path).

        Extension members come after the standard ones.
        """
        return {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "request_id": request_id,
            **self.extra,
        }


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class PolicyDenied(Forbidden):
    """The spec breaks the key's policy profile; ``violations`` lists every broken rule."""

    slug, title = "policy-denied", "Refused by policy"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class ImageNotFound(NotFound):
    """The image a request names is not on the engine (nor in its registry, when pulled).

    Its own type, so a client can tell a missing image (pull it, or pass ``pull``) from a
    missing container, volume or network, as the Docker SDK's ``ImageNotFound`` does.
    """

    slug, title = "image-not-found", "Image not found"


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class NotAcceptable(Problem):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class IdempotencyKeyInProgress(Conflict):
    """A request with this Idempotency-Key is still being served."""

    slug, title = "idempotency-key-in-progress", "Request in progress"


class Unhealthy(Conflict):
    """A container turned unhealthy (or exited) while a client waited for it to be healthy."""

    slug, title = "unhealthy", "Container is not healthy"


class SwarmInactive(Conflict):
    """A swarm route on an engine that is not a swarm manager (the detail says what to do)."""

    slug, title = "swarm-inactive", "Swarm mode is not active"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "Request is not valid"


class ContainerFailed(Unprocessable):
    """A one-off run with ``check: true`` exited non-zero (the SDK's ``ContainerError``)."""

    slug, title = "container-error", "Container exited with a non-zero status"


class IdempotencyKeyReused(Unprocessable):
    """The Idempotency-Key was used before with another request body."""

    slug, title = "idempotency-key-reused", "Idempotency-Key reused"


class BuildFailed(Unprocessable):
    """A build step failed: ``detail`` is the engine's message, ``log`` the last output lines."""

    slug, title = "build-failed", "Image build failed"


class TooManyRequests(Problem):
    """A limit on concurrent work was reached (the server's or the key's stream limit).

    One type for every such limit, so a client handles all of them the same way: wait for
    ``Retry-After`` and try again.
    """

    status, slug, title = 429, "too-many-requests", "Too many requests"


class HTTPError(Problem):
    """An HTTP error status the framework raised that has no class of its own."""

    slug, title = "http-error", "HTTP error"

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail, headers=headers)
        self.status = status


class ServerMisconfigured(Problem):
    """The operator's configuration cannot be used (e.g. an unreadable credentials file)."""

    status, slug, title = 500, "server-misconfigured", "Server misconfigured"


class EngineFailure(Problem):
    status, slug, title = 502, "engine-error", "Docker engine error"


class EngineUnavailable(Problem):
    status, slug, title = 503, "engine-unavailable", "Docker engine unavailable"


class StreamOverflow(Problem):
    """A stream reader fell further behind than its buffer; it is cut off and should reconnect
    (``/v1/events`` resumes with ``Last-Event-ID``). Sent as the stream's ``error`` event."""

    status, slug, title = 503, "overflow", "Stream overflow"


class EngineTimeout(Problem):
    status, slug, title = 504, "engine-timeout", "Timed out"
