/**
 * The routing simulation is deterministic (a seed gives the same numbers, whatever the machine
 * does meanwhile), runs events in time order, and drives the real queue: a short run.
 */
import assert from "node:assert/strict";
import { runOnce, workload } from "./main.ts";
import { VirtualTime } from "./virtual_time.ts";
import { sessions } from "./workload.ts";

Deno.test("VirtualTime runs events in time order, ties in the order they were set; cancelled ones never", () => {
  const t = new VirtualTime();
  const seen: string[] = [];
  t.schedule(() => seen.push("b@10"), 10);
  t.schedule(() => seen.push("a@5"), 5);
  const cancel = t.schedule(() => seen.push("never"), 7);
  t.schedule(() => seen.push("c@10"), 10);
  t.schedule(() => t.schedule(() => seen.push("d@15"), 10), 5);
  cancel();
  t.run();
  assert.deepEqual(seen, ["a@5", "b@10", "c@10", "d@15"]);
  assert.equal(t.now(), 15);
});

Deno.test("routing simulation: the same seed gives the same numbers; the gate bounds the slow engine's queue", () => {
  const window = { fromMs: 10_000, toMs: 60_000 };
  const heavy = sessions(workload(3, 60, 2.4));
  const run = () =>
    runOnce(
      "q",
      { strategy: "least-load", seed: 3, queue: { maxSize: 500, maxWaitMs: 60_000, maxEngineQueue: 2 } },
      heavy,
      window,
    );
  const first = run();
  assert.deepEqual(run(), first);
  assert.ok(first.requests > 100, `${first.requests} requests measured`);
  assert.ok(first.gatewayQueueMax > 0, "requests waited in the gateway");
  assert.ok(first.slowQueueMax <= 6, `the slow engine's queue reached ${first.slowQueueMax}`);
  const open = runOnce("open", { strategy: "least-load", seed: 3 }, heavy, window);
  assert.ok(open.slowQueueMax > 2 * first.slowQueueMax, `without the queue: ${open.slowQueueMax}`);
});
