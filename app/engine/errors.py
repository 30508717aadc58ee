"""Engine failures translated to problems in one place: the contract's error mapping."""

from __future__ import annotations

import asyncio
import errno
import re
import ssl

import aiohttp
from aiodocker.exceptions import DockerError

from app.problems import (
    BadRequest,
    BuildFailed,
    Conflict,
    EngineFailure,
    EngineTimeout,
    EngineUnavailable,
    ImageNotFound,
    NotFound,
    Problem,
    SwarmInactive,
    Unprocessable,
)

UNREACHABLE = 900  # aiodocker's status for "could not connect"

# What the engine layer raises; the HTTP layer renders each through problem_from_exception.
ENGINE_EXCEPTIONS: tuple[type[Exception], ...] = (DockerError, TimeoutError, aiohttp.ClientError)

# An id prefix that names more than one object is a conflict whatever status the engine gives
# it (500 for containers, 400 "network ... is ambiguous" for networks): one answer, 409.
_AMBIGUOUS_HINTS = ("Multiple IDs found", "is ambiguous", "ambiguous digest")

# The engine answers 500 for many failures the caller can fix; its message says which. The one
# table of those (checked in order, after the engine's own 4xx statuses): never a 5xx for
# something the client can fix.
_CLIENT_ERRORS: tuple[tuple[str, type[Problem]], ...] = (
    # A resource in the wrong state, or in use.
    ("port is already allocated", Conflict),
    ("address already in use", Conflict),
    ("is already in use", Conflict),
    ("is not paused", Conflict),  # unpause
    ("is already paused", Conflict),  # pause
    ("is not running", Conflict),  # pause, exec, kill
    ("is paused", Conflict),  # stop, kill, exec of a paused container
    ("is not connected to", Conflict),  # network disconnect
    # Input the engine could not use.
    ("Cannot locate specified Dockerfile", BadRequest),
    ("Error processing tar file", BadRequest),  # a tar body that is not one
    ("invalid --security-opt", Unprocessable),
    ("ps: error", Unprocessable),  # top: ps_args the container's ps does not take
    ("failed to parse value as time or duration", Unprocessable),  # prune until
)

# A swarm call on an engine that is not a swarm manager: a 503 the engine words this way (on a
# node in no swarm and on a worker alike). The one place it becomes ``swarm-inactive``.
_NOT_MANAGER = "not a swarm manager"
SWARM_INACTIVE_DETAIL = (
    "the Docker engine behind Dockyard is not a swarm manager: run 'docker swarm init' on it, "
    "or point DOCKYARD_ENGINE_URL at a manager node of the cluster"
)


_IN_USE_BY = re.compile(r'already in use by container \\?"?[0-9a-f]{12,64}\\?"?')


def problem_from_docker_error(exc: DockerError, retry_after: int = 5) -> Problem:
    """Map an engine error to the problem the contract promises for it."""
    message = str(exc.message or "").strip() or "the engine gave no message"
    status = exc.status
    if status == UNREACHABLE:
        return EngineUnavailable(
            "the Docker engine is not reachable; try again later",
            headers={"Retry-After": str(retry_after)},
            engine_message=message,
        )
    if status == 503 and _NOT_MANAGER in message:
        return SwarmInactive(SWARM_INACTIVE_DETAIL, engine_message=message)
    if any(hint in message for hint in _AMBIGUOUS_HINTS):
        return Conflict(message)
    if status == 404:
        if any(hint in message.lower() for hint in _IMAGE_MISSING):
            return ImageNotFound(message)
        return NotFound(message)
    if status == 409:
        # Issue 11: "... is already in use by container \"<id>\"" would tell any key the id of a
        # container it may not see; the name is enough to act on.
        return Conflict(_IN_USE_BY.sub("already in use by another container", message))
    if status == 400:
        return BadRequest(message)
    if status == 403:
        # The engine's 403 means "not allowed in this state" (a subnet overlapping another
        # network's pool, removing a predefined network): a conflict with what exists, not an
        # authorisation failure of ours.
        return Conflict(message)
    for hint, problem in _CLIENT_ERRORS:
        if hint in message:
            return problem(_IN_USE_BY.sub("already in use by another container", message))
    return EngineFailure(message, engine_status=status)


