"""What starts a process, checked the same way wherever a spec names it (exec, swarm task).

Each type carries its check, so a model only declares the field: a command string is split
like a shell would, environment names must be ones the engine can carry, a working directory
must be absolute.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from app.schemas.containers import check_absolute_dir, check_environment, split_command

Command = Annotated[list[str], BeforeValidator(split_command)]
OptionalCommand = Annotated[list[str] | None, BeforeValidator(split_command)]
Environment = Annotated[
    dict[str, str | int | float | bool | None] | list[str] | None,
    AfterValidator(check_environment),
]
WorkingDir = Annotated[str | None, AfterValidator(check_absolute_dir)]
