// The containers list: live from engine events (a change re-lists) and the health cache's
// transitions (a badge changes in place). Buttons appear only where the key's role allows.

import { api, may, stream } from "./api.js";
import { debounce, h, ports, replace, throttle, when } from "./dom.js";

// Engine actions that change what a row shows (exec_*, health_status… do not).
const CHANGES = new Set(["create", "start", "die", "stop", "pause", "unpause", "restart", "destroy", "rename", "update", "oom"]);

export function healthBadge(status) {
  return h("span", { class: `badge health-${status}`, title: "health" }, status);
}

export function stateBadge(status) {
  return h("span", { class: `badge state-${status}` }, status);
}

// Lifecycle buttons for a container in ``status``; ``done`` runs after an action succeeds.
export function actions(container, status, done, onError) {
  if (!may("operator")) return [];
  const running = status === "running" || status === "restarting" || status === "paused";
  const act = (label, method, path, confirmText) =>
    h(
      "button",
      {
        type: "button",
        class: `act act-${label.toLowerCase()}`,
        onclick: async (event) => {
          if (confirmText && !window.confirm(confirmText)) return;
          event.target.disabled = true;
          try {
            await api(method, path);
            done?.();
          } catch (failure) {
            onError?.(failure);
          } finally {
            event.target.disabled = false;
          }
        },
      },
      label,
    );
  const base = `/v1/containers/${encodeURIComponent(container.id)}`;
  return [
    running ? null : act("Start", "POST", `${base}/start`),
    running ? act("Stop", "POST", `${base}/stop`) : null,
    running ? act("Restart", "POST", `${base}/restart`) : null,
    act("Remove", "DELETE", `${base}?force=true`, `Remove ${container.name}?`),
  ];
}

export function containersPage(root) {
  const name = h("input", { type: "search", id: "filter-name", placeholder: "name contains…" });
  const label = h("input", { type: "search", id: "filter-label", placeholder: "label k or k=v" });
  const all = h("input", { type: "checkbox", id: "filter-all", checked: true });
  const status = h("span", { class: "stream-state muted" }, "connecting…");
  const error = h("p", { class: "error", role: "alert" });
  const body = h("tbody");
  const rows = new Map(); // container id -> its <tr>
  root.append(
    h(
      "section",
      { class: "toolbar" },
      h("h1", {}, "Containers"),
      name,
      label,
      h("label", {}, all, " stopped too"),
      status,
    ),
    error,
    h(
      "table",
      { class: "list", id: "containers" },
      h(
        "thead",
        {},
        h("tr", {}, ["Name", "Image", "State", "Health", "Ports", "Created", ""].map((t) => h("th", {}, t))),
      ),
      body,
    ),
  );

  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    const params = new URLSearchParams();
    if (all.checked) params.set("all", "true");
    if (name.value.trim()) params.set("name", name.value.trim());
    if (label.value.trim()) params.append("label", label.value.trim());
    try {
      const list = await api("GET", `/v1/containers?${params}`);
      if (mine !== generation) return; // a newer refresh is under way
      error.textContent = "";
      rows.clear();
      replace(body, list.map(row));
      if (!list.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No containers.")));
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  function row(c) {
    const tr = h(
      "tr",
      { dataset: { id: c.id, name: c.name } },
      h("td", {}, h("a", { href: `#/c/${encodeURIComponent(c.id)}`, class: "name" }, c.name)),
      h("td", { class: "mono" }, c.image),
      h("td", { class: "state" }, stateBadge(c.status), " ", h("span", { class: "muted" }, c.status_text)),
      h("td", { class: "health" }, healthBadge(c.health)),
      h("td", { class: "mono" }, ports(c.ports)),
      h("td", {}, when(c.created)),
      h("td", { class: "actions" }, actions(c, c.status, refreshSoon, (f) => (error.textContent = f.message))),
    );
    rows.set(c.id, tr);
    return tr;
  }

  const refreshSoon = throttle(refresh, 300);
  for (const input of [name, label]) input.addEventListener("input", debounce(refresh, 300));
  all.addEventListener("change", refresh);

  const setState = (state) => {
    status.textContent = typeof state === "string" ? state : state.problem.detail;
    status.dataset.state = typeof state === "string" ? state : "error";
  };
  const closers = [
    // Any container event may change a row (created, started, died, renamed, destroyed).
    stream("/v1/events?type=container", { message: (e) => CHANGES.has(e.action) && refreshSoon() }, (state) => {
      setState(state);
      if (state === "live") refreshSoon(); // after a reconnect, catch up with what was missed
    }),
    stream("/v1/health/events", {
      health: (t) => {
        const tr = rows.get(t.container_id);
        if (tr) tr.querySelector(".health").replaceChildren(healthBadge(t.to));
        else refreshSoon();
      },
    }),
  ];
  refresh();
  return () => closers.forEach((close) => close());
}
