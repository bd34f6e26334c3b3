import assert from "node:assert/strict";
import { createLoopLag } from "./loop_lag.ts";

/** A lag monitor on a hand-driven clock and timer. */
function rig(windowMs = 10_000) {
  const t = { now: 0, fire: undefined as (() => void) | undefined, asked: [] as number[], cancels: 0 };
  const lag = createLoopLag({
    clock: () => t.now,
    schedule: (fn, ms) => {
      t.fire = fn;
      t.asked.push(ms);
      return () => {
        t.cancels++;
        t.fire = undefined;
      };
    },
    windowMs,
  });
  /** The timer fires at `at` (the loop let it run then). */
  const fireAt = (at: number) => {
    t.now = at;
    const fn = t.fire!;
    t.fire = undefined;
    fn();
  };
  return { t, lag, fireAt };
}

Deno.test("a timer on time reads 0; a late one reads its lateness, the worst of the window", () => {
  const { t, lag, fireAt } = rig();
  assert.equal(lag.maxMs(), 0, "not started");
  lag.start();
  lag.start(); // once
  assert.deepEqual(t.asked, [100]);
  fireAt(100);
  assert.equal(lag.maxMs(), 0);
  fireAt(230); // due at 200
  fireAt(330 + 45); // due at 330
  assert.equal(lag.maxMs(), 45);
  fireAt(1_000); // due at 475: 525 late
  assert.equal(lag.maxMs(), 525);
  fireAt(1_100);
  assert.equal(lag.maxMs(), 525, "the worst of the window, not the last");
});

Deno.test("lateness leaves the window after it, and a timer overdue now counts", () => {
  const { t, lag, fireAt } = rig(3_000);
  lag.start();
  fireAt(700); // due at 100: 600 late, second 0
  let at = 700;
  while (at < 3_900) fireAt(at += 100); // on time through seconds 1..3
  assert.equal(t.now, 3_900);
  assert.equal(lag.maxMs(), 0, "second 0 has left a 3 s window");
  t.now = 4_250; // due at 4_000, not fired yet: the loop is busy right now
  assert.equal(lag.maxMs(), 250);
});

Deno.test("stop cancels the timer and forgets", () => {
  const { t, lag, fireAt } = rig();
  lag.start();
  fireAt(900);
  assert.equal(lag.maxMs(), 800);
  lag.stop();
  lag.stop();
  assert.equal(t.cancels, 1);
  assert.equal(t.fire, undefined);
  assert.equal(lag.maxMs(), 0);
  lag.start();
  assert.equal(lag.maxMs(), 0, "a restart does not bring back the old lateness");
});

Deno.test("createLoopLag() rejects bad options with std-style messages", () => {
  const clock = () => 0;
  assert.throws(
    () => createLoopLag({ clock, intervalMs: 0 }),
    new RangeError('Cannot create loop lag monitor: "intervalMs" must be a finite number > 0, received 0'),
  );
  assert.throws(
    () => createLoopLag({ clock, windowMs: NaN }),
    new RangeError('Cannot create loop lag monitor: "windowMs" must be a finite number ≥ 1000, received NaN'),
  );
  assert.throws(() => createLoopLag({ clock: 5 as unknown as () => number }), TypeError);
});
