// One container: its state and actions, live logs, live stats charts, health history, inspect.

import { api, may, stream } from "./api.js";
import { bytes, h, ports, replace, when } from "./dom.js";
import { actions, healthBadge, stateBadge } from "./containers.js";
import { logView } from "./logs.js";
import { chart } from "./chart.js";

export function containerPage(root, ref) {
  const closers = [];
  const path = `/v1/containers/${encodeURIComponent(ref)}`;
  const head = h("section", { class: "card", id: "summary" }, h("p", { class: "muted" }, "Loading…"));
  const error = h("p", { class: "error", role: "alert" });
  const healthBox = h("section", { class: "card", id: "health" });
  const inspectBox = h("details", { class: "card", id: "inspect" }, h("summary", {}, "Inspect"));
  const cpu = chart("CPU %", (v) => `${v.toFixed(1)} %`);
  const memory = chart("Memory", bytes);
  const logs = logView(path);
  closers.push(logs.close);
  root.append(
    h("p", {}, h("a", { href: "#/" }, "← Containers")),
    error,
    head,
    h("section", { class: "card", id: "stats" }, h("h2", {}, "Stats"), h("div", { class: "charts" }, cpu.el, memory.el)),
    logs.el,
    healthBox,
    inspectBox,
  );

  let current = null;
  let statsClose = null;
  async function load() {
    try {
      current = await api("GET", `${path}?raw=true`);
    } catch (failure) {
      error.textContent = failure.message;
      if (failure.status === 404) replace(head, h("p", {}, "This container is gone."));
      return;
    }
    error.textContent = "";
    renderHead(current);
    renderHealth(current);
    replace(inspectBox, h("summary", {}, "Inspect"), h("pre", { class: "mono" }, JSON.stringify(current.attrs, null, 2)));
    logs.attach(current.id, current.state.running);
    // Stats stream only while the container runs (the engine ends it when it stops).
    if (current.state.running && !statsClose) {
      statsClose = stream(`${path}/stats?stream=true`, {
        stats: (s) => {
          cpu.push(s.cpu.percent);
          memory.push(s.memory.usage, s.memory.limit);
        },
        end: () => {
          statsClose?.();
          statsClose = null;
        },
      });
    }
  }

  function renderHead(c) {
    const consoleLink = may("operator") && c.state.running
      ? h("a", { href: `#/c/${encodeURIComponent(c.id)}/console`, class: "button", id: "open-console" }, "Console")
      : null;
    replace(
      head,
      h("h1", {}, c.name, " ", stateBadge(c.state.status), " ", healthBadge(c.health.status)),
      h(
        "dl",
        { class: "facts" },
        fact("Id", c.short_id),
        fact("Image", c.image),
        fact("Command", c.command.join(" ")),
        fact("Created", when(c.created)),
        fact("Started", when(c.state.started_at)),
        c.state.running ? null : fact("Exit code", String(c.state.exit_code)),
        fact("Ports", ports(c.ports) || "—"),
        fact("Networks", Object.keys(c.networks).join(", ") || "—"),
      ),
      h("div", { class: "actions" }, actions(c, c.state.status, load, (f) => (error.textContent = f.message)), consoleLink),
    );
  }

  const transitions = [];
  function renderHealth(c) {
    const probes = c.attrs?.State?.Health?.Log || [];
    replace(
      healthBox,
      h("h2", {}, "Health ", healthBadge(c.health.status)),
      c.health.status === "none"
        ? h("p", { class: "muted" }, "No health check.")
        : [
            h("p", { class: "muted" }, `failing streak ${c.health.failing_streak ?? 0}`),
            h("h3", {}, "Transitions (live)"),
            h("ul", { id: "transitions" }, transitions.map((t) => h("li", {}, `${when(t.at)}: ${t.from} → ${t.to}`))),
            h("h3", {}, "Recent probes"),
            h(
              "table",
              { class: "list" },
              h("tr", {}, ["Start", "Exit", "Output"].map((t) => h("th", {}, t))),
              probes.map((p) => h("tr", {}, h("td", {}, when(p.Start)), h("td", {}, String(p.ExitCode)), h("td", { class: "mono" }, p.Output))),
            ),
          ],
    );
  }

  closers.push(
    // State changes of this container (start, die, stop, destroy…) reload the page's facts.
    stream(`/v1/events?type=container&container=${encodeURIComponent(ref)}`, {
      message: (e) => {
        if (e.action === "destroy") {
          replace(head, h("p", {}, "This container was removed. ", h("a", { href: "#/" }, "Back to the list")));
          return;
        }
        if (!String(e.action).startsWith("exec_")) load();
      },
    }),
    stream("/v1/health/events", {
      health: (t) => {
        if (!current || t.container_id !== current.id) return;
        transitions.unshift(t);
        transitions.length = Math.min(transitions.length, 50);
        load();
      },
    }),
  );
  load();
  return () => {
    closers.forEach((close) => close());
    statsClose?.();
  };
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", { class: "mono" }, value)];
}
