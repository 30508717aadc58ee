// An interactive shell in a container: xterm.js over the interactive exec WebSocket.
// POST .../exec {interactive, tty} creates the exec; a ticket (POST /v1/tickets) authenticates
// the WebSocket, since a browser cannot send Authorization there and the session cookie is
// never accepted on WebSockets. Frames: first byte is the channel — 0 stdin, 1 stdout,
// 2 stderr, 3 status (JSON {exit_code}), 4 resize (JSON {width, height}).

import { Terminal } from "../vendor/xterm/xterm.mjs";
import { FitAddon } from "../vendor/xterm/addon-fit.mjs";
import { api } from "./api.js";
import { h } from "./dom.js";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const STATUS = 3;
export const RESIZE = 4;
export const SUBPROTOCOL = "v4.channel.k8s.io";

const encoder = new TextEncoder();

export function frame(channel, payload) {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const out = new Uint8Array(bytes.length + 1);
  out[0] = channel;
  out.set(bytes, 1);
  return out;
}

export function consolePage(root, ref) {
  const command = h("input", { id: "console-command", value: "sh", size: 30 });
  const start = h("button", { type: "button", id: "console-start" }, "Start");
  const state = h("span", { class: "stream-state muted", id: "console-state" }, "not started");
  const screen = h("div", { class: "terminal", id: "terminal" });
  root.append(
    h("p", {}, h("a", { href: `#/c/${encodeURIComponent(ref)}` }, "← Container")),
    h("section", { class: "card" }, h("div", { class: "toolbar" }, h("h1", {}, "Console"), command, start, state), screen),
  );
  const css = h("link", { rel: "stylesheet", href: "/ui/assets/vendor/xterm/xterm.css" });
  document.head.append(css);

  const term = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 13 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  fit.fit();
  let socket = null;
  const decoder = new TextDecoder();

  function send(channel, payload) {
    if (socket?.readyState === WebSocket.OPEN) socket.send(frame(channel, payload));
  }
  function resize() {
    fit.fit();
    send(RESIZE, JSON.stringify({ width: term.cols, height: term.rows }));
  }

  async function connect() {
    socket?.close();
    term.reset();
    state.textContent = "starting…";
    try {
      const exec = await api("POST", `/v1/containers/${encodeURIComponent(ref)}/exec`, {
        command: command.value.trim() || "sh",
        interactive: true,
        tty: true,
      });
      const { ticket } = await api("POST", "/v1/tickets");
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const url = `${scheme}//${location.host}${exec.attach}?ticket=${encodeURIComponent(ticket)}`;
      socket = new WebSocket(url, [SUBPROTOCOL]);
    } catch (failure) {
      state.textContent = failure.message;
      return;
    }
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => {
      state.textContent = "connected";
      resize();
      term.focus();
    });
    socket.addEventListener("message", (event) => {
      const data = new Uint8Array(event.data);
      const payload = data.subarray(1);
      if (data[0] === STDOUT || data[0] === STDERR) term.write(payload);
      else if (data[0] === STATUS) {
        const status = JSON.parse(decoder.decode(payload));
        state.textContent = `exited (${status.exit_code})`;
        term.write(`\r\n[process exited with code ${status.exit_code}]\r\n`);
      }
    });
    socket.addEventListener("close", (event) => {
      // 1000 after the status frame; 4408 idle (the process was killed); 1001 server stopping.
      if (state.textContent === "connected") state.textContent = `closed (${event.reason || event.code})`;
    });
  }

  const typing = term.onData((text) => send(STDIN, text));
  // The terminal follows its box (the window, or the layout), and the process follows the terminal.
  const watcher = new ResizeObserver(() => resize());
  watcher.observe(screen);
  start.addEventListener("click", connect);
  connect();
  return () => {
    typing.dispose();
    watcher.disconnect();
    socket?.close();
    term.dispose();
    css.remove();
  };
}
