import assert from "node:assert/strict";
import {
  createOutlierDetector,
  FirstByteTimes,
  InstanceProgress,
  type OutlierCandidate,
  type OutlierOptions,
} from "./outlier.ts";

const OPTIONS: OutlierOptions = {
  intervalMs: 1000,
  factor: 10,
  minWaitMs: 5000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
};

/** An instance whose oldest attempt began at `waitingSince`; it last served an attempt begun at `servedStart`. */
function inst(
  waitingSince: number | undefined,
  servedStart = -Infinity,
  extra: Partial<OutlierCandidate> = {},
): OutlierCandidate {
  const progress = new InstanceProgress();
  if (servedStart > -Infinity) progress.served(servedStart, servedStart + 100);
  return { oldestWaitStart: waitingSince, available: true, outlierEjected: false, progress, ...extra };
}

Deno.test("FirstByteTimes: no reference below 8 samples, then the p90 of the last 64", () => {
  const t = new FirstByteTimes();
  for (let i = 1; i <= 7; i++) t.record(i * 10);
  assert.equal(t.reference(), undefined);
  t.record(80);
  assert.equal(t.reference(), 80, "p90 of 10..80 is the 8th of 8 (nearest rank)");
  for (let i = 0; i < 64; i++) t.record(i < 58 ? 100 : 5000);
  assert.equal(t.size, 64);
  assert.equal(t.reference(), 100, "6 slow of 64 stay above the p90; the old samples are gone");
  for (let i = 0; i < 4; i++) t.record(5000);
  assert.equal(t.reference(), 5000, "10 slow of 64 reach it");
});

Deno.test("judge(): the threshold is max(min-wait, factor × reference), reached not before", () => {
  const d = createOutlierDetector(OPTIONS);
  // reference 200 ms: threshold max(5 s, 2 s) = 5 s.
  assert.deepEqual(d.judge([inst(0), inst(undefined, 1000)], 200, 4999), []);
  assert.equal(d.judge([inst(0), inst(undefined, 1000)], 200, 5000).length, 1);
  // reference 2 s: threshold 20 s.
  assert.deepEqual(d.judge([inst(0), inst(undefined, 1000)], 2000, 19_999), []);
  const [e] = d.judge([inst(0), inst(undefined, 1000)], 2000, 20_000);
  assert.deepEqual(e, {
    index: 0,
    untilMs: 50_000,
    reason:
      "latency outlier: a request waited 20 s without a first byte (pool p90 2000 ms × 10, at least 5 s); ejected for 30 s",
  });
});

Deno.test("judge(): no verdict without a reference, for a pool of one, or for an instance waiting on nothing", () => {
  const d = createOutlierDetector(OPTIONS);
  assert.deepEqual(d.judge([inst(0), inst(undefined, 1000)], undefined, 60_000), []);
  assert.deepEqual(d.judge([inst(0)], 100, 60_000), []);
  assert.deepEqual(d.judge([inst(undefined), inst(undefined, 1000)], 100, 60_000), []);
});

Deno.test("judge(): a busy instance is no outlier — it delivered a first byte since its oldest wait began", () => {
  const d = createOutlierDetector(OPTIONS);
  const busy = inst(0);
  busy.progress.served(-50, 3000); // answered an older request during the wait
  assert.deepEqual(d.judge([busy, inst(undefined, 1000)], 100, 60_000), []);
});

Deno.test("judge(): a pool slow as a whole has no outlier — nobody served a request that came later", () => {
  const d = createOutlierDetector(OPTIONS);
  assert.deepEqual(d.judge([inst(0), inst(10, -5)], 100, 60_000), []);
  assert.deepEqual(
    d.judge([inst(0), inst(undefined, 0)], 100, 60_000),
    [],
    "begun at the same instant is not later",
  );
  assert.equal(d.judge([inst(0), inst(undefined, 1)], 100, 60_000).length, 1);
});

