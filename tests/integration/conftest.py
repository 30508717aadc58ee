"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.engine_sandbox import SandboxEngine
from tests.support import engine_url


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxEngine]:
    """A second dockerd of the module's own (own network namespace, socket, data-root), with the
    test image loaded: for tests that change or fuzz an engine."""
    engine = SandboxEngine()
    try:
        engine.start()
        engine.load_test_image(engine_url())
        yield engine
    finally:
        engine.close()
