import assert from "node:assert/strict";
import { engineLoadOf, InstanceSignal } from "./instance_signal.ts";

function setup(staleAfterMs = 3000) {
  const time = { now: 1000 };
  const signal = new InstanceSignal({ clock: () => time.now, staleAfterMs, model: "llama3" });
  return { time, signal };
}

Deno.test("InstanceSignal: sends since the reading join the queue when the engine had one, else the batch", () => {
  const { signal } = setup();
  signal.record({ waiting: 3, running: 8 }, 10);
  assert.deepEqual({ ...signal.read(12) }, {
    waiting: 5,
    running: 8,
    kvUsage: undefined,
    resident: undefined,
    batch: 8, // seen running 8 with a queue: its batch is full at 8
  });
  signal.record({ waiting: 0, running: 4 }, 10);
  assert.equal(signal.read(13)?.running, 7);
  assert.equal(signal.read(13)?.waiting, 0);
});

Deno.test("InstanceSignal: once the batch size is learned, sends beyond it queue even when the engine had no queue", () => {
  const { signal } = setup();
  signal.record({ waiting: 0, running: 1 }, 0);
  assert.deepEqual([signal.read(5)?.running, signal.read(5)?.waiting], [6, 0], "unknown batch: all run");
  signal.record({ waiting: 1, running: 2 }, 3); // the batch is full at 2
  signal.record({ waiting: 0, running: 1 }, 1);
  assert.deepEqual([signal.read(4)?.running, signal.read(4)?.waiting, signal.read(4)?.batch], [2, 2, 2]);
  signal.record({ waiting: 0, running: 3 }, 3); // more running without a queue: the batch is larger
  assert.equal(signal.read(3)?.batch, 3);
  signal.record({ waiting: 4, running: 1 }, 5); // full at 1 now (its KV cache is): the batch shrinks
  assert.equal(signal.read(5)?.batch, 1);
});

Deno.test("InstanceSignal: finishes since the reading let the queue advance, then shrink the batch, never below 0", () => {
  const { signal } = setup();
  signal.record({ waiting: 2, running: 8 }, 10);
  assert.deepEqual([signal.read(9)?.waiting, signal.read(9)?.running], [1, 8]);
  assert.deepEqual([signal.read(5)?.waiting, signal.read(5)?.running], [0, 5]);
  assert.deepEqual([signal.read(-100)?.waiting, signal.read(-100)?.running], [0, 0]);
});

Deno.test("InstanceSignal: engines with a queue only (TEI, Triton) take the delta on the queue", () => {
  const { signal } = setup();
  signal.record({ waiting: 0 }, 0);
  assert.equal(signal.read(3)?.waiting, 3);
});

Deno.test("InstanceSignal: stale after staleAfterMs, trusted again after a new reading; a failure keeps the old one", () => {
  const { time, signal } = setup(3000);
  assert.equal(signal.read(0), undefined);
  assert.deepEqual(signal.status(), { trusted: false });
  signal.record({ waiting: 1, running: 2, kvUsage: 0.3 }, 0);
  time.now += 3000;
  assert.equal(signal.read(0)?.waiting, 1);
  signal.fail("timeout after 500 ms");
  assert.equal(signal.read(0)?.waiting, 1, "a failed scrape does not erase the reading");
  time.now += 1;
  assert.equal(signal.read(0), undefined);
  assert.deepEqual(signal.status(), {
    waiting: 1,
    running: 2,
    kvUsage: 0.3,
    ageSeconds: 3.001,
    trusted: false,
    error: "timeout after 500 ms",
  });
  signal.record({ waiting: 0, running: 0 }, 0);
  assert.deepEqual(signal.status(), { waiting: 0, running: 0, ageSeconds: 0, trusted: true });
});

Deno.test("InstanceSignal: Ollama residency of the instance's model; queue left unknown", () => {
  const { signal } = setup();
  signal.record({ models: ["llama3:latest"] }, 0);
  assert.deepEqual({ ...signal.read(2) }, {
    waiting: undefined,
    running: undefined,
    kvUsage: undefined,
    resident: true,
    batch: undefined,
  });
  signal.record({ models: ["qwen2.5:7b"] }, 0);
  assert.equal(signal.read(0)?.resident, false);
});

Deno.test("engineLoadOf() reads stats.engine with the endpoint's own in-flight count", () => {
  const { signal } = setup();
  signal.record({ waiting: 0, running: 1 }, 0);
  const endpoint = {
    id: "a",
    weight: 1,
    stats: { inFlight: 2, latencyEwmaMs: 0, errorEwma: 0, engine: signal },
  };
  assert.equal(engineLoadOf(endpoint)?.running, 3);
});

Deno.test("InstanceSignal: an unusable reading (a total that overflowed) is refused, noted, and learns no batch", () => {
  const { time, signal } = setup(3000);
  assert.equal(signal.record({ waiting: 1, running: Infinity }, 0), false);
  assert.equal(signal.read(1), undefined, "no reading: judged as unscraped, never as idle");
  assert.equal(signal.status().error, "running is Infinity, not a finite count");
  assert.equal(signal.record({ waiting: 1, running: 4 }, 0), true);
  time.now += 1000;
  assert.equal(signal.record({ waiting: 0, running: Infinity }, 0), false);
  const load = signal.read(1)!;
  assert.deepEqual([load.waiting, load.running, load.batch], [2, 4, 4], "the previous reading stands");
  assert.equal(signal.status().trusted, true);
  time.now += 2001;
  assert.equal(signal.read(1), undefined, "and ages out like after any failed scrape");
});
