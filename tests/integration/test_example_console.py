"""examples/console.py against the live server: piped input in, output and exit code out."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.factories import Factory
from tests.support import LiveServer

CONSOLE = Path(__file__).resolve().parents[2] / "examples" / "console.py"


async def run_console(*args: str, stdin: bytes) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CONSOLE),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    assert process.returncode is not None
    return process.returncode, out, err


async def test_piped_commands_run_and_the_exit_code_comes_back(
    make: Factory, server: LiveServer, admin_token: str
) -> None:
    container = await make.quiet()
    code, out, err = await run_console(
        "--url", server.url, "--api-key", admin_token, container,
        stdin=b"echo hi from $(hostname); echo oops >&2; exit 3\n",
    )  # fmt: skip
    assert (code, out, err) == (3, f"hi from {container[:12]}\n".encode(), b"oops\n")


async def test_a_refusal_is_reported(server: LiveServer, admin_token: str) -> None:
    code, _, err = await run_console(
        "--url", server.url, "--api-key", admin_token, "no-such-container", stdin=b""
    )  # fmt: skip
    assert code == 1
    assert b"404" in err
