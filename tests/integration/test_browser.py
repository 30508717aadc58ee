"""A real headless Chromium against a real server and engine: the dashboard, another origin, /docs.

Every page runs offline: a request to anything but 127.0.0.1 is refused and fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiodocker
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from app.schemas.streams import ExecSpec
from app.security.sessions import COOKIE_NAME
from app.services.exec_sessions import SUBPROTOCOL, Channel
from app.settings import Settings
from tests.browser import DroppingProxy, chromium, offline_context, static_site
from tests.factories import Factory
from tests.support import LiveServer, second_server, unique_name, wait_for

SECONDS = 1000  # Playwright counts milliseconds
NUMBERED = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo n$i; sleep 0.1; done"]

# The page another team serves from its own origin: a ticket with its key, then EventSource.
OTHER_ORIGIN_PAGE = """<!doctype html><meta charset="utf-8"><title>other origin</title>
<script>
window.lines = []; window.opens = 0; window.state = "new";
window.follow = async (api, key, container) => {
  const answer = await fetch(api + "/v1/tickets", {
    method: "POST", headers: {Authorization: "Bearer " + key}});
  const {ticket} = await answer.json();
  window.ticket = ticket;
  const url = api + "/v1/containers/" + container + "/logs?follow=true&tail=all&ticket="
    + encodeURIComponent(ticket);
  const source = new EventSource(url);
  source.onopen = () => { window.opens += 1; window.state = "open"; };
  source.onerror = () => {
    window.state = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"; };
  source.addEventListener("stdout", (e) => window.lines.push(e.data));
  return answer.headers.get("X-Request-ID");
};
window.tryJson = async (api) => (await fetch(
  api + "/v1/containers?ticket=" + encodeURIComponent(window.ticket))).status;
window.tryChange = async (api, container) => (await fetch(
  api + "/v1/containers/" + container + "/stop?ticket=" + encodeURIComponent(window.ticket),
  {method: "POST"})).status;
</script>"""


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    outside: list[str] = []
    async with offline_context(browser, outside) as made:
        yield made
    assert outside == [], f"the page tried to reach another host: {outside}"


async def sign_in(page: Page, server: LiveServer, token: str) -> None:
    await page.goto(f"{server.url}/ui/")
    await page.fill("#key", token)
    await page.click("#sign-in button[type=submit]")
    await expect(page.locator("#containers")).to_be_visible()


async def running(docker: aiodocker.Docker, container: str) -> bool:
    return bool((await (await docker.containers.get(container)).show())["State"]["Running"])


# ---------------------------------------------------------------------------- the dashboard


async def test_dashboard_shows_a_new_container_its_live_logs_and_stops_it(
    server: LiveServer,
    context: BrowserContext,
    make: Factory,
    api: httpx.AsyncClient,
    docker: aiodocker.Docker,
) -> None:
    key, token = make.key("operator", description="browser test")
    page = await context.new_page()
    await sign_in(page, server, token)

    # The key is in no storage a script can read, and the cookie is HttpOnly and SameSite=Strict.
    stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""]
    (cookie,) = [c for c in await context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert token not in json.dumps(await context.cookies())

    # A container made after the page opened appears in the list by itself (engine events).
    name = unique_name("ui")
    marker = f"printed-after-open-{name}"
    script = f"until [ -f /go ]; do sleep 0.1; done; echo {marker}; echo oops-{name} >&2; sleep 600"
    created = await make.running(
        name=name, network="none", stop_timeout=1, command=["sh", "-c", script]
    )
    row = page.locator(f'#containers tr[data-name="{name}"]')
    await expect(row).to_be_visible(timeout=10 * SECONDS)
    await expect(row.locator(".state")).to_contain_text("running")

    await row.locator("a.name").click()
    await expect(page.locator("#summary h1")).to_contain_text(name)
    await expect(page.locator("#log-state")).to_have_text("live", timeout=10 * SECONDS)
    # Only now does the container print: the lines must arrive over the open stream.
    made = await api.post(
        f"/v1/containers/{created['id']}/exec", json={"command": ["touch", "/go"]}
    )
    assert made.status_code == 200, made.text
    await expect(page.locator("#log .line.stdout .text")).to_have_text(
        [marker], timeout=5 * SECONDS
    )
    await expect(page.locator("#log .line.stderr .text")).to_have_text(
        [f"oops-{name}"], timeout=5 * SECONDS
    )
    # Search narrows what is shown to the loaded lines that match.
    await page.fill("#log-search", "oops")
    await expect(page.locator("#log .line.stdout")).to_be_hidden()
    await expect(page.locator("#log-matches")).to_have_text("1 matching")

    await page.click("#summary .act-stop")
    await expect(page.locator("#summary h1 .state-exited")).to_be_visible(timeout=15 * SECONDS)
    assert not await running(docker, created["id"])
    await expect(page.locator("#summary .act-start")).to_be_visible()


async def test_a_viewer_gets_no_buttons(
    server: LiveServer, context: BrowserContext, make: Factory
) -> None:
    await make.running(name=unique_name("view"), network="none")
    _, token = make.key("viewer")
    page = await context.new_page()
    await sign_in(page, server, token)
    await expect(page.locator("#containers tbody tr").first).to_be_visible()
    assert await page.locator("#containers button.act").count() == 0
    assert await page.locator("#nav-audit").is_hidden()


async def test_the_cookie_alone_cannot_change_anything(
    server: LiveServer,
    context: BrowserContext,
    make: Factory,
    docker: aiodocker.Docker,
) -> None:
    _, token = make.key("admin")
    page = await context.new_page()
    await sign_in(page, server, token)
    target = (await make.running(network="none"))["id"]
    statuses = await page.evaluate(
        """async (id) => {
          const call = async (method, path, headers = {}) =>
            (await fetch(path, {method, headers, credentials: "same-origin"})).status;
          return [
            await call("GET", `/v1/containers/${id}`),
            await call("POST", `/v1/containers/${id}/stop`),
            await call("POST", `/v1/containers/${id}/kill`, {"X-CSRF-Token": "guessed"}),
            await call("DELETE", `/v1/containers/${id}?force=true`),
            await call("POST", "/v1/tickets"),
          ];
        }""",
        target,
    )
    assert statuses == [200, 403, 403, 403, 403]
    assert await running(docker, target)

    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    after = await page.evaluate("async () => (await fetch('/v1/containers')).status")
    assert after == 401


# ---------------------------------------------------------------------------- another origin


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("other-origin")
    (root / "index.html").write_text(OTHER_ORIGIN_PAGE, encoding="utf-8")
    with static_site(root) as url:
        yield url


@pytest.fixture(scope="module")
def cors_server(settings: Settings, other_origin: str, admin_token: str) -> Iterator[LiveServer]:
    with second_server(settings, cors_origins=[other_origin]) as live:
        yield live


async def test_another_origin_follows_logs_with_a_ticket_and_resumes_after_a_drop(
    cors_server: LiveServer,
    other_origin: str,
    context: BrowserContext,
    make: Factory,
) -> None:
    key, token = make.key("operator", description="another origin")
    container = (await make.running(network="none", command=NUMBERED))["id"]
    page = await context.new_page()
    await page.goto(f"{other_origin}/index.html")
    async with DroppingProxy(cors_server.port) as proxy:
        request_id = await page.evaluate(
            "([api, key, id]) => window.follow(api, key, id)", [proxy.url, token, container]
        )
        assert request_id  # an exposed header: the page can read it
        await page.wait_for_function("window.lines.length >= 5", timeout=10 * SECONDS)

        proxy.drop()  # the network fails under the open stream
        before = await page.evaluate("window.lines.length")
        await page.wait_for_function(
            f"window.opens >= 2 && window.lines.length >= {before + 5}", timeout=20 * SECONDS
        )
        assert b"last-event-id:" in bytes(proxy.seen).lower()
        lines: list[str] = await page.evaluate("window.lines")
        assert lines == [f"n{i}" for i in range(1, len(lines) + 1)]  # no gap, no duplicate

        # The ticket opens no JSON route and no change, from the browser either.
        assert await page.evaluate("(api) => window.tryJson(api)", proxy.url) == 401
        assert (
            await page.evaluate("([api, id]) => window.tryChange(api, id)", [proxy.url, container])
            == 401
        )

        # Revoking the key kills its ticket: the next reconnect is refused and EventSource stops.
        make.keys.revoke(key.id)
        proxy.drop()
        await page.wait_for_function("window.state === 'closed'", timeout=20 * SECONDS)


# ---------------------------------------------------------------------------- docs offline


async def test_docs_render_offline(server: LiveServer, context: BrowserContext) -> None:
    page = await context.new_page()
    await page.goto(f"{server.url}/docs")
    await expect(page.locator("#swagger-ui .info .title")).to_contain_text(
        "Dockyard", timeout=15 * SECONDS
    )
    await expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    assert await page.locator("#swagger-ui .opblock-summary-path").count() > 20


# ---------------------------------------------------------------------------- the console

TERMINAL_SIZE = re.compile(r"^(\d+) (\d+)$")


async def screen_lines(page: Page) -> list[str]:
    """What the terminal shows, a line per row (xterm.js renders its rows into the DOM)."""
    rows: list[str] = await page.locator("#terminal .xterm-rows > div").all_inner_texts()
    return [row.replace("\xa0", " ").rstrip() for row in rows]


async def typed(page: Page, command: str) -> None:
    """Type a command into the terminal the way a person does: keys into xterm, then Enter."""
    await page.locator("#terminal .xterm-helper-textarea").focus()
    await page.keyboard.type(command)
    await page.keyboard.press("Enter")


async def stty_size(page: Page, already: int) -> tuple[int, int]:
    """Ask the shell for its terminal size; the answer is the newest ``rows cols`` line."""
    await typed(page, "stty size")

    async def answered() -> tuple[int, int] | None:
        sizes = [m for line in await screen_lines(page) if (m := TERMINAL_SIZE.match(line))]
        if len(sizes) <= already:
            return None
        return int(sizes[-1].group(1)), int(sizes[-1].group(2))

    size: tuple[int, int] = await wait_for(answered)
    return size


async def shells(docker: aiodocker.Docker, container: str) -> list[str]:
    top = await docker._query_json(f"containers/{container}/top")
    return [" ".join(row) for row in top["Processes"] or [] if row[-1] == "sh"]


async def test_the_console_runs_a_shell_follows_the_window_and_ends_it_on_close(
    server: LiveServer,
    context: BrowserContext,
    make: Factory,
    client_for: Any,
    docker: aiodocker.Docker,
) -> None:
    operator = await client_for("operator")
    container = (await make.running(client=operator, network="none", stop_timeout=1))["id"]
    _, token = make.key("operator", description="console test")
    page = await context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await sign_in(page, server, token)
    await page.goto(f"{server.url}/ui/#/c/{container}")

    async with page.expect_request("**/v1/tickets") as ticket_request:
        async with page.expect_request(f"**/v1/containers/{container}/exec") as exec_request:
            await page.click("#open-console")
    await expect(page.locator("#console-state")).to_have_text("connected", timeout=10 * SECONDS)

    # What the page sends is the API's contract: the exec's fields, a ticket got with the
    # session cookie and the CSRF header (no key), the WebSocket authenticated by the ticket.
    body = json.loads((await exec_request.value).post_data or "{}")
    assert set(body) <= set(ExecSpec.model_fields)
    assert (body["interactive"], body["tty"], body["command"]) == (True, True, "sh")
    ticket_headers = await (await ticket_request.value).all_headers()
    assert "x-csrf-token" in ticket_headers
    assert "authorization" not in ticket_headers
    (socket_url,) = sockets
    assert re.search(r"/v1/execs/[0-9a-f]{64}/attach\?ticket=dyt_", socket_url), socket_url
    channels = await page.evaluate(
        """async () => {
          const c = await import("/ui/assets/js/console.js");
          return [[c.STDIN, c.STDOUT, c.STDERR, c.STATUS, c.RESIZE], c.SUBPROTOCOL];
        }"""
    )
    assert channels == [[int(c) for c in Channel], SUBPROTOCOL]

    # Keys typed into xterm reach the shell; its output appears in the terminal (the typed
    # line shows $((6*7)), only the output shows 42).
    await typed(page, "echo hello-$((6*7)); id -u")

    async def printed() -> bool:
        lines = await screen_lines(page)
        return "hello-42" in lines and lines[lines.index("hello-42") + 1] == "0"

    await wait_for(printed)
    assert len(await shells(docker, container)) == 1

    # The terminal fits the window and the shell follows: a smaller window, fewer rows and
    # columns, and stty says so (the resize frame is sent before the keys that follow it).
    rows = page.locator("#terminal .xterm-rows > div")
    before = await stty_size(page, already=0)
    assert before[0] == await rows.count()
    await page.set_viewport_size({"width": 900, "height": 600})
    await expect(rows).not_to_have_count(before[0])
    after = await stty_size(page, already=1)
    assert after[0] == await rows.count()
    assert after[0] < before[0], (before, after)
    assert after[1] < before[1], (before, after)

    # Leaving the console closes the WebSocket: the shell is killed, nothing is left behind.
    await page.click("text=← Container")
    await expect(page.locator("#summary h1")).to_be_visible()

    async def shell_gone() -> bool:
        return await shells(docker, container) == []

    await wait_for(shell_gone)


async def test_the_dashboard_is_served_from_the_package_contained(server: LiveServer) -> None:
    # The dashboard's own files come from the package, with the headers that keep it contained.
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/ui/")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        for asset in ("/ui/assets/js/app.js", "/ui/assets/vendor/xterm/xterm.mjs"):
            assert (await client.get(asset)).status_code == 200
        assert (await client.get("/ui")).headers["location"] == "/ui/"
