/**
 * An engine whose load report overflows (two vLLM data-parallel series of 1e308 sum to Infinity)
 * through the real pure modules, as the review's reproduction chained them: Prometheus reader →
 * `readPromEngine` → `InstanceSignal` → `least-load` and `hasRoom`. Before, the learned batch
 * became Infinity, the correction `Infinity − Infinity` NaN, and `engineWork` turned NaN into 0:
 * the "infinitely loaded" instance looked idle and took every request. Now the reading is refused
 * as unusable, and the instance is judged as one without a signal: by in-flight, never as idle.
 */
import assert from "node:assert/strict";
import { engineWork, leastLoad } from "../src/balancer/mod.ts";
import { hasRoom } from "../src/proxy/admission.ts";
import {
  type EngineReading,
  InstanceSignal,
  PROM_ENGINES,
  PromTextReader,
  readPromEngine,
  wantedNames,
} from "../src/signals/mod.ts";
import type { EngineLoad, UpstreamStats } from "../src/types.ts";

/** What the hostile engine exports: finite series whose total is not. */
function overflowing(waiting: number): EngineReading {
  const r = new PromTextReader(wantedNames(PROM_ENGINES.vllm));
  r.push(
    'vllm:num_requests_running{engine="0",model_name="m"} 1e308\n' +
      'vllm:num_requests_running{engine="1",model_name="m"} 1e308\n' +
      `vllm:num_requests_waiting{engine="0",model_name="m"} ${waiting}\n`,
  );
  r.end();
  return readPromEngine(PROM_ENGINES.vllm, r.samples, "m")!;
}

const stats = (inFlight: number, engine?: InstanceSignal): UpstreamStats => ({
  inFlight,
  latencyEwmaMs: 0,
  errorEwma: 0,
  ...(engine ? { engine } : {}),
});

Deno.test("an engine reporting 2 × 1e308 running is not idle to least-load: refused, judged by in-flight", () => {
  const signal = new InstanceSignal({ clock: () => 0, staleAfterMs: 3000, model: "m" });
  assert.equal(signal.record(overflowing(1), 0), false, "a queue behind an Infinity batch");
  assert.equal(signal.record(overflowing(0), 0), false);
  assert.equal(signal.read(1), undefined);
  assert.match(signal.status().error!, /running is Infinity/);

  const hostile = { id: "hostile", weight: 1, stats: stats(1, signal) };
  const sane = { id: "sane", weight: 1, stats: stats(0) };
  const saneLoad: EngineLoad = { waiting: 0, running: 1 };
  const load = (m: typeof hostile) => m.id === "hostile" ? signal.read(m.stats.inFlight) : saneLoad;
  assert.equal(engineWork(1, load(hostile), 0.9), 1, "its one request in flight, not 0");
  const s = leastLoad([hostile, sane], { random: () => 0.5, hashAlgorithm: "fnv1a", loadFactor: 1.25 });
  const picks = Array.from({ length: 6 }, () => s.pick({ load })!.id);
  // 1 in flight against 1 running: a tie, shared — it was "hostile" six times out of six.
  assert.deepEqual(picks.filter((id) => id === "hostile").length, 3, picks.join(","));
});

Deno.test("max-engine-queue: an overflowing scrape neither admits past the last good reading nor blocks forever", () => {
  let now = 0;
  const signal = new InstanceSignal({ clock: () => now, staleAfterMs: 3000, model: "m" });
  const u = { stats: stats(0, signal), config: {} };
  signal.record({ waiting: 3, running: 4 }, 0); // a queue of 3 against max-engine-queue 2
  assert.equal(hasRoom(u, 2), false);
  now = 1000;
  assert.equal(signal.record(overflowing(0), 0), false);
  assert.equal(hasRoom(u, 2), false, "the last good reading still stands");
  now = 3001;
  assert.equal(
    hasRoom(u, 2),
    true,
    "then, stale, the instance is judged as unscraped (max-concurrency alone)",
  );
  assert.equal(hasRoom({ ...u, config: { maxConcurrency: 0 } }, 2), false);
});

Deno.test("hasRoom() reads a NaN engine load as no reading, not as room below the batch", () => {
  const nan: EngineLoad = { waiting: NaN, running: NaN, batch: Infinity };
  const engine = { read: () => nan, status: () => ({ trusted: true }) };
  assert.equal(hasRoom({ stats: { ...stats(0), engine }, config: {} }, 2), true);
  assert.equal(hasRoom({ stats: { ...stats(1), engine }, config: { maxConcurrency: 1 } }, 2), false);
});
