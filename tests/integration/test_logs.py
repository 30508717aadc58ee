"""Logs over SSE, JSON and text against the real engine: separated, ordered, resumable."""

from __future__ import annotations

from typing import Any

import aiodocker
import httpx

from tests.factories import Factory
from tests.sse import Event, collect, events
from tests.support import wait_for

SSE = {"Accept": "text/event-stream"}
TEXT = {"Accept": "text/plain"}
NUMBERED = "for i in $(seq 1 300); do echo out$i; echo err$i >&2; done"
# Every 5th line is 40 000 bytes: the engine splits it into three messages sharing one timestamp.
MIXED = (
    "i=0; while [ $i -lt 40 ]; do i=$((i+1)); "
    "if [ $((i % 5)) -eq 0 ]; then head -c 40000 /dev/zero | tr '\\0' x; echo \" L$i\"; "
    "else echo L$i; echo E$i >&2; fi; sleep 0.05; done"
)


async def started(make: Factory, **fields: Any) -> str:
    return str((await make.running(network="none", **fields))["id"])


def output(found: list[Event], stream: str) -> list[str]:
    return [e.data for e in found if e.event == stream]


async def test_numbered_lines_arrive_once_in_order_on_the_right_stream(
    make: Factory,
    api: httpx.AsyncClient,
) -> None:
    container = await started(make, command=["sh", "-c", NUMBERED + "; exit 5"])
    url = f"/v1/containers/{container}/logs"
    async with api.stream("GET", url, params={"follow": "true"}, headers=SSE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        found = await collect(response)
    assert output(found, "stdout") == [f"out{i}" for i in range(1, 301)]
    assert output(found, "stderr") == [f"err{i}" for i in range(1, 301)]
    assert found[-1].event == "end"
    assert found[-1].json() == {"reason": "exited", "exit_code": 5}
    # Every output event has an id of its own (the end event repeats the last, as SSE ids do).
    ids = [e.id for e in found if e.event in ("stdout", "stderr")]
    assert len(ids) == len(set(ids)) == 600


async def read_some(
    api: httpx.AsyncClient, url: str, last_id: str | None, stop_after: Any
) -> list[Event]:
    """Read events until ``stop_after(event, count)`` says so, then drop the connection."""
    headers = dict(SSE)
    if last_id:
        headers["Last-Event-ID"] = last_id
    got: list[Event] = []
    async with api.stream("GET", url, params={"follow": "true"}, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for item in events(response):
            got.append(item)
            if item.event == "end" or stop_after(item, len(got)):
                break
    return got


async def test_reconnect_with_last_event_id_has_no_gap_and_no_duplicate(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    container = await started(make, command=["sh", "-c", MIXED])
    url = f"/v1/containers/{container}/logs"
    cuts = [
        lambda e, n: n >= 7,  # an ordinary line
        lambda e, n: e.id is not None and e.id.endswith("#1"),  # inside a shared timestamp
        lambda e, n: e.id is not None and "#" not in e.id and n >= 20,
        lambda e, n: False,  # to the end
    ]
    pieces: list[Event] = []
    last_id = None
    for cut in cuts:
        got = await read_some(api, url, last_id, cut)
        pieces.extend(got)
        last_id = next((e.id for e in reversed(pieces) if e.id), last_id)
        if got and got[-1].event == "end":
            break
    assert pieces[-1].event == "end"
    assert any(e.id and e.id.endswith("#1") for e in pieces)

    async with api.stream("GET", url, headers=SSE) as response:
        whole = await collect(response)
    # The resumed pieces are exactly one uninterrupted read of the finished log.
    assert [(e.event, e.id, e.data) for e in pieces if e.event != "end"] == [
        (e.event, e.id, e.data) for e in whole if e.event != "end"
    ]
    # Messages that share a timestamp are the pieces of one long line.
    lines: dict[str, str] = {}
    for e in whole:
        if e.event == "stdout" and e.id:
            base = e.id.split("#")[0]
            lines[base] = lines.get(base, "") + e.data
    expected = [("x" * 40000 + f" L{i}") if i % 5 == 0 else f"L{i}" for i in range(1, 41)]
    assert list(lines.values()) == expected
    assert output(whole, "stderr") == [f"E{i}" for i in range(1, 41) if i % 5]

    # Every line was delivered and the container has exited: EventSource is told to stop.
    reconnect = await api.get(
        url, params={"follow": "true"}, headers={**SSE, "Last-Event-ID": last_id or ""}
    )
    assert reconnect.status_code == 204
    state = (await docker.containers.get(container))["State"]
    assert not state["Running"]


async def test_json_and_text_forms(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    container = await started(make, command=["sh", "-c", "echo one; echo two >&2"])
    await wait_for(lambda: _exited(docker, container))
    url = f"/v1/containers/{container}/logs"
    as_json = await api.get(url, headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    lines = as_json.json()
    assert [(x["stream"], x["line"]) for x in lines] in (
        [("stdout", "one"), ("stderr", "two")],
        [("stderr", "two"), ("stdout", "one")],
    )
    assert all(x["timestamp"].endswith("Z") for x in lines)
    only_err = await api.get(url, params={"stdout": "false"}, headers={"Accept": "text/plain"})
    assert only_err.text == "two\n"
    tail = await api.get(url, params={"tail": "1", "timestamps": "true"}, headers=TEXT)
    assert tail.text.count("\n") == 1
    assert tail.text.split(" ", 1)[0].endswith("Z")
    refused = await api.get(url, params={"follow": "true"}, headers={"Accept": "application/json"})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    # No preference (no Accept, or */* as generated clients send): JSON, the spec's first form.
    for accept in ("*/*", ""):
        default = await api.get(url, headers={"Accept": accept})
        assert default.headers["content-type"] == "application/json", accept
        assert default.json() == lines
    unacceptable = await api.get(url, headers={"Accept": "image/png"})
    assert unacceptable.status_code == 406
    assert unacceptable.headers["content-type"] == "application/problem+json"


async def test_since_takes_relative_durations(
    make: Factory, api: httpx.AsyncClient, docker: aiodocker.Docker
) -> None:
    container = await started(make, command=["sh", "-c", "echo old"])
    await wait_for(lambda: _exited(docker, container))
    url = f"/v1/containers/{container}/logs"
    assert (await api.get(url, params={"since": "10m"}, headers=TEXT)).text == "old\n"
    assert (await api.get(url, params={"until": "10m"}, headers=TEXT)).text == ""
    bad = await api.get(url, params={"since": "last week"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "since"]


async def test_tty_container_logs_stream_too(make: Factory, api: httpx.AsyncClient) -> None:
    container = await started(make, tty=True, command=["sh", "-c", "echo t1; echo t2; exit 2"])
    url = f"/v1/containers/{container}/logs"
    async with api.stream("GET", url, params={"follow": "true"}, headers=SSE) as response:
        found = await collect(response)
    assert output(found, "stdout") == ["t1", "t2"]
    assert found[-1].json() == {"reason": "exited", "exit_code": 2}


async def test_missing_container_is_a_problem_before_any_stream(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/containers/no-such-thing-xyz/logs", headers=SSE)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_removed_container_ends_the_stream(make: Factory, api: httpx.AsyncClient) -> None:
    container = await started(make, command=["sh", "-c", "echo hi; sleep 300"])
    url = f"/v1/containers/{container}/logs"
    async with api.stream("GET", url, params={"follow": "true"}, headers=SSE) as response:
        stream = events(response)
        first = await anext(stream)
        assert (first.event, first.data) == ("stdout", "hi")
        assert (
            await api.delete(f"/v1/containers/{container}", params={"force": "true"})
        ).status_code == 204
        rest = [e async for e in stream]
    assert rest[-1].event == "end"
    assert rest[-1].json()["reason"] in ("removed", "exited")


async def _exited(docker: aiodocker.Docker, container: str) -> bool:
    return not (await docker.containers.get(container))["State"]["Running"]
