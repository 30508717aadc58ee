"""Input for processes: ``stdin`` (exec and run), ``files`` placed before a job starts, and the
answer to an interactive exec."""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from app.schemas.common import StrictModel, View

# Bounds on what one request may carry (the body limit usually bites first; these hold even
# when an operator raises it, so a request can never make us build an unbounded archive).
MAX_FILES = 256
MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_PATH_LENGTH = 1024
_OCTAL_MODE = re.compile(r"^0?[0-7]{3}$")


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("base64 is not valid base64") from exc


class Base64Data(StrictModel):
    """Bytes that are not text, base64-encoded."""

    base64: str

    @model_validator(mode="after")
    def _valid(self) -> Base64Data:
        if len(_decode(self.base64)) > MAX_INPUT_BYTES:
            raise ValueError(f"at most {MAX_INPUT_BYTES} bytes")
        return self


StdinInput = Annotated[
    str | Base64Data,
    Field(
        description="Written to the process, then closed (end of file): text, or "
        '{"base64": "..."} for bytes. Not with tty (a terminal has no end of file).',
    ),
]


def input_bytes(value: str | Base64Data) -> bytes:
    """The bytes a text or base64 input stands for."""
    return value.encode("utf-8") if isinstance(value, str) else _decode(value.base64)


def _mode(value: Any) -> Any:
    if isinstance(value, str):
        if not _OCTAL_MODE.match(value):
            raise ValueError("mode is octal, such as '0755' (no setuid, setgid or sticky bits)")
        return int(value, 8)
    raise ValueError("mode is an octal string such as '0755'")


Mode = Annotated[
    int,
    BeforeValidator(_mode),
    WithJsonSchema(
        {"type": "string", "pattern": "^0?[0-7]{3}$", "description": "Octal, '0644' when unset"}
    ),
]


class FileInput(StrictModel):
    """A file's content (``base64`` or ``text``) and its permission bits."""

    base64: str | None = None
    text: str | None = None
    mode: Mode | None = None

    @model_validator(mode="after")
    def _one_content(self) -> FileInput:
        if (self.base64 is None) == (self.text is None):
            raise ValueError("give exactly one of base64 or text")
        if self.base64 is not None:
            _decode(self.base64)
        return self

    def content(self) -> bytes:
        if self.base64 is not None:
            return _decode(self.base64)
        return (self.text or "").encode("utf-8")


def _check_path(path: str) -> str:
    if not path.startswith("/") or path.endswith("/"):
        raise ValueError(f"{path!r}: a file path is absolute and names a file")
    if len(path) > MAX_PATH_LENGTH or "\x00" in path:
        raise ValueError(f"{path[:64]!r}...: too long or contains NUL")
    parts = path.split("/")[1:]
    if any(part in ("", ".", "..") for part in parts) or posixpath.normpath(path) != path:
        raise ValueError(f"{path!r}: no '..', '.' or empty segments")
    return path


def _check_files(files: dict[str, str | FileInput] | None) -> dict[str, str | FileInput] | None:
    if files is None:
        return None
    if len(files) > MAX_FILES:
        raise ValueError(f"at most {MAX_FILES} files")
    total = 0
    for path, value in files.items():
        _check_path(path)
        total += len(value.encode("utf-8")) if isinstance(value, str) else len(value.content())
    if total > MAX_INPUT_BYTES:
        raise ValueError(f"the files hold more than {MAX_INPUT_BYTES} bytes")
    return files


Files = Annotated[
    dict[str, str | FileInput] | None,
    AfterValidator(_check_files),
    Field(
        description="Files placed in the container before it starts: absolute path → text, or "
        '{"base64": "...", "mode": "0755"} ({"text": ...} also works). One archive upload.',
    ),
]


def file_entries(files: dict[str, str | FileInput]) -> list[tuple[str, bytes, int]]:
    """``(path, content, mode)`` for every file, text files 0644."""
    return [
        (path, value.encode("utf-8"), 0o644)
        if isinstance(value, str)
        else (path, value.content(), 0o644 if value.mode is None else value.mode)
        for path, value in files.items()
    ]


class ExecSession(View):
    """An interactive exec, created but not started: attach to start it."""

    exec_id: str
    attach: str = Field(
        description="The WebSocket path that starts it: GET, Bearer header or ?ticket=; "
        "only the key that created it, once"
    )
