/**
 * The bench's main table (plain text, also valid Markdown). Each gateway row is compared with the
 * bare Deno proxy of the same scenario and run when it was measured, else with the upstream
 * directly; a variant (Redis, two workers) with the plain gateway; a client dialect with plain
 * OpenAI chat through the same gateway.
 *
 * @module
 */

import { cpuPerChunk, find, type Measurement } from "./measurement.ts";

const HEAD = [
  "scenario",
  "target",
  "req/s",
  "p50 ms",
  "p99 ms",
  "errors",
  "CPU µs/req",
  "peak RSS MB",
  "compared with",
];

/** A number with thousands separators and fixed digits; "n/a" when missing. */
export const num = (v: number | undefined, digits: number): string =>
  v === undefined || !Number.isFinite(v)
    ? "n/a"
    : v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** A difference with its sign (− for negative). */
export const signed = (v: number, digits = 2): string => `${v >= 0 ? "+" : "−"}${num(Math.abs(v), digits)}`;

/** A dialect's row against the plain OpenAI row of the same run: CPU per request, and per chunk. */
function versusPlain(m: Measurement, plain: Measurement | undefined): string {
  if (!plain?.cpuUsPerRequest || m.cpuUsPerRequest === undefined) return `vs ${m.compare}: n/a`;
  const ratio = num(m.cpuUsPerRequest / plain.cpuUsPerRequest, 2);
  if (m.kind !== "stream") return `CPU ${ratio}× plain chat (${num(plain.cpuUsPerRequest, 0)} µs)`;
  return `CPU/chunk ${num(cpuPerChunk(m), 1)} µs vs ${num(cpuPerChunk(plain), 1)} µs plain (${ratio}×); ` +
    `reads/stream ${num(m.readsP50, 0)}`;
}

function holdText(m: Measurement): string {
  // Per stream: RSS with every stream open minus RSS before (the peak also holds opening garbage).
  const grew = (m.rssHoldingMb ?? NaN) - (m.rssBeforeMb ?? NaN);
  const heap = m.heapUsedMb === undefined
    ? ""
    : `; JS heap ${num(m.heapUsedMb, 0)} of ${num(m.heapTotalMb, 0)} MB`;
  return `${m.open} open; RSS ${num(m.rssBeforeMb, 0)} → ${num(m.rssHoldingMb, 0)} MB (${
    num((grew * 1024) / (m.open || 1), 0)
  } KB/stream)${heap}`;
}

function soakText(m: Measurement): string {
  const growth = ((m.rssEndMb! - m.rssStartMb!) / m.rssStartMb!) * 100;
  return `RSS ${num(m.rssStartMb, 1)} → ${num(m.rssEndMb, 1)} MB (${signed(growth, 1)} %)`;
}

/** `m` against a reference row `ref` of the same scenario, named `name`. */
function versus(m: Measurement, ref: Measurement, name: string): string {
  const cpu = m.cpuUsPerRequest !== undefined && ref.cpuUsPerRequest
    ? `, CPU ${num(m.cpuUsPerRequest / ref.cpuUsPerRequest, 2)}×`
    : "";
  if (m.kind === "stream") {
    return `vs ${name}: TTFB p50 ${signed(m.ttfbP50Ms! - ref.ttfbP50Ms!)} ms, CPU/chunk ${
      num(cpuPerChunk(m), 1)
    } vs ${num(cpuPerChunk(ref), 1)} µs; reads/stream ${num(m.readsP50, 0)}/${num(ref.readsP50, 0)}`;
  }
  return `vs ${name}: ${num((m.rps ?? 0) / (ref.rps || 1), 2)}× req/s, p50 ${
    signed(m.p50Ms! - ref.p50Ms!)
  } ms, ` +
    `p99 ${signed(m.p99Ms! - ref.p99Ms!)} ms${cpu}`;
}

/** What the last column says for `m`. */
function compared(m: Measurement, rows: readonly Measurement[]): string {
  if (m.compare) return versusPlain(m, find(rows, m.compare, "gateway"));
  if (m.kind === "soak") return soakText(m);
  if (m.kind === "hold") return holdText(m);
  const ref = m.target === "gateway"
    ? find(rows, m.scenario, "deno proxy") ?? find(rows, m.scenario, "direct")
    : m.target === "deno proxy"
    ? find(rows, m.scenario, "direct")
    : m.target === "direct"
    ? undefined
    : find(rows, m.scenario, "gateway");
  if (ref) return versus(m, ref, ref.target === "gateway" ? "plain gateway" : ref.target);
  return m.kind === "stream"
    ? `TTFB p50 ${num(m.ttfbP50Ms, 2)} ms, CPU/chunk ${num(cpuPerChunk(m), 1)} µs; reads/stream ${
      num(m.readsP50, 0)
    }`
    : "—";
}

/** Aligned rows with Markdown pipes; `right` holds the indices of right-aligned columns. */
export function alignedTable(
  head: readonly string[],
  cells: readonly string[][],
  right: Set<number>,
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: readonly string[]) =>
    `| ${c.map((s, i) => (right.has(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${
    widths.map((w, i) => (right.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")
  }|`;
  return [line(head), rule, ...cells.map(line)].join("\n");
}

/** The table, one row per measurement, aligned; Markdown pipes so it pastes into the README. */
export function formatTable(rows: readonly Measurement[]): string {
  const cells = rows.map((m) => [
    m.label,
    m.target,
    m.kind === "hold"
      ? "—"
      : `${num(m.rps, 0)}${m.rpsSpread === undefined ? "" : ` (−${num(m.rpsSpread * 100, 0)}%)`}`,
    num(m.p50Ms, 2),
    num(m.p99Ms, 2),
    `${m.errors}/${m.requests}`,
    num(m.cpuUsPerRequest, 0),
    num(m.peakRssMb, 1),
    compared(m, rows),
  ]);
  return alignedTable(HEAD, cells, new Set([2, 3, 4, 5, 6, 7]));
}
