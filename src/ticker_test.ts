import assert from "node:assert/strict";
import { manualSchedule } from "../tests/fakes/manual_schedule.ts";
import { checkTickerOptions, createTicker, type TickerOptions } from "./ticker.ts";
import type { Schedule } from "./types.ts";

/** A ticker of 1000 ms on manual time; `ticks` holds the time of every tick. */
function setup(onTick: () => void = () => {}) {
  const time = manualSchedule();
  const ticks: number[] = [];
  const ticker = createTicker({
    clock: time.now,
    intervalMs: 1_000,
    schedule: time.schedule,
    onTick: () => (ticks.push(time.now()), onTick()),
  });
  return { time, ticks, ticker };
}

Deno.test("createTicker() is idle until start(), which ticks at once and then every intervalMs", () => {
  const { time, ticks, ticker } = setup();
  assert.equal(ticker.started, false);
  time.advance(5_000);
  assert.deepEqual(ticks, []);
  ticker.start();
  assert.equal(ticker.started, true);
  time.advance(2_999);
  assert.deepEqual(ticks, [5_000, 6_000, 7_000]);
  assert.deepEqual(time.pending(), [1], "one timer, due on the grid");
  ticker.stop();
});

Deno.test("a tick that takes time does not drift the grid (fixed rate, not fixed delay)", () => {
  const { time, ticks, ticker } = setup(() => time.jump(300));
  ticker.start();
  assert.deepEqual(time.pending(), [700]);
  time.advance(1_700);
  assert.deepEqual(ticks, [0, 1_000, 2_000]);
  ticker.stop();
});

Deno.test("after a clock jump the ticker fires once, late, and drops the missed ticks", () => {
  const { time, ticks, ticker } = setup();
  ticker.start();
  time.jump(3_500); // the event loop was blocked through the ticks due at 1000, 2000, 3000
  time.advance(0);
  assert.deepEqual(ticks, [0, 3_500]);
  assert.deepEqual(time.pending(), [500], "next tick back on the 1000 ms grid, at 4000");
  ticker.stop();
});

Deno.test("stop() cancels the next tick; start() twice does not double it; start() after stop() resumes", () => {
  const { time, ticks, ticker } = setup();
  ticker.start();
  ticker.start();
  assert.deepEqual(time.pending(), [1_000]);
  ticker.stop();
  ticker.stop();
  assert.equal(ticker.started, false);
  assert.deepEqual(time.pending(), []);
  time.advance(5_000);
  assert.deepEqual(ticks, [0]);
  ticker.start();
  time.advance(1_000);
  assert.deepEqual(ticks, [0, 5_000, 6_000], "a new phase from the restart");
  ticker.stop();
});

Deno.test("a tick that stops the ticker leaves no timer behind", () => {
  const { time, ticks, ticker } = setup(() => ticker.stop());
  ticker.start();
  assert.deepEqual(ticks, [0]);
  assert.equal(ticker.started, false);
  assert.deepEqual(time.pending(), []);
});

Deno.test("createTicker() and checkTickerOptions() reject bad options with std-style messages", () => {
  const base: TickerOptions & { onTick: () => void } = {
    clock: () => 0,
    intervalMs: 1_000,
    onTick: () => {},
  };
  assert.throws(
    () => createTicker({ ...base, intervalMs: 0 }),
    new RangeError('Cannot create ticker: "intervalMs" must be a finite number > 0, received 0'),
  );
  assert.throws(
    () => createTicker({ ...base, intervalMs: NaN }),
    new RangeError('Cannot create ticker: "intervalMs" must be a finite number > 0, received NaN'),
  );
  assert.throws(
    () => createTicker({ ...base, onTick: undefined as unknown as () => void }),
    new TypeError('Cannot create ticker: "onTick" must be a function, received undefined'),
  );
  assert.throws(
    () => createTicker(null as unknown as typeof base),
    new TypeError("Cannot create ticker: options must be an object, received null"),
  );
  assert.throws(
    () => checkTickerOptions("load scraper", { ...base, schedule: 5 as unknown as Schedule }),
    new TypeError('Cannot create load scraper: "schedule" must be a function, received number'),
  );
  assert.throws(
    () => checkTickerOptions("prober", { ...base, clock: undefined as unknown as () => number }),
    new TypeError('Cannot create prober: "clock" must be a function, received undefined'),
  );
});
