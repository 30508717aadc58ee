"""The monitor belongs to the lifespan: running while the app is, and nothing left after it."""

from __future__ import annotations

import asyncio

from app.health import HealthMonitor
from app.lifespan import app_state
from app.main import create_app
from app.settings import Settings
from tests.support import wait_for


async def test_monitor_tasks_end_with_the_lifespan(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"health_poll_interval": 0.2}))
    before = asyncio.all_tasks()
    async with app.router.lifespan_context(app):
        monitor: HealthMonitor = app_state(app).health_monitor

        async def polled() -> bool:
            return monitor.online.is_set() and monitor.polls >= 1

        await wait_for(polled, within=15)
        assert monitor.resyncs == 1
        names = {t.get_name() for t in asyncio.all_tasks() - before}
        assert {"health-monitor", "health-events", "health-poll"} <= names
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == []
    assert not monitor.online.is_set()
