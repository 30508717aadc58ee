"""Image request specs and views, and the progress events of pull, push and build."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from app.schemas.common import StrictModel, View, parsed_text

# Docker's reference grammar, loosely: [host[:port]/]path[:tag][@digest], no empty segments.
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@+]*$")
_REPOSITORY = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
MAX_NAME_LENGTH = 255
_IMAGE_ID = re.compile(r"^(sha256:)?[0-9a-f]{1,64}$")
MAX_TAG_LENGTH = 128
_PLATFORM = r"^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_]+)?$"


def check_reference(value: str) -> str:
    """An image name, id or reference that can only ever name an image."""
    if not _REFERENCE.match(value) or ".." in value.split("/") or "//" in value:
        raise ValueError(
            "not an image reference: use a name such as 'busybox:1.36', "
            "'registry:5000/team/app@sha256:…' or an image id"
        )
    # The engine answers 400 for a name past its limits; say so as the validation error it is.
    name, tag = split_tag(value.split("@", 1)[0])
    if normalized_length(name) > MAX_NAME_LENGTH and not _IMAGE_ID.match(name):
        raise ValueError(f"an image name is at most {MAX_NAME_LENGTH} characters in all")
    if tag is not None and len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"an image tag is at most {MAX_TAG_LENGTH} characters")
    return value


def normalized_length(name: str) -> int:
    """The length of ``name`` as the engine counts it: Docker Hub names get their host (and
    ``library/``) added first, and the whole may be 255 characters at most."""
    first, slash, _ = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return len(name)
    return len(name) + (len("docker.io/") if slash else len("docker.io/library/"))


def check_repository(value: str) -> str:
    if normalized_length(value) > MAX_NAME_LENGTH:
        raise ValueError(f"a repository name is at most {MAX_NAME_LENGTH} characters in all")
    if not _REPOSITORY.match(value):
        raise ValueError(
            "not a repository name: lowercase path components separated by '/', "
            "optionally after a registry host such as 'registry.local:5000/'"
        )
    return value


def split_tag(reference: str) -> tuple[str, str | None]:
    """(repository, tag) of a reference without a digest; the tag is None when it names none."""
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, None


ImageRef = Annotated[str, StringConstraints(max_length=512), AfterValidator(check_reference)]
Repository = Annotated[str, StringConstraints(max_length=255), AfterValidator(check_repository)]
Tag = Annotated[str, StringConstraints(pattern=_TAG)]
Platform = Annotated[str, StringConstraints(pattern=_PLATFORM, max_length=64)]


class PullSpec(StrictModel):
    """What to pull: ``image`` may carry its tag or digest, or name the tag apart in ``tag``."""

    image: ImageRef = Field(examples=["registry.local:5000/team/app"])
    tag: Tag | None = Field(default=None, description="Defaults to 'latest' when image has none")
    platform: Platform | None = Field(default=None, examples=["linux/amd64"])

    @model_validator(mode="after")
    def _one_tag(self) -> PullSpec:
        if self.tag is not None and ("@" in self.image or split_tag(self.image)[1] is not None):
            raise ValueError("give the tag either in image or in tag, not both")
        return self

    def reference(self) -> str:
        """The full reference pulled: ``image:tag``, ``image@digest``, or ``image:latest``."""
        if "@" in self.image or split_tag(self.image)[1] is not None:
            return self.image
        return f"{self.image}:{self.tag or 'latest'}"


class TagSpec(StrictModel):
    repository: Repository = Field(examples=["registry.local:5000/team/app"])
    tag: Tag = "latest"


class PushSpec(StrictModel):
    """Push ``repository:tag`` (an image tagged so already) to the registry the name points at."""

    repository: Repository = Field(examples=["registry.local:5000/team/app"])
    tag: Tag = "latest"


class ImagePruneSpec(StrictModel):
    dangling: bool = Field(
        default=True, description="Only untagged images; false removes every unused image"
    )


# Query parameters carry these maps as JSON text, like the Engine API's own build call.
StringMap = Annotated[dict[str, str], BeforeValidator(parsed_text(json.loads, "not valid JSON"))]


class BuildOptions(StrictModel):
    """The build's query parameters, validated together."""

    tag: ImageRef | None = None
    dockerfile: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = "Dockerfile"
    target: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,128}$")] | None = None
    buildargs: StringMap = Field(default_factory=dict)
    labels: StringMap = Field(default_factory=dict)
    nocache: bool = False
    pull: bool = False
    networkmode: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")] | None
    ) = None


class ImageSummary(View):
    id: str
    short_id: str
    tags: list[str]
    digests: list[str]
    created: datetime | None
    size: int
    labels: dict[str, str]
    containers: int | None = Field(description="Containers using it (when the engine counted)")


class Image(View):
    id: str
    short_id: str
    tags: list[str]
    digests: list[str]
    parent: str | None
    created: datetime | None
    size: int
    labels: dict[str, str]
    architecture: str | None
    os: str | None
    author: str | None
    command: list[str] | None
    entrypoint: list[str] | None
    environment: list[str]
    working_dir: str | None
    user: str | None
    exposed_ports: list[str]


class ImageRemoval(View):
    untagged: list[str]
    deleted: list[str]


class ImagePruneResult(View):
    deleted: list[str]
    untagged: list[str]
    space_reclaimed: int


class ProgressEvent(View):
    """``event: progress``: a status line of a pull or push (per layer when ``id`` is set)."""

    id: str | None
    status: str
    current: int | None = Field(description="Bytes done of this layer, when known")
    total: int | None = Field(description="Bytes of this layer, when known")


class LogEvent(View):
    """``event: log``: one line of build output."""

    line: str


class EndEvent(View):
    """``event: end``: the operation finished; the image it produced or moved."""

    image_id: str
    reference: str | None
    digest: str | None = Field(description="The registry digest (push)")
