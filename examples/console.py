"""A terminal into a container through Dockyard: ``docker exec -it`` over a WebSocket.

    pip install httpx websockets
    python examples/console.py --url http://127.0.0.1:8000 --api-key $KEY web            # sh
    python examples/console.py --api-key $KEY web -- python3 -q
    echo 'echo hi; exit 3' | python examples/console.py --api-key $KEY web; echo $?      # 3

It creates an interactive exec (``POST /v1/containers/{ref}/exec`` with ``interactive``), then
attaches the WebSocket the answer names. Frames carry a channel byte (``v4.channel.k8s.io``):
0 stdin, 1 stdout, 2 stderr, 3 status ``{"exit_code": N}``, 4 resize. On a terminal it switches
to raw mode (so Ctrl-C reaches the container's shell, not this program) and sends the window size
at the start and on every ``SIGWINCH``; with piped input it sends the input and waits for the exit.
The process exits with the remote command's exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import termios
import tty
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

STDIN, STDOUT, STDERR, STATUS, RESIZE = 0, 1, 2, 3, 4
READ_SIZE = 32 * 1024


class ConsoleError(Exception):
    """Dockyard refused (a problem document) before the session started."""


def create(url: str, key: str, container: str, command: list[str], *, tty_wanted: bool) -> str:
    """Create the interactive exec; the WebSocket path to attach."""
    body = {"command": command, "tty": tty_wanted, "interactive": True}
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.post(f"{url}/v1/containers/{container}/exec", json=body, headers=headers)
    if response.status_code != 201:
        raise ConsoleError(_problem_text(response.status_code, response.content))
    return str(response.json()["attach"])


def _problem_text(status: int, body: bytes | None) -> str:
    try:
        problem: dict[str, Any] = json.loads(body or b"{}")
    except ValueError:
        problem = {}
    return f"{status} {problem.get('title', '')}: {problem.get('detail', '')}"


def resize_frame() -> bytes:
    columns, lines = shutil.get_terminal_size()
    return bytes((RESIZE,)) + json.dumps({"width": columns, "height": lines}).encode()


@contextlib.contextmanager
def raw_terminal(enabled: bool) -> Iterator[None]:
    """Raw mode on stdin while the session lasts (restored however it ends)."""
    if not enabled:
        yield
        return
    saved = termios.tcgetattr(sys.stdin.fileno())
    tty.setraw(sys.stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


async def _pump_input(ws: ClientConnection, interactive: bool) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    if interactive:
        await ws.send(resize_frame())
        loop.add_signal_handler(
            signal.SIGWINCH, lambda: asyncio.ensure_future(ws.send(resize_frame()))
        )
    while chunk := await reader.read(READ_SIZE):
        await ws.send(bytes((STDIN,)) + chunk)  # waits while the server is busy: backpressure
    # End of piped input: the v4 protocol has no end-of-file, so the command decides when to end.


async def _pump_output(ws: ClientConnection) -> int | None:
    code: int | None = None
    with contextlib.suppress(ConnectionClosed):
        async for message in ws:
            if not isinstance(message, bytes) or not message:
                continue
            channel, payload = message[0], message[1:]
            if channel == STDOUT:
                sys.stdout.buffer.write(payload)
                sys.stdout.flush()
            elif channel == STDERR:
                sys.stderr.buffer.write(payload)
                sys.stderr.flush()
            elif channel == STATUS:
                code = json.loads(payload).get("exit_code")
    return code


async def session(url: str, key: str, attach: str, *, interactive: bool) -> int:
    """Carry the terminal until the remote command exits; its exit code (255 if unknown)."""
    ws_url = url.replace("http://", "ws://").replace("https://", "wss://") + attach
    headers = {"Authorization": f"Bearer {key}"}
    try:
        async with connect(
            ws_url, additional_headers=headers, subprotocols=[Subprotocol("v4.channel.k8s.io")]
        ) as ws:
            feeder = asyncio.create_task(_pump_input(ws, interactive))
            try:
                with raw_terminal(interactive):
                    code = await _pump_output(ws)
            finally:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await feeder
    except InvalidStatus as exc:
        raise ConsoleError(_problem_text(exc.response.status_code, exc.response.body)) from exc
    return 255 if code is None else int(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DOCKYARD_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", default=os.environ.get("DOCKYARD_API_KEY", ""))
    parser.add_argument("container")
    parser.add_argument("command", nargs="*", default=["sh"])
    args = parser.parse_args(argv)
    interactive = sys.stdin.isatty()
    try:
        attach = create(
            args.url, args.api_key, args.container, args.command, tty_wanted=interactive
        )
        return asyncio.run(session(args.url, args.api_key, attach, interactive=interactive))
    except ConsoleError as exc:
        print(f"console: {exc}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main())
