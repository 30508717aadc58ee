"""Stream tickets and CORS against a real engine: where a ticket opens a door, where never."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiodocker
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.security.keys import KeyStore
from app.settings import Settings
from tests.conftest import ClientFactory
from tests.factories import Factory
from tests.sse import events
from tests.support import LiveServer, second_server
from tests.ws_client import attach, create_session, read_to_end, refusal, stdin

SSE = {"Accept": "text/event-stream"}
TICKING = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.2; done"]
PAGE_ORIGIN = "http://127.0.0.1:9"  # never served: CORS only compares the string


async def mint(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/tickets")
    assert response.status_code == 201, response.text
    return str(response.json()["ticket"])


@pytest.fixture
async def ticking(make: Factory) -> str:
    return str((await make.running(network="none", command=TICKING))["id"])


async def first_line(server: LiveServer, container: str, ticket: str) -> str:
    """Follow the container's logs as a browser would (no header, ticket in the URL)."""
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as browser,
        browser.stream(
            "GET",
            f"/v1/containers/{container}/logs",
            params={"follow": "true", "tail": "1", "ticket": ticket},
            headers=SSE,
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for item in events(response):
            if item.event == "stdout":
                return item.data
    raise AssertionError("the stream ended without a line")


async def test_a_ticket_is_minted_for_any_role_and_expires_in_minutes(
    client_for: ClientFactory, settings: Settings
) -> None:
    viewer = await client_for("viewer")
    before = datetime.now(UTC)
    response = await viewer.post("/v1/tickets")
    assert response.status_code == 201
    body = response.json()
    assert body["ticket"].startswith("dyt_")
    expires = datetime.fromisoformat(body["expires_at"])
    lifetime = timedelta(seconds=settings.ticket_ttl_seconds)
    assert before + lifetime - timedelta(seconds=5) <= expires <= before + lifetime + timedelta(5)


async def test_a_ticket_follows_logs_with_its_keys_rights(
    server: LiveServer, client_for: ClientFactory, ticking: str
) -> None:
    operator = await client_for("operator")
    assert (await first_line(server, ticking, await mint(operator))).startswith("tick")

    # A viewer may not read logs with its key, so not with its ticket either.
    viewer_ticket = await mint(await client_for("viewer"))
    async with httpx.AsyncClient(base_url=server.url) as browser:
        denied = await browser.get(
            f"/v1/containers/{ticking}/logs",
            params={"follow": "true", "ticket": viewer_ticket},
            headers=SSE,
        )
    assert denied.status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/v1/containers", "application/json"),
        ("GET", "/v1/containers/{id}", "text/event-stream"),  # a JSON route, whatever is asked
        ("GET", "/v1/containers/{id}/logs", "application/json"),  # a stream route read as JSON
        ("GET", "/v1/containers/{id}/logs", "text/plain"),
        ("POST", "/v1/containers/{id}/stop", "text/event-stream"),
        ("DELETE", "/v1/containers/{id}", "application/json"),
        ("POST", "/v1/tickets", "application/json"),  # a ticket cannot mint tickets
    ],
)
async def test_a_ticket_opens_no_json_route_and_no_change(
    server: LiveServer,
    api: httpx.AsyncClient,
    docker: aiodocker.Docker,
    ticking: str,
    method: str,
    path: str,
    accept: str,
) -> None:
    ticket = await mint(api)  # an admin's ticket: the refusal is about the ticket, not the role
    async with httpx.AsyncClient(base_url=server.url) as browser:
        response = await browser.request(
            method,
            path.format(id=ticking),
            params={"ticket": ticket},
            headers={"Accept": accept},
        )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "ticket" in response.json()["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    inspect = await (await docker.containers.get(ticking)).show()
    assert inspect["State"]["Running"] is True


async def test_a_ticket_dies_with_its_key(
    server: LiveServer, keys: KeyStore, client_for: ClientFactory, ticking: str
) -> None:
    operator = await client_for("operator")
    ticket = await mint(operator)
    assert (await first_line(server, ticking, ticket)).startswith("tick")
    keys.revoke(operator.key_id)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        response = await browser.get(
            f"/v1/containers/{ticking}/logs",
            params={"follow": "true", "ticket": ticket},
            headers=SSE,
        )
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_unknown_tickets_and_two_tickets_are_refused(
    server: LiveServer, api: httpx.AsyncClient, ticking: str
) -> None:
    ticket = await mint(api)
    url = f"{server.url}/v1/containers/{ticking}/logs?follow=true"
    async with httpx.AsyncClient() as browser:
        forged = await browser.get(url + "&ticket=dyt_forged", headers=SSE)
        doubled = await browser.get(url + f"&ticket={ticket}&ticket={ticket}", headers=SSE)
    assert forged.status_code == 401
    assert doubled.status_code == 401


async def test_a_ticket_is_never_logged_audited_or_a_metric_label(
    server: LiveServer,
    api: httpx.AsyncClient,
    settings: Settings,
    ticking: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        ticket = await mint(api)
        assert (await first_line(server, ticking, ticket)).startswith("tick")
        async with httpx.AsyncClient(base_url=server.url) as browser:
            refused = await browser.post(
                f"/v1/containers/{ticking}/stop", params={"ticket": ticket}
            )
        assert refused.status_code == 401
        metrics = (await api.get("/metrics")).text
    # The service's records only: httpx, the test's own client, logs the URLs it requests.
    served = [r for r in caplog.records if r.name.startswith(("dockyard", "app", "uvicorn"))]
    assert any("/logs" in r.getMessage() for r in served)  # the request was logged, …
    assert all(ticket not in f"{r.getMessage()} {r.__dict__}" for r in served)  # … not the ticket
    assert ticket not in settings.audit_file.read_text()
    assert ticket not in metrics
    assert ticket not in refused.text


# ---------------------------------------------------------------------------- WebSockets


async def test_a_ticket_attaches_an_interactive_exec_without_a_header(
    server: LiveServer, client_for: ClientFactory, ticking: str
) -> None:
    operator = await client_for("operator")
    session = await create_session(operator, ticking, command=["sh", "-c", "read x; echo got-$x"])
    ticket = await mint(operator)
    async with attach(server.url, f"{session['attach']}?ticket={ticket}", None) as ws:
        await ws.send(stdin("it\n"))
        seen = await read_to_end(ws)
    assert bytes(seen.stdout) == b"got-it\n"
    assert seen.status == {"exit_code": 0}


async def test_another_keys_ticket_is_refused_before_the_upgrade(
    server: LiveServer, client_for: ClientFactory, docker: aiodocker.Docker, ticking: str
) -> None:
    owner, other = await client_for("operator"), await client_for("operator")
    session = await create_session(owner, ticking, command=["echo", "ran"])
    status, problem = await refusal(
        server.url, f"{session['attach']}?ticket={await mint(other)}", None
    )
    assert status == 404, problem
    assert problem["type"].endswith("/not-found")
    # Not started: the exec never ran, and its creator can still attach.
    info = await docker._query_json(f"exec/{session['exec_id']}/json")
    assert (info["Running"], info["Pid"]) == (False, 0)
    async with attach(server.url, f"{session['attach']}?ticket={await mint(owner)}", None) as ws:
        seen = await read_to_end(ws)
    assert (bytes(seen.stdout), seen.status) == (b"ran\n", {"exit_code": 0})


async def test_the_dashboard_cookie_opens_no_websocket(
    server: LiveServer, client_for: ClientFactory, ticking: str
) -> None:
    operator = await client_for("operator")
    token = str(operator.headers["Authorization"]).removeprefix("Bearer ")
    async with httpx.AsyncClient(base_url=server.url) as browser:
        signed_in = await browser.post("/ui/session", json={"key": token})
        assert signed_in.status_code in (200, 201), signed_in.text
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    session = await create_session(operator, ticking, command=["true"])
    url = server.url.replace("http://", "ws://") + session["attach"]
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers={"Cookie": cookie}):
            pass
    assert refused.value.response.status_code == 401


# ---------------------------------------------------------------------------- CORS


@pytest.fixture(scope="module")
def cors_server(settings: Settings, admin_token: str) -> Iterator[LiveServer]:
    with second_server(settings, cors_origins=[PAGE_ORIGIN]) as live:
        yield live


@pytest.fixture
async def page(cors_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cors_server.url, timeout=30) as client:
        yield client


async def test_a_named_origin_gets_its_preflight_answered(page: httpx.AsyncClient) -> None:
    preflight = await page.options(
        "/v1/tickets",
        headers={
            "Origin": PAGE_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PAGE_ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "POST" in preflight.headers["access-control-allow-methods"]


async def test_answers_to_a_named_origin_expose_the_headers_a_page_needs(
    page: httpx.AsyncClient, admin_token: str
) -> None:
    response = await page.post(
        "/v1/tickets",
        headers={"Origin": PAGE_ORIGIN, "Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == PAGE_ORIGIN
    exposed = response.headers["access-control-expose-headers"].lower()
    assert {"x-request-id", "retry-after", "last-event-id"} <= set(exposed.split(", "))
    # A refusal is readable too, so the page can show the problem.
    refused = await page.get("/v1/containers", headers={"Origin": PAGE_ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == PAGE_ORIGIN


async def test_other_origins_get_no_cors_and_none_is_the_default(
    page: httpx.AsyncClient, server: LiveServer
) -> None:
    stranger = {
        "Origin": "http://evil.invalid",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    refused = await page.options("/v1/tickets", headers=stranger)
    assert "access-control-allow-origin" not in refused.headers
    async with httpx.AsyncClient(base_url=server.url) as default:  # no DOCKYARD_CORS_ORIGINS
        plain = await default.options("/v1/tickets", headers={**stranger, "Origin": PAGE_ORIGIN})
    assert "access-control-allow-origin" not in plain.headers
