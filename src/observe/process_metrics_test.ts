import assert from "node:assert/strict";
import { aggregateMetrics, createMetrics } from "./metrics.ts";
import type { ProcessReadings } from "./process_metrics.ts";

/** Readings of one worker: the process-wide ones shared, its heap its own. */
function readings(heapUsed: number, fds?: number): ProcessReadings {
  return {
    memory: () => ({ rss: 300e6, heapUsed, heapTotal: heapUsed * 2, external: 1e6 }),
    cpuSeconds: () => 12.5,
    openFiles: fds === undefined ? undefined : () => fds,
    fileLimit: fds === undefined ? undefined : 65_536,
    startSeconds: 1_800_000_000 + heapUsed / 1e6,
  };
}

const value = (text: string, name: string) => {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
};

Deno.test("one worker's exposition: the process, its heap, its loop lag in seconds", async () => {
  const metrics = createMetrics({ process: readings(20e6, 2_014) });
  metrics.setLoopLagSource(() => 37);
  const text = await metrics.render();
  assert.equal(value(text, "process_resident_memory_bytes"), 300e6);
  assert.equal(value(text, "process_cpu_seconds_total"), 12.5);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.equal(value(text, "process_open_fds"), 2_014);
  assert.equal(value(text, "process_max_fds"), 65_536);
  assert.equal(value(text, "process_start_time_seconds"), 1_800_000_020);
  assert.equal(value(text, "dairouter_js_heap_used_bytes"), 20e6);
  assert.equal(value(text, "dairouter_js_heap_total_bytes"), 40e6);
  assert.equal(value(text, "dairouter_js_external_memory_bytes"), 1e6);
  assert.equal(value(text, "dairouter_event_loop_lag_seconds"), 0.037);
});

Deno.test("a platform without /proc leaves the descriptor gauges out instead of reporting 0", async () => {
  const text = await createMetrics({ process: readings(20e6) }).render();
  assert.equal(value(text, "process_open_fds"), undefined);
  assert.equal(value(text, "process_max_fds"), undefined);
  assert.equal(value(text, "process_resident_memory_bytes"), 300e6);
});

Deno.test("workers of one process: process-wide values once, heaps summed, the worst loop lag", async () => {
  const a = createMetrics({ process: readings(20e6, 100) });
  const b = createMetrics({ process: readings(30e6, 100) });
  a.setLoopLagSource(() => 5);
  b.setLoopLagSource(() => 140);
  const text = await aggregateMetrics([await a.snapshot(), await b.snapshot()]);
  assert.equal(value(text, "process_resident_memory_bytes"), 300e6, "not 600 MB");
  assert.equal(value(text, "process_cpu_seconds_total"), 12.5, "not twice the CPU");
  assert.equal(value(text, "process_open_fds"), 100);
  assert.equal(value(text, "process_start_time_seconds"), 1_800_000_020, "the oldest worker");
  assert.equal(value(text, "dairouter_js_heap_used_bytes"), 50e6);
  assert.equal(value(text, "dairouter_event_loop_lag_seconds"), 0.14);
});

Deno.test("a gateway built without readings (a test's) exports the loop lag only", async () => {
  const text = await createMetrics().render();
  assert.equal(value(text, "dairouter_event_loop_lag_seconds"), 0);
  assert.equal(value(text, "process_resident_memory_bytes"), undefined);
});
