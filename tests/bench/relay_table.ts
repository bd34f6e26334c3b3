/**
 * The stream-relay capacity table: per target, the most concurrent 20-chunks/s streams it relayed
 * with the added inter-chunk p99 within the limit, and what that cost it.
 *
 * @module
 */

import { directAt, type RelayRow, type RelayStep, rigBound } from "./relay.ts";
import { alignedTable, num } from "./table.ts";

const HEAD = [
  "target",
  "max streams",
  "chunks/s",
  "added p99 ms (direct)",
  "CPU %",
  "chunks/s per core",
  "CPU µs/chunk",
  "upstream CPU %",
  "load CPU %",
  "peak RSS MB",
  "first failing step",
];

/**
 * Chunks relayed per second of the target's CPU time: chunks/s ÷ (CPU seconds per wall second).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunksPerCore } from "./relay_table.ts";
 * assert.equal(chunksPerCore({ chunksPerS: 10_000, cpuPct: 25 }), 40_000);
 * assert.equal(chunksPerCore({ chunksPerS: 10_000 }), undefined);
 * ```
 */
export function chunksPerCore(m: Pick<RelayStep, "chunksPerS" | "cpuPct"> | undefined): number | undefined {
  return m?.cpuPct ? m.chunksPerS / (m.cpuPct / 100) : undefined;
}

/**
 * The largest number of streams that passed: `≥ n` when the cap passed too, or when the failure
 * above it is the rig's (see {@linkcode rigBound}).
 */
export function maxStreams(row: RelayRow, rows: readonly RelayRow[] = []): string {
  if (!row.best) return row.note ? "not measured" : "none passed";
  return `${row.capped || rigBound(row, rows) ? "≥ " : ""}${num(row.best.n, 0)}`;
}

/** A step's added p99, with direct's at the same N when it was measured. */
function p99(m: RelayStep, row: RelayRow, rows: readonly RelayRow[]): string {
  const d = row.target === "direct" ? undefined : directAt(rows, m.n);
  return `${num(m.addedP99Ms, 2)}${d ? ` (${num(d.addedP99Ms, 2)})` : ""}`;
}

function failing(row: RelayRow, rows: readonly RelayRow[]): string {
  if (row.note) return row.note;
  if (row.capped) return "none (cap reached)";
  const f = row.failed;
  if (!f) return "—";
  const why = [
    `p99 ${p99(f, row, rows)} ms${rigBound(row, rows) ? " (rig-bound)" : ""}`,
    ...(f.errors ? [`${f.errors} errors`] : []),
    ...(f.open < f.n ? [`${f.open} open`] : []),
    `CPU ${num(f.cpuPct, 0)}/${num(f.upstreamCpuPct, 0)}/${num(f.loadCpuPct, 0)} %`,
  ];
  return `${num(f.n, 0)}: ${why.join(", ")}`;
}

/** The table (Markdown pipes). */
export function formatRelayTable(rows: readonly RelayRow[]): string {
  const cells = rows.map((r) => {
    const b = r.best;
    const perCore = chunksPerCore(b);
    return [
      r.target,
      maxStreams(r, rows),
      num(b?.chunksPerS, 0),
      b ? p99(b, r, rows) : "n/a",
      num(b?.cpuPct, 0),
      num(perCore, 0),
      num(perCore ? 1e6 / perCore : undefined, 1),
      num(b?.upstreamCpuPct, 0),
      num(b?.loadCpuPct, 0),
      num(b?.peakRssMb, 1),
      failing(r, rows),
    ];
  });
  return alignedTable(HEAD, cells, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]));
}
