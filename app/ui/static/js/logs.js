// Live logs of one container: stdout and stderr apart, follow/pause, tail size, timestamps,
// search in what is loaded. A dropped connection is resumed by the browser with Last-Event-ID
// (no gap, no duplicate); a stream the container ended is reopened from the last line's time
// when the container runs again, skipping lines already shown.

import { stream } from "./api.js";
import { h } from "./dom.js";

const MAX_LINES = 5000;

export function logView(path) {
  let close = null;
  let ended = true;
  let paused = false;
  let lastId = null;
  let pending = [];
  const seen = new Set();
  const out = h("div", { class: "log mono", id: "log", role: "log", "aria-live": "off" });
  const tail = h(
    "select",
    { id: "log-tail", title: "lines of history" },
    ["100", "500", "1000", "all"].map((n) => h("option", { value: n, selected: n === "500" }, n === "all" ? "all" : `last ${n}`)),
  );
  const timestamps = h("input", { type: "checkbox", id: "log-timestamps" });
  const search = h("input", { type: "search", id: "log-search", placeholder: "search loaded lines" });
  const matches = h("span", { class: "muted", id: "log-matches" });
  const state = h("span", { class: "stream-state muted", id: "log-state" }, "idle");
  const follow = h("button", { type: "button", id: "log-follow" }, "Pause");
  const el = h(
    "section",
    { class: "card", id: "logs" },
    h("div", { class: "toolbar" }, h("h2", {}, "Logs"), follow, tail, h("label", {}, timestamps, " timestamps"), search, matches, state),
    out,
  );

  follow.addEventListener("click", () => {
    paused = !paused;
    if (!paused) {
      const waiting = pending;
      pending = [];
      waiting.forEach(show);
      scroll();
    }
    follow.textContent = paused ? "Follow" : "Pause";
  });
  timestamps.addEventListener("change", () => out.classList.toggle("show-ts", timestamps.checked));
  search.addEventListener("input", () => {
    for (const line of out.children) filter(line);
    count();
  });
  tail.addEventListener("change", () => {
    // A new history size starts over.
    out.replaceChildren();
    pending = [];
    seen.clear();
    lastId = null;
    open();
  });

  let containerId = null;
  function attach(id, running) {
    containerId = id;
    if (close === null || (ended && running)) open();
  }

  function open() {
    close?.();
    ended = false;
    const params = new URLSearchParams({ follow: "true" });
    // Reopened after the container ran again: from the last line's time (duplicates skipped).
    if (lastId) params.set("since", lastId.split("#")[0]);
    else params.set("tail", tail.value);
    const line = (name) => (data, event) => receive(name, event.data, event.lastEventId);
    close = stream(
      `${path}/logs?${params}`,
      {
        stdout: line("stdout"),
        stderr: line("stderr"),
        end: (info) => {
          ended = true;
          close?.();
          marker(`— stream ended: ${info.reason}${info.exit_code != null ? ` (exit ${info.exit_code})` : ""} —`);
          setState("ended");
        },
      },
      (s) => {
        if (s === "closed") ended = true;
        setState(typeof s === "string" ? s : s.problem.detail);
      },
    );
  }

  function setState(s) {
    state.textContent = s;
    state.dataset.state = s;
  }

  function receive(name, text, id) {
    if (id) {
      if (seen.has(id)) return;
      seen.add(id);
      lastId = id;
    }
    const row = h(
      "div",
      { class: `line ${name}`, dataset: { id: id || "" } },
      h("span", { class: "ts" }, id ? id.split("#")[0] : ""),
      h("span", { class: "text" }, text),
    );
    if (paused) {
      pending.push(row);
      follow.textContent = `Follow (${pending.length} new)`;
      return;
    }
    show(row);
    scroll();
  }

  function show(row) {
    filter(row);
    out.append(row);
    while (out.childElementCount > MAX_LINES) {
      seen.delete(out.firstElementChild.dataset.id);
      out.firstElementChild.remove();
    }
    if (search.value) count();
  }

  function marker(text) {
    out.append(h("div", { class: "line marker" }, text));
    scroll();
  }

  function filter(row) {
    const query = search.value.toLowerCase();
    const text = row.querySelector(".text")?.textContent.toLowerCase() ?? "";
    row.hidden = !!query && !text.includes(query);
  }

  function count() {
    const query = search.value;
    matches.textContent = query ? `${out.querySelectorAll(".line:not([hidden]):not(.marker)").length} matching` : "";
  }

  function scroll() {
    if (!paused) out.scrollTop = out.scrollHeight;
  }

  return {
    el,
    attach,
    close: () => {
      close?.();
      close = null;
    },
    get containerId() {
      return containerId;
    },
  };
}
