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
 * @module
 */

import { cpuUsage } from "node:process";
import { Counter, Gauge, type Registry } from "prom-client";
import { METRIC_NAMES } from "./metric_names.ts";

/** What the process metrics read; injected by tests. */
export interface ProcessReadings {
  /** Resident set of the process and this isolate's heap, bytes (`Deno.memoryUsage()`). */
  memory(): { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** User + system CPU of the whole process, seconds. */
  cpuSeconds(): number;
  /** Open file descriptors, when the platform says (Linux: `/proc/self/fd`). */
  openFds(): number | undefined;
  /** The soft limit on open file descriptors, when the platform says (Linux: `/proc/self/limits`). */
  maxFds(): number | undefined;
  /** When this isolate started, seconds since the epoch. */
  readonly startSeconds: number;
}

/** The readings of the running process. */
export function denoProcess(): ProcessReadings {
  return {
    memory: () => Deno.memoryUsage(),
    cpuSeconds() {
      const { user, system } = cpuUsage();
      return (user + system) / 1e6;
    },
    openFds() {
      try {
        // Linux ≥ 6.2 reports the count as the directory's size: no walk over thousands of entries.
        const size = Deno.statSync("/proc/self/fd").size;
        if (size > 0) return size;
        let n = 0;
        for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
        return n - 1; // the directory handle being read
      } catch {
        return undefined;
      }
    },
    maxFds() {
      try {
        const m = /^Max open files\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/limits"));
        return m ? Number(m[1]) : undefined;
      } catch {
        return undefined;
      }
    },
    startSeconds: performance.timeOrigin / 1000,
  };
}

/**
 * Registers the process metrics on `registry`; `lagMs` reads the event loop's recent worst
 * lateness ({@linkcode createLoopLag}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { denoProcess, registerProcessMetrics } from "./process_metrics.ts";
 * const registry = new Registry();
 * registerProcessMetrics(registry, denoProcess(), () => 12);
 * const text = await registry.metrics();
 * assert.match(text, /^process_resident_memory_bytes \d+$/m);
 * assert.match(text, /^dairouter_event_loop_lag_seconds 0\.012$/m);
 * ```
 */
export function registerProcessMetrics(
  registry: Registry,
  read: ProcessReadings,
  lagMs: () => number,
): void {
  const registers = [registry];
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
  // Left out where the platform does not say (no /proc): a 0 would read as "no descriptors open".
  const optional = (name: string, help: string, value: () => number | undefined) => {
    if (value() === undefined) return;
    new Gauge({
      name,
      help,
      registers,
      aggregator: "max",
      collect() {
        this.set(value() ?? NaN);
      },
    });
  };
  optional(
    METRIC_NAMES.openFds,
    "Open file descriptors of the process (two per relayed stream).",
    read.openFds,
  );
  optional(METRIC_NAMES.maxFds, "The process's limit on open file descriptors (ulimit -n).", read.maxFds);
  new Gauge({
    name: METRIC_NAMES.startTime,
    help: "When the gateway (its oldest worker) started, seconds since the epoch.",
    registers,
    aggregator: "min",
  }).set(read.startSeconds);
  new Gauge({
    name: METRIC_NAMES.loopLag,
    help: "The longest a timer fired late on the event loop in the last 10 s, seconds (the worst worker's).",
    registers,
    aggregator: "max",
    collect() {
      this.set(lagMs() / 1000);
    },
  });
}
