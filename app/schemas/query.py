"""Query parameter types more than one router accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import StringConstraints

# A label filter is 'key' (the label is set) or 'key=value'. Keys are what Docker's label
# convention allows (letters, digits, '.', '_', '/', '-', starting alphanumeric); values are any
# text without control characters. So 'label=false' asks for objects with a label 'false'.
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}(=[^\x00-\x1f\x7f]{0,1024})?$"
LabelSelector = Annotated[str, StringConstraints(pattern=LABEL_PATTERN)]
LabelFilter = Annotated[
    list[LabelSelector] | None,
    Query(description="Label filter 'key' or 'key=value'; repeat for AND"),
]

# A container named in a filter: a full id, an id prefix or a name.
CONTAINER_PATTERN = r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"
ContainerSelector = Annotated[str, StringConstraints(pattern=CONTAINER_PATTERN)]
