// Live charts: a 15-minute history per series (services and instances) kept in plain arrays and
// drawn by uPlot; one feed message per second appends a point to every series.

import { Component, createRef, h } from "../vendor/preact.mjs";
import uPlot from "../vendor/uPlot.esm.js";

/** Seconds of history shown (the gateway keeps the same). */
export const HISTORY_S = 900;

/** The four metrics of a point `[requests, errors, ttftP95, tokens]`. */
export const METRICS = [
  { title: "Requests/s", index: 0, color: "#4fc3f7" },
  { title: "Errors/s", index: 1, color: "#ef5350" },
  { title: "TTFT p95 (ms)", index: 2, color: "#ffb74d" },
  { title: "Tokens/s", index: 3, color: "#81c784" },
];

/** series key (`s:chat`, `i:<instance id>`) → { xs, ys: [r, e, p, k] } */
const store = new Map();
const charts = new Set();
let lastSec = 0;

function seriesOf(key) {
  let s = store.get(key);
  if (!s) {
    s = { xs: [], ys: [[], [], [], []] };
    store.set(key, s);
  }
  return s;
}

/** Appends second `sec` to every series (`points[key]`, zeros where absent), keeping HISTORY_S. */
function append(sec, points) {
  for (const [key, s] of store) {
    const p = points[key] ?? [0, 0, null, 0];
    s.xs.push(sec);
    for (let i = 0; i < 4; i++) s.ys[i].push(p[i]);
    if (s.xs.length > HISTORY_S) {
      s.xs.shift();
      for (const y of s.ys) y.shift();
    }
  }
}

function prefixed(points) {
  const out = {};
  for (const [k, v] of Object.entries(points.services)) out[`s:${k}`] = v;
  for (const [k, v] of Object.entries(points.instances)) out[`i:${k}`] = v;
  return out;
}

/** Loads the history of a `hello` message (replacing what was there). */
export function loadHistory(history, tickSec) {
  store.clear();
  const load = (key, hist) => {
    const s = seriesOf(key);
    hist.requests.forEach((r, i) => {
      s.xs.push(hist.from + i);
      s.ys[0].push(r);
      s.ys[1].push(hist.errors[i]);
      s.ys[2].push(hist.ttftP95[i]);
      s.ys[3].push(hist.tokens[i]);
    });
  };
  for (const [k, h] of Object.entries(history.services)) load(`s:${k}`, h);
  for (const [k, h] of Object.entries(history.instances)) load(`i:${k}`, h);
  lastSec = tickSec;
}

/** Adds the points of a tick; makes sure every shown series exists. */
export function addTick(tick) {
  for (const svc of tick.services) {
    seriesOf(`s:${svc.kind}`);
    for (const m of svc.models) for (const inst of m.instances) seriesOf(`i:${inst.id}`);
  }
  const points = prefixed(tick.points);
  if (tick.sec <= lastSec) return;
  // Seconds the page missed (a slow tab) are filled with zeros rather than stretched over.
  for (let sec = Math.max(lastSec + 1, tick.sec - HISTORY_S + 1); sec < tick.sec; sec++) append(sec, {});
  append(tick.sec, points);
  lastSec = tick.sec;
  for (const c of charts) c.redraw();
}

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** One small time chart of one metric of one series. Props: `series`, `metric`. */
export class Chart extends Component {
  root = createRef();
  target = createRef();

  componentDidMount() {
    const { metric } = this.props;
    const axis = {
      stroke: css("--muted"),
      grid: { stroke: css("--grid"), width: 1 },
      ticks: { show: false },
    };
    const width = Math.max(160, this.root.current.clientWidth);
    this.plot = new uPlot(
      {
        width,
        height: 110,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ ...axis, space: 60, size: 22 }, { ...axis, size: 40 }],
        series: [{}, { stroke: metric.color, width: 1.5, fill: `${metric.color}22`, spanGaps: false }],
      },
      this.data(),
      this.target.current,
    );
    this.resize = new ResizeObserver(() => {
      const w = Math.max(160, this.root.current.clientWidth);
      if (w !== this.plot.width) this.plot.setSize({ width: w, height: 110 });
    });
    this.resize.observe(this.root.current);
    charts.add(this);
  }

  componentWillUnmount() {
    charts.delete(this);
    this.resize?.disconnect();
    this.plot?.destroy();
  }

  shouldComponentUpdate() {
    return false;
  }

  data() {
    const s = seriesOf(this.props.series);
    return [s.xs, s.ys[this.props.metric.index]];
  }

  redraw() {
    this.plot?.setData(this.data());
  }

  render({ metric, series }) {
    return h(
      "figure",
      { class: "chart", "data-series": series, ref: this.root },
      h("figcaption", null, metric.title),
      h("div", { class: "plot", ref: this.target }),
    );
  }
}

/** The four charts of one series. */
export function ChartRow({ series }) {
  return h("div", { class: "charts" }, METRICS.map((m) => h(Chart, { key: m.index, series, metric: m })));
}