# How the engine's 404s say an image is missing: "No such image: x" (inspect, create, tag,
# remove), "An image does not exist locally with the tag: x" (push), "manifest for x not found:
# manifest unknown" and "repository x not found" (a pull the registry cannot serve).
_IMAGE_MISSING = (
    "no such image",
    "an image does not exist locally",
    "manifest unknown",
    "manifest for ",
    "repository does not exist",
    "repository name not known",
)

# Errors inside a pull or push stream arrive as text after a 200; these name a missing image.
_NOT_FOUND_HINTS = (
    "not found",
    "manifest unknown",
    "does not exist",
    "repository name not known",
    "no such image",
)


_BUILD_BASE_MISSING = (
    "manifest unknown",
    "repository does not exist",
    "no such image",
    "not found: manifest",
)


def problem_from_stream_error(operation: str, message: str, log: list[str]) -> Problem:
    """The problem for an error the engine reported inside a pull, push or build stream."""
    message = message.strip() or "the engine gave no message"
    lowered = message.lower()
    if operation == "build":
        # A FROM image the registry does not have; any other failure is the build's own.
        if any(hint in lowered for hint in _BUILD_BASE_MISSING):
            return ImageNotFound(message, log=log)
        return BuildFailed(message, log=log)
    if any(hint in lowered for hint in _NOT_FOUND_HINTS):
        return ImageNotFound(message, log=log)
    return EngineFailure(message, log=log)


_SSL_SOURCE = re.compile(r"\s*\(_ssl\.c:\d+\)$")
# TLS alerts the engine (or a proxy in front of it) sends when it does not accept our certificate.
_RESET_ERRNOS = (errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE)
_CLIENT_CERT_ALERTS = ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "UNKNOWN_CA", "BAD_CERTIFICATE")


def tls_failure(exc: BaseException) -> str | None:
    """Why the TLS handshake with the engine failed, when that is what ``exc`` (or its cause) is.

    aiodocker wraps connection errors in a DockerError(900); the ssl error is in the chain.
    """
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    reset = False
    while todo:
        item = todo.pop()
        if item is None or any(item is old for old in seen) or len(seen) > 16:
            continue
        seen.append(item)
        if isinstance(item, aiohttp.ClientError):
            # aiohttp's TLS errors subclass ssl's but carry the real one inside.
            inner = getattr(item, "certificate_error", None) or getattr(item, "os_error", None)
            todo += [inner, item.__cause__, item.__context__]
            continue
        if isinstance(item, ssl.SSLCertVerificationError):
            why = item.verify_message or _SSL_SOURCE.sub("", str(item))
            return f"engine TLS handshake failed: the engine's certificate was refused ({why})"
        if isinstance(item, ssl.SSLError):
            why = _SSL_SOURCE.sub("", str(item))
            if any(alert in str(item.reason or "") for alert in _CLIENT_CERT_ALERTS):
                why += " (the engine did not accept our client certificate, or got none)"
            return f"engine TLS handshake failed: {why}"
        reset = reset or isinstance(item, ConnectionResetError | ConnectionAbortedError)
        reset = reset or (isinstance(item, OSError) and item.errno in _RESET_ERRNOS)
        todo += [item.__cause__, item.__context__]
    # With TLS 1.3 the engine checks our certificate after our side of the handshake is done: a
    # refusal often reaches us as a reset of the connection, the alert lost on the way.
    if reset and isinstance(exc, DockerError) and "via https://" in str(exc.message):
        return (
            "engine TLS handshake failed: the engine reset the connection right after the "
            "handshake; it probably requires a client certificate that was not presented or "
            "not accepted (check DOCKYARD_ENGINE_TLS_CERT/KEY or DOCKER_CERT_PATH)"
        )
    return None


def problem_from_exception(exc: BaseException, retry_after: int = 5) -> Problem | None:
    """The problem for an engine-side failure, or None when ``exc`` is not one."""
    if (tls := tls_failure(exc)) is not None:
        # A certificate problem does not heal by itself, but an operator may be rotating one.
        return EngineUnavailable(tls, headers={"Retry-After": str(retry_after)})
    if isinstance(exc, DockerError):
        return problem_from_docker_error(exc, retry_after)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return EngineTimeout("the Docker engine did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectionError):
        return EngineUnavailable(
            "the connection to the Docker engine was lost; try again later",
            headers={"Retry-After": str(retry_after)},
        )
    if isinstance(exc, aiohttp.ClientError):
        return EngineFailure(f"the Docker engine sent a bad answer: {exc}")
    return None
