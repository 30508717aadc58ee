"""examples/run_job.py, run as a user runs it: a process of its own, the live service, the engine.

The job's output comes back over the real logs SSE route, stdout and stderr apart; the exit code is
the job's; the container is gone afterwards; a problem from the service is exit code 125.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiodocker
import pytest

from tests.support import RUN_LABEL, LiveServer, run_labels, unique_name

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "run_job.py"


async def run_example(server: LiveServer, token: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "--url",
        server.url,
        "--api-key",
        token,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_example_relays_the_jobs_output_and_exits_with_its_code(
    server: LiveServer, admin_token: str, docker: aiodocker.Docker
) -> None:
    job = unique_name("job")
    labels = [f"--label={k}={v}" for k, v in run_labels(job=job).items()]
    code, out, err = await run_example(
        server,
        admin_token,
        "--image=busybox:local",
        *labels,
        "--",
        "sh",
        "-c",
        "echo working; echo careful >&2; echo done; exit 3",
    )
    assert code == 3, err
    assert out == "working\ndone\n"
    assert err.splitlines() == ["careful", "exit code 3"]
    # It labelled the container as asked, and removed it.
    left = await docker.containers.list(all=True, filters={"label": [f"job={job}"]})
    assert left == []


async def test_the_example_keeps_the_container_when_asked(
    server: LiveServer, admin_token: str, docker: aiodocker.Docker
) -> None:
    job = unique_name("job")
    labels = [f"--label={k}={v}" for k, v in run_labels(job=job).items()]
    code, out, _ = await run_example(
        server, admin_token, "--image=busybox:local", "--keep", *labels, "--", "echo", "kept"
    )
    (kept,) = await docker.containers.list(all=True, filters={"label": [f"job={job}"]})
    try:
        assert (code, out) == (0, "kept\n")
        assert kept["State"] == "exited"
        assert kept["Labels"][RUN_LABEL] == run_labels()[RUN_LABEL]
    finally:
        await kept.delete(force=True)


@pytest.mark.parametrize("refusal", ["no such image", "unknown key", "reserved label"])
async def test_a_problem_from_the_service_is_exit_code_125(
    server: LiveServer, admin_token: str, docker: aiodocker.Docker, refusal: str
) -> None:
    job = unique_name("job")
    image, token, extra = {
        "no such image": ("dockyard-no-such-image:0", admin_token, {}),
        "unknown key": ("busybox:local", "dyk_nosuchkey_secret", {}),
        # A label only the service may set: refused (422) before anything is pulled or made.
        "reserved label": ("busybox:local", admin_token, {"dockyard.owner": "forged"}),
    }[refusal]
    labels = [f"--label={k}={v}" for k, v in run_labels(job=job, **extra).items()]
    code, out, err = await run_example(server, token, f"--image={image}", *labels, "--", "true")
    assert code == 125
    assert out == ""
    assert err.startswith("dockyard: ")
    assert await docker.containers.list(all=True, filters={"label": [f"job={job}"]}) == []
