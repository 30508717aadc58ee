"""HTTP handlers for /v1/images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.deps import CurrentKey, EngineDep, SettingsDep, StreamsDep
from app.engine import EngineClient
from app.http.negotiation import JSON, SSE, negotiate
from app.schemas.images import (
    BuildOptions,
    Image,
    ImagePruneResult,
    ImagePruneSpec,
    ImageRef,
    ImageRemoval,
    ImageSummary,
    PullSpec,
    PushSpec,
    TagSpec,
)
from app.schemas.media import checked_tar, require_tar, tar_request_body
from app.schemas.problem import located, problems
from app.schemas.query import LabelFilter
from app.schemas.stream_events import TRANSFER, sse_content
from app.services import images
from app.services.images import Transfer
from app.settings import Settings
from app.streams.progress import transfer_events
from app.streams.responses import stream_response
from app.streams.tickets import StreamRegistry

router = APIRouter(prefix="/v1/images", tags=["images"])

RefPath = Annotated[ImageRef, Path(description="Image name, reference, id or id prefix")]
TRANSFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: sse_content(
        "The image (JSON), or its progress as SSE under Accept: text/event-stream", *TRANSFER
    )
}
PULL_PUSH_RESPONSES = {**TRANSFER_RESPONSES, **problems(400, 404, 406, 429)}


@dataclass(frozen=True)
class TransferCall:
    """What a pull, push or build takes besides its input, and its one way to answer."""

    request: Request
    engine: EngineClient
    settings: Settings
    streams: StreamRegistry

    async def answer(self, transfer: Transfer) -> Image | Response:
        """SSE when the client asks for it, else wait for the end and return the image."""
        if negotiate(self.request.headers.get("accept"), (JSON, SSE)) == SSE:
            try:
                ticket = self.streams.acquire(transfer.operation)
            except BaseException:
                transfer.close()
                raise
            return stream_response(
                transfer_events(transfer, self.engine),
                ticket=ticket,
                settings=self.settings,
                instance=self.request.url.path,
                cleanup=transfer.close,
            )
        return await images.finish(self.engine, transfer)


async def _transfer_call(
    request: Request, engine: EngineDep, settings: SettingsDep, streams: StreamsDep
) -> TransferCall:
    return TransferCall(request, engine, settings, streams)


TransferCallDep = Annotated[TransferCall, Depends(_transfer_call)]


async def build_options(
    tag: Annotated[str | None, Query(description="Name (and tag) for the image")] = None,
    dockerfile: Annotated[str, Query(description="Path inside the context")] = "Dockerfile",
    target: Annotated[str | None, Query(description="Stage of a multi-stage build")] = None,
    buildargs: Annotated[str | None, Query(description='JSON object: {"ARG": "value"}')] = None,
    labels: Annotated[str | None, Query(description='JSON object: {"key": "value"}')] = None,
    nocache: Annotated[bool, Query()] = False,
    pull: Annotated[bool, Query(description="Pull newer base images first")] = False,
    networkmode: Annotated[
        str | None, Query(description="Network of RUN steps: 'none', 'host' or a network name")
    ] = None,
) -> BuildOptions:
    """The build's query parameters as one validated model (422 like any bad input)."""
    given = {
        "tag": tag,
        "dockerfile": dockerfile,
        "target": target,
        "buildargs": buildargs,
        "labels": labels,
        "nocache": nocache,
        "pull": pull,
        "networkmode": networkmode,
    }
    try:
        return BuildOptions.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


@router.get("", response_model=list[ImageSummary], responses=problems())
async def list_images(
    engine: EngineDep,
    dangling: Annotated[bool | None, Query(description="Only untagged (or only tagged)")] = None,
    label: LabelFilter = None,
    reference: Annotated[
        str | None, Query(max_length=512, description="Name pattern, e.g. 'busybox:*'")
    ] = None,
) -> list[ImageSummary]:
    """List images, filtered by dangling state, labels and name."""
    return await images.list_images(engine, dangling=dangling, labels=label, reference=reference)


@router.post("/pull", response_model=Image, responses=PULL_PUSH_RESPONSES)
async def pull_image(spec: PullSpec, call: TransferCallDep) -> Image | Response:
    """Pull an image; registry credentials come from the server's configuration."""
    return await call.answer(await images.open_pull(call.engine, spec, call.settings))


@router.post("/push", response_model=Image, responses=PULL_PUSH_RESPONSES)
async def push_image(spec: PushSpec, call: TransferCallDep) -> Image | Response:
    """Push ``repository:tag`` to its registry; the result lists the new registry digest."""
    return await call.answer(await images.open_push(call.engine, spec, call.settings))


@router.post(
    "/build",
    response_model=Image,
    openapi_extra=tar_request_body("The build context, a tar archive"),
    responses={**TRANSFER_RESPONSES, **problems(400, 404, 406, 413, 415, 429)},
)
async def build_image(
    call: TransferCallDep,
    caller: CurrentKey,
    options: Annotated[BuildOptions, Depends(build_options)],
) -> Image | Response:
    """Build an image from a tar context streamed in the body; a failed step is 422.

    ``networkmode=host`` needs the ``privileged`` profile (RUN steps are containers too).
    """
    request, settings = call.request, call.settings
    require_tar(request.headers.get("content-type"), "build context")
    images.check_context_length(
        request.headers.get("content-length"), settings.max_build_context_bytes
    )
    context = await checked_tar(request.stream(), "build context")
    transfer = await images.open_build(call.engine, caller, context, options, settings)
    return await call.answer(transfer)


@router.post("/prune", response_model=ImagePruneResult, responses=problems())
async def prune_images(
    engine: EngineDep, spec: ImagePruneSpec | None = None, label: LabelFilter = None
) -> ImagePruneResult:
    """Remove unused images (dangling ones by default; only those with these labels if given)."""
    dangling = spec.dangling if spec is not None else True
    return await images.prune(engine, dangling=dangling, labels=label)


@router.post(
    "/{ref:path}/tag",
    status_code=status.HTTP_201_CREATED,
    response_model=Image,
    responses={**located("The image, at Location (its new name)"), **problems(400, 404, 409)},
)
async def tag_image(ref: RefPath, spec: TagSpec, engine: EngineDep, response: Response) -> Image:
    """Give an image another name: ``repository:tag``."""
    tagged = await images.tag(engine, ref, spec)
    response.headers["Location"] = f"{router.prefix}/{quote(f'{spec.repository}:{spec.tag}')}"
    return tagged


@router.get("/{ref:path}", response_model=Image, responses=problems(404, 409))
async def get_image(ref: RefPath, engine: EngineDep) -> Image:
    """Inspect an image by name, reference, id or id prefix."""
    return await images.inspect(engine, ref)


@router.delete("/{ref:path}", response_model=ImageRemoval, responses=problems(404, 409))
async def remove_image(
    ref: RefPath,
    engine: EngineDep,
    force: Annotated[bool, Query(description="Untag and remove even if containers use it")] = False,
    noprune: Annotated[bool, Query(description="Keep untagged parent images")] = False,
) -> ImageRemoval:
    """Remove an image (or one of its tags): what was untagged and what was deleted."""
    return await images.remove(engine, ref, force=force, noprune=noprune)
