/**
 * The process's own gauges, read at scrape time: resident memory, CPU, open file descriptors
 * against their limit (each open stream holds two), the JS heap, and how late the event loop runs.
 *
 * The `process_*` names are the Prometheus client libraries' standard ones, so existing
 * dashboards and alerts apply. prom-client's `collectDefaultMetrics` is not used: it expects one
 * isolate per process (its values would be summed over the workers, which are threads of one
 * process here) and reads the event-loop delay through a Node API Deno does not implement. So
 * each metric says how the workers of one process combine: process-wide values by their `max`
 * (every worker reads the same), a heap per isolate by their sum, the loop lag by the worst.
 *
 * What is read comes from `main.ts` ({@linkcode ProcessReadings}); without it (a gateway built in
 * a test) only the loop lag is exported.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import { METRIC_NAMES } from "./metric_names.ts";

/** What the process metrics read (`main.ts` passes the running process's). */
export interface ProcessReadings {
  /** Resident set of the process and this isolate's heap, bytes (`Deno.memoryUsage()`). */
  memory(): { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** User + system CPU of the whole process, seconds. */
  cpuSeconds(): number;
  /** Open file descriptors now, where the platform says (`open_files.ts`: Linux, `--allow-all`). */
  readonly openFiles?: () => number | undefined;
  /** The limit on open file descriptors, where the platform says. */
  readonly fileLimit?: number;
  /**
   * When this isolate started, seconds since the epoch (`performance.timeOrigin`; combined by the
   * earliest over the workers: the process's start, give or take a millisecond, until a worker is
   * replaced). `/proc/self/stat` would say it exactly, but Deno opens `/proc` only to `--allow-all`.
   */
  readonly startSeconds: number;
}

/** The help text of the loop-lag gauge (the supervisor builds the gauge for a late worker too). */
export const LOOP_LAG_HELP =
  "The longest a timer fired late on the event loop in the last 10 s, seconds (the worst worker's).";

/**
 * Registers the process metrics on `registry`; `lagMs` reads the event loop's recent worst
 * lateness (`loop_lag.ts`). Without `read`, only the lag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { registerProcessMetrics } from "./process_metrics.ts";
 * const registry = new Registry();
 * registerProcessMetrics(registry, {
 *   memory: () => ({ rss: 150e6, heapUsed: 20e6, heapTotal: 30e6, external: 1e6 }),
 *   cpuSeconds: () => 1.5,
 *   startSeconds: 1800000000,
 * }, () => 12);
 * const text = await registry.metrics();
 * assert.match(text, /^process_resident_memory_bytes 150000000$/m);
 * assert.match(text, /^dairouter_event_loop_lag_seconds 0\.012$/m);
 * ```
 */
export function registerProcessMetrics(
  registry: Registry,
  read: ProcessReadings | undefined,
  lagMs: () => number,
): void {
  const registers = [registry];
  new Gauge({
    name: METRIC_NAMES.loopLag,
    help: LOOP_LAG_HELP,
    registers,
    aggregator: "max",
    collect() {
      this.set(lagMs() / 1000);
    },
  });
  if (read === undefined) return;

  type Memory = ReturnType<ProcessReadings["memory"]>;
  const memoryGauge = (name: string, help: string, pick: (m: Memory) => number, aggregator: "max" | "sum") =>
    new Gauge({
      name,
      help,
      registers,
      aggregator,
      collect() {
        this.set(pick(read.memory()));
      },
    });
  memoryGauge(METRIC_NAMES.residentMemory, "Resident memory of the process, bytes.", (m) => m.rss, "max");
  memoryGauge(
    METRIC_NAMES.heapUsed,
    "JavaScript heap in use, bytes (summed over the workers' isolates).",
    (m) => m.heapUsed,
    "sum",
  );
  memoryGauge(
    METRIC_NAMES.heapTotal,
    "JavaScript heap reserved, bytes (summed over the workers' isolates).",
    (m) => m.heapTotal,
    "sum",
  );
  memoryGauge(
    METRIC_NAMES.externalMemory,
    "Memory held by JavaScript objects outside the heap (buffers), bytes (summed over the workers).",
    (m) => m.external,
    "sum",
  );
  new Counter({
    name: METRIC_NAMES.cpuSeconds,
    help: "User and system CPU time of the process, seconds.",
    registers,
    aggregator: "max",
    collect() {
      this.reset();
      this.inc(read.cpuSeconds());
    },
  });
  new Gauge({
    name: METRIC_NAMES.startTime,
    help: "When the gateway (its oldest running worker) started, seconds since the epoch.",
    registers,
    aggregator: "min",
  }).set(read.startSeconds);
  // Left out where the platform does not say (no /proc): a 0 would read as "no descriptors open".
  const { openFiles, fileLimit } = read;
  if (openFiles !== undefined) {
    new Gauge({
      name: METRIC_NAMES.openFds,
      help: "Open file descriptors of the process (two per relayed stream).",
      registers,
      aggregator: "max",
      collect() {
        this.set(openFiles() ?? NaN);
      },
    });
  }
  if (fileLimit !== undefined) {
    new Gauge({
      name: METRIC_NAMES.maxFds,
      help: "The process's limit on open file descriptors (ulimit -n, LimitNOFILE).",
      registers,
      aggregator: "max",
    }).set(fileLimit);
  }
}
