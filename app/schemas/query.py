"""Query parameter types more than one router accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import StringConstraints

LabelSelector = Annotated[str, StringConstraints(pattern=r"^[^=\s][^=]*(=.*)?$", max_length=512)]
LabelFilter = Annotated[
    list[LabelSelector] | None,
    Query(description="Label filter 'key' or 'key=value'; repeat for AND"),
]
