// Engine events (any role) and the audit trail (admins), both live over SSE, newest first.

import { api, stream } from "./api.js";
import { h, when } from "./dom.js";

const KEEP = 500;

function feed(root, title, columns, id) {
  const body = h("tbody");
  const state = h("span", { class: "stream-state muted" }, "connecting…");
  root.append(
    h("section", { class: "toolbar" }, h("h1", {}, title), state),
    h("table", { class: "list", id }, h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))), body),
  );
  return {
    add(cells, first = true) {
      const tr = h("tr", {}, cells.map((c) => h("td", {}, c)));
      if (first) body.prepend(tr);
      else body.append(tr);
      while (body.childElementCount > KEEP) body.lastElementChild.remove();
    },
    state: (s) => (state.textContent = typeof s === "string" ? s : s.problem.detail),
  };
}

export function eventsPage(root) {
  const view = feed(root, "Engine events", ["Time", "Type", "Action", "Name", "Id"], "events");
  return stream(
    "/v1/events",
    { message: (e) => view.add([when(e.at), e.type, e.action, e.name || "", e.id.slice(0, 12)]) },
    view.state,
  );
}

export function auditPage(root) {
  const view = feed(root, "Audit trail", ["Time", "Key", "Role", "Action", "Target", "Decision", "Status"], "audit");
  const cells = (r) => [when(r.time), r.key_id || "—", r.role || "—", r.action, (r.target_id || "").slice(0, 12), r.decision, String(r.status)];
  // The latest records first, then new ones as they are written.
  api("GET", "/v1/audit?limit=10000")
    .then((records) => records.slice(-200).forEach((r) => view.add(cells(r))))
    .catch((failure) => view.state(failure.message));
  return stream("/v1/audit", { audit: (r) => view.add(cells(r)) }, view.state);
}
