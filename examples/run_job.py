"""Run a job container through Dockyard, follow its output live over SSE, report its exit code.

    pip install httpx httpx-sse
    python examples/run_job.py --url http://127.0.0.1:8000 --api-key "$DOCKYARD_KEY" \\
        --image busybox:local -- sh -c 'echo working; echo careful >&2; exit 3'
    echo $?    # 3: the job's exit code (125 when Dockyard refused to run it)

It creates and starts the container (POST /v1/containers?start=true), relays its output live from
GET /v1/containers/{id}/logs?follow=true: ``event: stdout`` / ``event: stderr``, one line each,
then ``event: end`` whose data is ``{"reason": ..., "exit_code": ...}`` (docs/api.md). The
container is removed afterwards unless ``--keep``. tests/integration/test_example_run_job.py runs
this file as shown, against the live service and a real engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import httpx
from httpx_sse import connect_sse


class JobError(Exception):
    """Dockyard answered with a problem (RFC 9457) instead of what we asked for."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(f"{problem.get('title')}: {problem.get('detail')}")
        self.problem = problem


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        response.read()  # a streamed (SSE) answer is not read yet
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text}
        raise JobError(problem)
    return response


def start_job(
    client: httpx.Client, image: str, command: Sequence[str], labels: dict[str, str]
) -> str:
    """Create and start the container; its id."""
    body = {"image": image, "command": list(command), "labels": labels}
    created = _checked(client.post("/v1/containers", params={"start": "true"}, json=body))
    container_id: str = created.json()["id"]
    return container_id


def follow_logs(
    client: httpx.Client,
    container_id: str,
    *,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int | None:
    """Relay the job's output as it happens; the exit code from the ``end`` event, if it has one."""
    params = {"follow": "true", "stdout": "true", "stderr": "true"}
    with connect_sse(client, "GET", f"/v1/containers/{container_id}/logs", params=params) as events:
        _checked(events.response)
        for event in events.iter_sse():
            if event.event in ("stdout", "stderr"):
                out = stdout if event.event == "stdout" else stderr
                # Each event is one output line (a data: line per line), without its newline.
                out.write(event.data + "\n")
                out.flush()
            elif event.event == "end":
                exit_code: int | None = json.loads(event.data).get("exit_code")
                return exit_code
            elif event.event == "error":
                raise JobError(json.loads(event.data))
    return None  # the stream closed without an end event (the server went away)


def wait_exit_code(client: httpx.Client, container_id: str) -> int:
    """Block until the container stops; its exit code."""
    waited = _checked(client.post(f"/v1/containers/{container_id}/wait", timeout=None))
    status_code: int = waited.json()["status_code"]
    return status_code


def remove(client: httpx.Client, container_id: str) -> None:
    response = client.delete(f"/v1/containers/{container_id}", params={"force": "true"})
    if response.status_code != 404:  # already gone is fine
        _checked(response)


def run(
    client: httpx.Client,
    image: str,
    command: Sequence[str],
    *,
    labels: dict[str, str] | None = None,
    keep: bool = False,
    follow: Callable[[httpx.Client, str], int | None] = follow_logs,
) -> int:
    """Run the job to the end; its exit code."""
    container_id = start_job(client, image, command, labels or {})
    try:
        exit_code = follow(client, container_id)
        # The end event may carry no code (say the container was removed); ask the engine.
        return exit_code if exit_code is not None else wait_exit_code(client, container_id)
    finally:
        if not keep:
            remove(client, container_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Dockyard's address")
    parser.add_argument("--api-key", help="sent as Authorization: Bearer <key>")
    parser.add_argument("--image", required=True)
    parser.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--keep", action="store_true", help="do not remove the container")
    parser.add_argument("command", nargs="+", help="the job's command (after --)")
    args = parser.parse_args(argv)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    labels = dict(label.partition("=")[::2] for label in args.label)
    # No read timeout: a job's output may pause for as long as the job likes.
    timeout = httpx.Timeout(10.0, read=None)
    with httpx.Client(base_url=args.url, headers=headers, timeout=timeout) as client:
        try:
            exit_code = run(client, args.image, args.command, labels=labels, keep=args.keep)
        except JobError as exc:
            print(f"dockyard: {exc}", file=sys.stderr)  # noqa: T201 - a command-line tool
            return 125  # like `docker run`: the job could not be run
    print(f"exit code {exit_code}", file=sys.stderr)  # noqa: T201 - a command-line tool
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
