"""Idempotency-Key for POSTs: the same key and body replay the first answer; another body is 422.

A client that retries a create after a timeout must not get two containers. The first answer to a
keyed POST is kept (bounded, for a while) and replayed with ``Idempotent-Replayed: true``.
Answers of 5xx are not kept: those failures are transient and a retry should run again.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.problem_responses import problem_response
from app.problems import IdempotencyKeyInProgress, IdempotencyKeyReused, Problem, Unprocessable

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
MAX_BODY_BYTES = 1024 * 1024  # keyed bodies are JSON specs; a larger body is not made idempotent


@dataclass
class StoredAnswer:
    fingerprint: str
    created: float
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    done: bool = False


class IdempotencyStore:
    """Answers by key, oldest evicted first, each kept for ``ttl`` seconds."""

    def __init__(self, capacity: int = 10_000, ttl: float = 24 * 3600) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._answers: OrderedDict[str, StoredAnswer] = OrderedDict()

    def get(self, key: str) -> StoredAnswer | None:
        answer = self._answers.get(key)
        if answer is not None and time.monotonic() - answer.created > self.ttl:
            del self._answers[key]
            return None
        return answer

    def reserve(self, key: str, fingerprint: str) -> StoredAnswer:
        answer = StoredAnswer(fingerprint=fingerprint, created=time.monotonic())
        self._answers[key] = answer
        while len(self._answers) > self.capacity:
            self._answers.popitem(last=False)
        return answer

    def forget(self, key: str) -> None:
        self._answers.pop(key, None)


class IdempotencyMiddleware:
    """Applies to ``POST /v1/...`` requests that carry an ``Idempotency-Key`` header."""

    def __init__(self, app: ASGIApp, store: IdempotencyStore | None = None) -> None:
        self.app = app
        self.store = store or IdempotencyStore()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(HEADER)
        if given is None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        key_text = given.decode("latin-1")
        if not 0 < len(key_text) <= MAX_KEY_LENGTH:
            problem: Problem = Unprocessable(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
            )
            await problem_response(problem, path)(scope, receive, send)
            return

        body, more = await _read_body(receive, MAX_BODY_BYTES)
        if more:
            # Too large to remember: serve it as an ordinary request.
            await self.app(scope, _replay(body, receive, more=True), send)
            return
        # Keys are per caller (the credentials) and per route: one client's key never collides
        # with another's, nor one route's with another's.
        caller = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()
        store_key = f"{caller}:{path}:{key_text}"
        fingerprint = hashlib.sha256(scope.get("query_string", b"") + b"\0" + body).hexdigest()

        stored = self.store.get(store_key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                problem = IdempotencyKeyReused(
                    "this Idempotency-Key was used with a different request body"
                )
                await problem_response(problem, path)(scope, receive, send)
            elif not stored.done:
                problem = IdempotencyKeyInProgress(
                    "a request with this Idempotency-Key is still being processed"
                )
                await problem_response(problem, path)(scope, receive, send)
            else:
                await _send_stored(send, stored)
            return

        answer = self.store.reserve(store_key, fingerprint)
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal keep
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = list(message.get("headers", []))
                content_type = dict(answer.headers).get(b"content-type", b"")
                keep = answer.status < 500 and not content_type.startswith(b"text/event-stream")
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), capture)
        finally:
            if keep and answer.status:
                answer.body = b"".join(chunks)
                answer.done = True
            else:
                self.store.forget(store_key)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Up to about ``limit`` bytes of the body, and whether more of it is still unread."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(body), False
        body += message.get("body", b"")
        more = bool(message.get("more_body", False))
        if not more or len(body) > limit:
            return bytes(body), more


def _replay(body: bytes, receive: Receive, *, more: bool = False) -> Receive:
    """A receive callable that hands over what was already read, then defers to the client."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed


async def _send_stored(send: Send, stored: StoredAnswer) -> None:
    headers = [(k, v) for k, v in stored.headers if k.lower() != b"x-request-id"]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})
