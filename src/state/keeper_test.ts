/**
 * `keepState()` on hand-driven timers and a memory store: saves every interval after the restore,
 * one after another, once more at close, and a failed save is reported without stopping the next.
 */

import assert from "node:assert/strict";
import { createBreaker } from "../breaker/mod.ts";
import type { Schedule } from "../types.ts";
import { keepState } from "./keeper.ts";
import { createMemoryStore } from "./memory.ts";
import type { StateStore } from "./store.ts";

/** A schedule whose timers the test fires; at most one is armed at a time here. */
function manualSchedule() {
  const armed: { fn: () => void; ms: number }[] = [];
  const schedule: Schedule = (fn, ms) => {
    const t = { fn, ms };
    armed.push(t);
    return () => {
      const i = armed.indexOf(t);
      if (i >= 0) armed.splice(i, 1);
    };
  };
  return { schedule, armed, fire: () => armed.shift()?.fn() };
}

function breakerTargets(clock: () => number) {
  const breaker = createBreaker(
    { enabled: true, failureThreshold: 1, timeoutMs: 60_000, successThreshold: 1, halfOpenMaxCalls: 1 },
    clock,
  );
  return { breaker, targets: () => ({ breakers: new Map([["chat/a", breaker]]), limiters: new Map() }) };
}

Deno.test("keepState(): restores, then saves every interval; close() saves once more and closes the store", async () => {
  const timers = manualSchedule();
  const base = createMemoryStore(() => 0);
  let closed = false;
  let sets = 0;
  const store: StateStore = {
    ...base,
    set: (key, value, o) => (sets++, base.set(key, value, o)),
    close: () => void (closed = true),
  };
  const { breaker, targets } = breakerTargets(() => 0);
  const keeper = keepState({
    store,
    targets,
    intervalMs: 5000,
    schedule: timers.schedule,
    onError: (e) => assert.fail(String(e)),
  });
  assert.equal(timers.armed.length, 0, "nothing before the restore");
  assert.deepEqual(await keeper.restore(), { breakers: 0, limiterKeys: 0, skipped: [] });
  assert.deepEqual(timers.armed.map((t) => t.ms), [5000]);
  breaker.onFailure();
  timers.fire();
  await keeper.save();
  const afterTick = sets;
  assert.ok(afterTick > 0, "the tick saved");
  assert.equal(timers.armed.length, 1, "and armed the next one");
  await keeper.close();
  assert.ok(sets > afterTick, "close() saved once more");
  assert.ok(closed);
  assert.equal(timers.armed.length, 0, "no save after close");
  const { breaker: fresh, targets: freshTargets } = breakerTargets(() => 0);
  const summary = await keepState({
    store: base,
    targets: freshTargets,
    intervalMs: 1,
    schedule: () => () => {},
    onError: (e) => assert.fail(String(e)),
  }).restore();
  assert.equal(summary.breakers, 1);
  assert.equal(fresh.state, "open");
});

Deno.test("keepState(): a failed save is reported; the next one still runs", async () => {
  const errors: unknown[] = [];
  let fail = true;
  const base = createMemoryStore(() => 0);
  const store: StateStore = {
    ...base,
    set: (key, value, o) => (fail ? Promise.reject(new Error("disk full")) : base.set(key, value, o)),
  };
  const { breaker, targets } = breakerTargets(() => 0);
  breaker.onFailure();
  const keeper = keepState({
    store,
    targets,
    intervalMs: 1000,
    schedule: () => () => {},
    onError: (e) => errors.push(e),
  });
  await keeper.save();
  assert.match(String(errors[0]), /disk full/);
  fail = false;
  await keeper.save();
  assert.equal(errors.length, 1);
});

Deno.test("keepState() refuses an interval that is not > 0", () => {
  assert.throws(
    () =>
      keepState({
        store: createMemoryStore(() => 0),
        targets: () => ({ breakers: new Map(), limiters: new Map() }),
        intervalMs: 0,
        schedule: () => () => {},
        onError: () => {},
      }),
    new RangeError('Cannot keep state: "intervalMs" must be > 0, received 0'),
  );
});
