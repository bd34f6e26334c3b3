import assert from "node:assert/strict";
import { limiterContract } from "./_testing.ts";
import { createFixedWindow } from "./fixed_window.ts";

limiterContract("fixedWindow", createFixedWindow);

/** Times of the requests that passed, one unit each. */
function admitted(fw: ReturnType<typeof createFixedWindow>, times: number[]): number[] {
  let s = fw.init(times[0]);
  return times.filter((t) => {
    const [next, d] = fw.step(s, t, 1);
    s = next;
    return d.allowed;
  });
}

Deno.test("fixedWindow() windows align to multiples of windowMs: denied at 400 waits 600 ms", () => {
  const fw = createFixedWindow({ capacity: 2, rate: 1, windowMs: 1000 });
  let s = fw.init(250);
  const out = [250, 300, 400, 999, 1000].map((t) => {
    const [next, d] = fw.step(s, t, 1);
    s = next;
    return [d.allowed, d.retryAfterMs, d.resetMs];
  });
  assert.deepEqual(out, [[true, 0, 750], [true, 0, 700], [false, 600, 600], [false, 1, 1], [true, 0, 1000]]);
});

Deno.test("fixedWindow() allows the classic 2× burst around a boundary (3 at 999 ms, 3 at 1000 ms)", () => {
  const fw = createFixedWindow({ capacity: 3, rate: 1, windowMs: 1000 });
  assert.deepEqual(admitted(fw, [999, 999, 999, 999, 1000, 1000, 1000, 1000]), [
    999,
    999,
    999,
    1000,
    1000,
    1000,
  ]);
});

Deno.test("fixedWindow() warm-up: capacity 5 at the start, retry at the next window, 5.5 → 5 there", () => {
  const fw = createFixedWindow({
    capacity: 10,
    rate: 1,
    windowMs: 1000,
    warmUp: { periodMs: 10_000, initialFraction: 0.5 },
  });
  let s = fw.init(0);
  let d;
  [s, d] = fw.step(s, 0, 5);
  assert.deepEqual([d.allowed, d.remaining], [true, 0]);
  [s, d] = fw.step(s, 0, 1);
  // Capacity 6 would need fraction 0.6 (t = 2000), past this window: wait for the next one.
  assert.deepEqual([d.allowed, d.retryAfterMs], [false, 1000]);
  [s, d] = fw.step(s, 1000, 5);
  assert.deepEqual([d.allowed, d.remaining], [true, 0]);
  // 6 fit once the capacity reaches 6 at t = 2000 — the next window, which starts empty anyway.
  assert.equal(fw.peek(s, 1000, 1).retryAfterMs, 1000);
});

Deno.test("fixedWindow() warm-up can admit later in the same window as the ramp rises", () => {
  // Capacity 100 × (0.5 → 1 over 1000 ms), window 10 s: the 51st unit fits at fraction 0.51 (t = 20).
  const fw = createFixedWindow({
    capacity: 100,
    rate: 1,
    windowMs: 10_000,
    warmUp: { periodMs: 1000, initialFraction: 0.5 },
  });
  const [s, d] = fw.step(fw.init(0), 0, 50);
  assert.equal(d.allowed, true);
  assert.equal(fw.peek(s, 0, 1).retryAfterMs, 20);
  assert.equal(fw.peek(s, 19, 1).allowed, false);
  assert.equal(fw.peek(s, 20, 1).allowed, true);
});

Deno.test("createFixedWindow() rejects a window of 0 ms", () => {
  assert.throws(() => createFixedWindow({ capacity: 3, rate: 0, windowMs: 0 }), {
    name: "RangeError",
    message: 'Cannot create fixed window: "windowMs" must be > 0, received 0',
  });
});
