"""Schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS=tests.fuzz.hooks).

They keep every generated request valid per the spec while bounding the ones that would
otherwise wait for as long as the client likes: a fuzz case must end within the request
timeout, and endless streams are tested elsewhere (tests/integration/test_stats_events.py,
test_logs.py).
"""

from __future__ import annotations

from typing import Any

import schemathesis

# The longest a generated wait may block, in seconds (the spec allows up to a day).
WAIT_SECONDS = 1


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    query = case.query if isinstance(case.query, dict) else None
    if query is None:
        return
    if case.path.endswith("/wait"):
        query["timeout"] = WAIT_SECONDS
    if case.path.endswith(("/stop", "/restart")) and "timeout" in query:
        query["timeout"] = WAIT_SECONDS  # the grace before SIGKILL (the spec allows an hour)
    if case.path.endswith("/stats"):
        query.pop("stream", None)  # stream=true is an endless SSE
    if case.path.endswith("/logs"):
        query.pop("follow", None)  # follow waits for the container to exit
