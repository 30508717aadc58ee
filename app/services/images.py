"""Image use cases: list, inspect, remove, tag, prune, and pull/push/build as transfers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.engine import EngineClient, EngineStream
from app.engine.errors import problem_from_stream_error
from app.engine.jsonlines import read_messages
from app.problems import PayloadTooLarge
from app.schemas.images import (
    BuildOptions,
    EndEvent,
    Image,
    ImagePruneResult,
    ImageRemoval,
    ImageSummary,
    LogEvent,
    ProgressEvent,
    PullSpec,
    PushSpec,
    TagSpec,
)
from app.security.guard import refuse
from app.security.policy import build_violations
from app.security.principal import Principal
from app.services.image_views import image_view, summary_view
from app.services.progress import Operation, Progress
from app.services.registry_auth import auth_headers, build_headers
from app.settings import Settings


async def list_images(
    engine: EngineClient,
    *,
    dangling: bool | None,
    labels: list[str] | None,
    reference: str | None,
) -> list[ImageSummary]:
    filters: dict[str, list[str]] = {}
    if dangling is not None:
        filters["dangling"] = ["true" if dangling else "false"]
    if labels:
        filters["label"] = labels
    if reference:
        filters["reference"] = [reference]
    return [summary_view(row) for row in await engine.images.list(filters)]


async def inspect(engine: EngineClient, ref: str) -> Image:
    return image_view(await engine.images.inspect(ref))


async def remove(engine: EngineClient, ref: str, *, force: bool, noprune: bool) -> ImageRemoval:
    rows = await engine.images.remove(ref, force=force, noprune=noprune)
    return ImageRemoval(
        untagged=[r["Untagged"] for r in rows if r.get("Untagged")],
        deleted=[r["Deleted"] for r in rows if r.get("Deleted")],
    )


async def tag(engine: EngineClient, ref: str, spec: TagSpec) -> Image:
    await engine.images.tag(ref, spec.repository, spec.tag)
    return await inspect(engine, f"{spec.repository}:{spec.tag}")


async def prune(
    engine: EngineClient, *, dangling: bool, labels: list[str] | None
) -> ImagePruneResult:
    filters: dict[str, list[str]] = {"dangling": ["true" if dangling else "false"]}
    if labels:
        filters["label"] = labels
    result = await engine.images.prune(filters)
    rows = result.get("ImagesDeleted") or []
    return ImagePruneResult(
        deleted=[r["Deleted"] for r in rows if r.get("Deleted")],
        untagged=[r["Untagged"] for r in rows if r.get("Untagged")],
        space_reclaimed=int(result.get("SpaceReclaimed") or 0),
    )


@dataclass
class Transfer:
    """A pull, push or build in flight: it owns the engine's progress stream until closed."""

    operation: Operation
    response: EngineStream
    progress: Progress
    reference: str | None  # the image to report at the end (a build reports what it made)

    async def events(self) -> AsyncIterator[ProgressEvent | LogEvent]:
        """Normalised progress, as the engine reports it."""
        async for message in read_messages(self.response, keep_text=True):
            for event in self.progress.feed(message):
                yield event
        for line in self.progress.flush():
            yield line

    async def outcome(self, engine: EngineClient) -> EndEvent:
        """After the events: the image, or the problem the engine's error makes."""
        progress = self.progress
        if progress.error is not None:
            raise problem_from_stream_error(self.operation, progress.error, progress.log)
        ref = progress.image_id or self.reference
        if ref is None:
            raise problem_from_stream_error(
                self.operation, "the engine reported no image", progress.log
            )
        image = await engine.images.inspect(ref)
        return EndEvent(image_id=image["Id"], reference=self.reference, digest=progress.digest)

    def close(self) -> None:
        self.response.close()


async def finish(engine: EngineClient, transfer: Transfer) -> Image:
    """Wait for a transfer to end and return its image; closes the stream whatever happens."""
    try:
        async for _ in transfer.events():
            pass
        end = await transfer.outcome(engine)
    finally:
        transfer.close()
    return await inspect(engine, end.image_id)


async def open_pull(engine: EngineClient, spec: PullSpec, settings: Settings) -> Transfer:
    """Start a pull; a missing image or refused registry is a problem before any progress."""
    reference = spec.reference()
    response = await engine.images.open_pull(
        spec.image, spec.tag, spec.platform, auth_headers(settings, spec.image)
    )
    return Transfer("pull", response, Progress(settings.build_log_tail_lines), reference)


async def open_push(engine: EngineClient, spec: PushSpec, settings: Settings) -> Transfer:
    # Resolve first: the engine's answer for a missing local tag is clearer this way.
    await engine.images.inspect(f"{spec.repository}:{spec.tag}")
    response = await engine.images.open_push(
        spec.repository, spec.tag, auth_headers(settings, spec.repository)
    )
    reference = f"{spec.repository}:{spec.tag}"
    return Transfer("push", response, Progress(settings.build_log_tail_lines), reference)


class _LimitedBody:
    """Passes a request body through while counting it; stops past ``limit`` bytes."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self.limit = limit
        self.sent = 0
        self.exceeded = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self.sent += len(chunk)
            if self.sent > self.limit:
                self.exceeded = True
                raise PayloadTooLarge(self.message)
            yield chunk

    @property
    def message(self) -> str:
        return f"the build context is larger than the limit of {self.limit} bytes"


def build_params(options: BuildOptions) -> dict[str, str | bool]:
    """The engine's build query: one place that turns validated options into its form."""
    params: dict[str, str | bool] = {
        "dockerfile": options.dockerfile,
        "nocache": options.nocache,
        "pull": options.pull,
        # Intermediate containers go, even when a step fails.
        "rm": True,
        "forcerm": True,
    }
    if options.tag:
        params["t"] = options.tag
    if options.networkmode:
        params["networkmode"] = options.networkmode
    if options.target:
        params["target"] = options.target
    if options.buildargs:
        params["buildargs"] = json.dumps(options.buildargs)
    if options.labels:
        params["labels"] = json.dumps(options.labels)
    return params


def check_context_length(content_length: str | None, limit: int) -> None:
    """Refuse a declared length over the limit before reading a byte of it."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise PayloadTooLarge(f"the build context is larger than the limit of {limit} bytes")


async def open_build(
    engine: EngineClient,
    caller: Principal,
    context: AsyncIterator[bytes],
    options: BuildOptions,
    settings: Settings,
) -> Transfer:
    """Stream a tar context to the engine (never buffered whole) and open the build output.

    A build's RUN steps are containers too: ``networkmode=host`` needs the ``privileged``
    profile (issue 11), refused before a byte of the context is read.
    """
    refuse(build_violations(caller, options.networkmode), "this build")
    body = _LimitedBody(context, settings.max_build_context_bytes)
    try:
        response = await engine.images.open_build(
            body.__aiter__(), build_params(options), build_headers(settings)
        )
    except Exception as exc:
        if body.exceeded:
            raise PayloadTooLarge(body.message) from exc
        raise
    return Transfer("build", response, Progress(settings.build_log_tail_lines), options.tag)