Deno.test("judge(): at most max-ejection-percent of the pool, at least one, the longest stalled first", () => {
  const d = createOutlierDetector(OPTIONS);
  const pool = () => [inst(20), inst(10), inst(30), inst(undefined, 1000)];
  assert.deepEqual(
    d.judge(pool(), 100, 60_000).map((e) => e.index),
    [1],
    "10 % of 4 rounds to 0: one anyway",
  );
  const half = createOutlierDetector({ ...OPTIONS, maxEjectionPercent: 50 });
  assert.deepEqual(half.judge(pool(), 100, 60_000).map((e) => e.index), [1, 0]);
  const withEjected = [...pool(), inst(undefined, -Infinity, { outlierEjected: true, available: false })];
  assert.deepEqual(d.judge(withEjected, 100, 60_000), [], "one of five already out: the cap is reached");
});

Deno.test("judge(): never ejects the last instance able to take traffic", () => {
  const d = createOutlierDetector({ ...OPTIONS, maxEjectionPercent: 100 });
  // b served a later request but its breaker is open now: a is the only one left.
  const pool = [inst(0), inst(undefined, 1000, { available: false })];
  assert.deepEqual(d.judge(pool, 100, 60_000), []);
  const three = [inst(0), inst(5), inst(undefined, 1000)];
  assert.deepEqual(d.judge(three, 100, 60_000).map((e) => e.index), [0, 1], "two of three, c stays");
  const unavailableSuspect = [inst(0, -Infinity, { available: false }), inst(undefined, 1000)];
  assert.deepEqual(d.judge(unavailableSuspect, 100, 60_000), [], "already out for another reason");
});

Deno.test("judge(): the k-th ejection in a row lasts k × base, capped; time back in service forgives", () => {
  const d = createOutlierDetector({ ...OPTIONS, maxEjectionTimeMs: 70_000 });
  const hung = inst(0);
  const other = inst(undefined, 1);
  const lengths: number[] = [];
  let now = 10_000;
  for (let i = 0; i < 4; i++) {
    const [e] = d.judge(
      [{ ...hung, oldestWaitStart: now - 10_000 }, { ...other, progress: other.progress }],
      100,
      now,
    );
    other.progress.served(now - 5000, now);
    lengths.push(e.untilMs - now);
    now = e.untilMs + 1000; // back for a second, then stuck again
    other.progress.served(now - 9000, now - 8000);
  }
  assert.deepEqual(lengths, [30_000, 60_000, 70_000, 70_000]);
  assert.equal(hung.progress.ejections, 4);
  // Two base periods back in service forgive two ejections: the next lasts 3 × base.
  now = hung.progress.ejectedUntil + 60_000;
  other.progress.served(now - 5000, now);
  const [e] = d.judge([{ ...hung, oldestWaitStart: now - 10_000 }, other], 100, now);
  assert.equal(e.untilMs - now, 70_000);
  assert.equal(hung.progress.ejections, 3);
});

Deno.test("createOutlierDetector() rejects bad options with std-style messages", () => {
  const bad = (o: Partial<OutlierOptions>) => () => createOutlierDetector({ ...OPTIONS, ...o });
  assert.throws(
    bad({ factor: 1 }),
    new RangeError('Cannot create outlier detector: "factor" must be > 1, received 1'),
  );
  assert.throws(bad({ intervalMs: 0 }), /"intervalMs" must be > 0, received 0/);
  assert.throws(bad({ minWaitMs: NaN }), /"minWaitMs" must be > 0, received NaN/);
  assert.throws(
    bad({ maxEjectionTimeMs: 1000 }),
    /"maxEjectionTimeMs" must be >= baseEjectionTimeMs \(30000\)/,
  );
  assert.throws(
    bad({ maxEjectionPercent: 101 }),
    /"maxEjectionPercent" must be between 0 and 100, received 101/,
  );
  assert.throws(() => createOutlierDetector(null as unknown as OutlierOptions), TypeError);
});
