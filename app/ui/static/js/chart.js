// A small live line chart (SVG, no library): the last 60 samples, with the latest value shown.

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 60;
const KEEP = 60;

export function chart(title, format) {
  const values = [];
  let ceiling = 0;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("class", "spark");
  const line = document.createElementNS(NS, "polyline");
  svg.append(line);
  const latest = h("span", { class: "latest" }, "—");
  const el = h("figure", { class: "chart", dataset: { chart: title } }, h("figcaption", {}, title, " ", latest), svg);

  function push(value, limit) {
    values.push(value);
    if (values.length > KEEP) values.shift();
    // Scale to the limit when there is one (memory), else to the largest value seen (CPU).
    ceiling = limit || Math.max(1, ...values);
    const step = WIDTH / (KEEP - 1);
    const start = KEEP - values.length;
    line.setAttribute(
      "points",
      values.map((v, i) => `${((start + i) * step).toFixed(1)},${(HEIGHT - (v / ceiling) * (HEIGHT - 2) - 1).toFixed(1)}`).join(" "),
    );
    latest.textContent = limit ? `${format(value)} of ${format(limit)}` : format(value);
  }
  return { el, push };
}
