"""A small client for interactive exec sessions in tests: ``v4.channel.k8s.io`` frames over
``websockets``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("v4.channel.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE = 0, 1, 2, 3, 4


async def create_session(api: httpx.AsyncClient, container: str, **body: Any) -> dict[str, Any]:
    """POST an interactive exec; the 201 answer ``{exec_id, attach}``."""
    response = await api.post(
        f"/v1/containers/{container}/exec", json={"interactive": True, **body}
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def attach(server_url: str, path: str, token: str | None) -> Any:
    """``async with attach(...) as ws``: the WebSocket of an interactive exec."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = server_url.replace("http://", "ws://") + path
    return connect(url, additional_headers=headers, subprotocols=[SUBPROTOCOL], max_size=None)


async def refusal(server_url: str, path: str, token: str | None) -> tuple[int, dict[str, Any]]:
    """The status and problem document of an attach that must be refused before the upgrade."""
    try:
        async with attach(server_url, path, token):
            pass
    except InvalidStatus as exc:
        return exc.response.status_code, json.loads(exc.response.body or b"{}")
    raise AssertionError("the attach was accepted")


def stdin(data: bytes | str) -> bytes:
    return bytes((STDIN,)) + (data.encode() if isinstance(data, str) else data)


def resize(width: int, height: int) -> bytes:
    return bytes((RESIZE,)) + json.dumps({"width": width, "height": height}).encode()


@dataclass
class Transcript:
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    status: dict[str, Any] | None = None
    close_code: int | None = None


async def read_to_end(ws: ClientConnection, *, until: bytes | None = None) -> Transcript:
    """Frames until the server closes (or stdout contains ``until``)."""
    seen = Transcript()
    try:
        async for message in ws:
            assert isinstance(message, bytes), message
            channel, payload = message[0], message[1:]
            if channel == STDOUT:
                seen.stdout += payload
            elif channel == STDERR:
                seen.stderr += payload
            elif channel == STATUS:
                assert seen.status is None, "two status frames"
                seen.status = json.loads(payload)
            if until is not None and until in seen.stdout:
                return seen
    except ConnectionClosed:
        pass
    seen.close_code = ws.close_code
    return seen
