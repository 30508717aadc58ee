"""An engine stream's reads: a trickle is handed over at once, a flood in few large reads."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp
from aiohttp.base_protocol import BaseProtocol

from app.engine.transport import EngineStream


class _Transport(asyncio.Transport):
    """A connection that is there: aiohttp's body reader waits only on a connected protocol."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _Response:
    """What ``EngineStream`` reads: an aiohttp body (``content``), here fed by the test."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        protocol = BaseProtocol(loop)
        protocol.connection_made(_Transport())
        self.content = aiohttp.StreamReader(protocol, 2**16, loop=loop)

    def close(self) -> None:
        pass


def _stream() -> tuple[EngineStream, aiohttp.StreamReader]:
    response = _Response()
    return EngineStream(cast(Any, response)), response.content


async def test_a_trickle_is_handed_over_message_by_message() -> None:
    stream, body = _stream()
    reads = stream.bursts(linger=0.2)
    for index in range(3):
        read = asyncio.ensure_future(anext(reads))
        await asyncio.sleep(0.3)  # the reader waits longer than the linger: a quiet stream
        body.feed_data(b"line %d\n" % index)
        # Each message is handed over at once, alone: well within the linger.
        assert await asyncio.wait_for(read, timeout=0.15) == b"line %d\n" % index
    body.feed_eof()
    assert [chunk async for chunk in reads] == []


async def test_a_flood_comes_in_few_large_reads() -> None:
    stream, body = _stream()
    messages = [b"message %04d\n" % index for index in range(400)]

    async def flood() -> None:
        for message in messages:
            body.feed_data(message)
            await asyncio.sleep(0)  # one message per turn of the loop, as the engine writes
        body.feed_eof()

    writer = asyncio.create_task(flood())
    chunks = [chunk async for chunk in stream.bursts(linger=0.002)]
    await writer
    assert b"".join(chunks) == b"".join(messages)
    assert len(chunks) < len(messages) / 10, len(chunks)
