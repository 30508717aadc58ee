// The dashboard's one way to call Dockyard: the session cookie (HttpOnly, so no script can read
// it) authenticates; every change also carries the CSRF token, held in memory only. The API key
// itself is sent once, at sign-in, and never stored by the page.

export const session = { info: null };
const ROLES = { viewer: 1, operator: 2, admin: 3 };
const SAFE = new Set(["GET", "HEAD"]);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let onSignedOut = () => {};
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export function may(role) {
  return !!session.info && ROLES[session.info.role] >= ROLES[role];
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (!SAFE.has(method) && session.info) headers["X-CSRF-Token"] = session.info.csrf_token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 401 && path.startsWith("/v1")) {
      session.info = null;
      onSignedOut();
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

export async function signIn(key) {
  session.info = await api("POST", "/ui/session", { key });
  return session.info;
}

export async function resume() {
  try {
    session.info = await api("GET", "/ui/session");
  } catch (error) {
    if (error.status !== 401) throw error;
    session.info = null;
  }
  return session.info;
}

export async function signOut() {
  try {
    await api("DELETE", "/ui/session");
  } finally {
    session.info = null;
  }
}

// An SSE stream the page owns. The browser reconnects by itself after a drop and sends
// Last-Event-ID, so a log stream resumes right after the last line it showed.
// ``handlers`` maps event names to functions of the parsed data; ``onState`` hears
// "live" | "reconnecting" | "closed" | {problem}.
export function stream(path, handlers, onState = () => {}) {
  const source = new EventSource(path);
  for (const [name, fn] of Object.entries(handlers)) {
    if (name === "error") continue;
    source.addEventListener(name, (event) => fn(parse(event.data), event));
  }
  source.addEventListener("open", () => onState("live"));
  source.addEventListener("error", (event) => {
    if (event.data) {
      // The server's own ``event: error``: a problem after the stream started.
      const problem = parse(event.data);
      handlers.error?.(problem);
      onState({ problem });
      source.close();
      return;
    }
    onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
  });
  return () => source.close();
}

function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
