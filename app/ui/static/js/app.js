// Boot and routing: the hash names the page (#/, #/c/<id>, #/c/<id>/console, #/events, #/audit).
// Each page is a function (root, params) -> cleanup; leaving a page runs its cleanup, which closes
// every stream the page opened.

import { may, resume, session, signIn, signOut, whenSignedOut } from "./api.js";
import { h, replace } from "./dom.js";
import { containersPage } from "./containers.js";
import { containerPage } from "./container.js";
import { consolePage } from "./console.js";
import { auditPage, eventsPage } from "./activity.js";

const view = document.getElementById("view");
let cleanup = null;

const routes = [
  [/^#\/c\/([^/]+)\/console$/, consolePage],
  [/^#\/c\/([^/]+)$/, containerPage],
  [/^#\/events$/, eventsPage],
  [/^#\/audit$/, auditPage],
  [/^(#\/?)?$/, containersPage],
];

function leave() {
  if (cleanup) cleanup();
  cleanup = null;
}

function route() {
  leave();
  if (!session.info) return showSignIn();
  showChrome();
  const hash = location.hash || "#/";
  for (const [pattern, page] of routes) {
    const match = hash.match(pattern);
    if (match) {
      const root = replace(view);
      cleanup = page(root, ...match.slice(1).map(decodeURIComponent)) || null;
      return;
    }
  }
  replace(view, h("p", {}, "No such page. ", h("a", { href: "#/" }, "Containers")));
}

function showChrome() {
  document.getElementById("nav").hidden = false;
  document.getElementById("nav-audit").hidden = !may("admin");
  document.getElementById("sign-out").hidden = false;
  const info = session.info;
  document.getElementById("who").textContent = `key ${info.key_id} · ${info.role}`;
}

function showSignIn(message) {
  leave();
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  const key = h("input", {
    id: "key",
    type: "password",
    name: "key",
    autocomplete: "off",
    placeholder: "dyk_…",
    required: true,
    size: 60,
  });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h(
    "form",
    { class: "card sign-in", id: "sign-in" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Paste an API key. It is checked once and never stored by this page."),
    key,
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await signIn(key.value);
      key.value = "";
      route();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  replace(view, form);
  key.focus();
}

document.getElementById("sign-out").addEventListener("click", async () => {
  leave();
  await signOut().catch(() => {});
  showSignIn("Signed out.");
});
whenSignedOut(() => showSignIn("Your session ended; sign in again."));
window.addEventListener("hashchange", route);

resume().then(route, (failure) => showSignIn(failure.message));
