"""Engine image documents turned into the API's views."""

from __future__ import annotations

from typing import Any

from app.schemas.common import engine_time, unix_time
from app.schemas.images import Image, ImageSummary


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _tags(tags: list[str] | None) -> list[str]:
    # Untagged images list "<none>:<none>" on older engines.
    return [t for t in tags or [] if t != "<none>:<none>"]


def _digests(digests: list[str] | None) -> list[str]:
    return [d for d in digests or [] if d != "<none>@<none>"]


def summary_view(row: dict[str, Any]) -> ImageSummary:
    containers = row.get("Containers")
    return ImageSummary(
        id=row["Id"],
        short_id=short_id(row["Id"]),
        tags=_tags(row.get("RepoTags")),
        digests=_digests(row.get("RepoDigests")),
        created=unix_time(row.get("Created")),
        size=int(row.get("Size") or 0),
        labels=row.get("Labels") or {},
        containers=containers if isinstance(containers, int) and containers >= 0 else None,
    )


def image_view(doc: dict[str, Any]) -> Image:
    config = doc.get("Config") or {}
    return Image(
        id=doc["Id"],
        short_id=short_id(doc["Id"]),
        tags=_tags(doc.get("RepoTags")),
        digests=_digests(doc.get("RepoDigests")),
        parent=doc.get("Parent") or None,
        created=engine_time(doc.get("Created")),
        size=int(doc.get("Size") or 0),
        labels=config.get("Labels") or {},
        architecture=doc.get("Architecture") or None,
        os=doc.get("Os") or None,
        author=doc.get("Author") or None,
        command=config.get("Cmd"),
        entrypoint=config.get("Entrypoint"),
        environment=config.get("Env") or [],
        working_dir=config.get("WorkingDir") or None,
        user=config.get("User") or None,
        exposed_ports=sorted((config.get("ExposedPorts") or {}).keys()),
    )
