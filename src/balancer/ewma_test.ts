import assert from "node:assert/strict";
import { DEFAULT_ERROR_ALPHA, MIN_LATENCY_MS, observeLatency, observeOutcome } from "./ewma.ts";

const fresh = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });

Deno.test("observeLatency() takes the first sample as is, then moves by alpha × the difference", () => {
  const s = fresh();
  assert.equal(observeLatency(s, 100), 100);
  assert.equal(observeLatency(s, 200), 120); // default alpha 0.2
  assert.equal(observeLatency(s, 20, 0.5), 70);
  assert.equal(s.latencyEwmaMs, 70);
});

Deno.test("observeLatency() stores a 0 ms or negative sample as MIN_LATENCY_MS so the member counts as sampled", () => {
  const s = fresh();
  observeLatency(s, 0);
  assert.equal(s.latencyEwmaMs, MIN_LATENCY_MS);
  const t = fresh();
  observeLatency(t, -5);
  assert.equal(t.latencyEwmaMs, MIN_LATENCY_MS);
});

Deno.test("observeLatency() ignores NaN and infinite samples", () => {
  const s = fresh();
  observeLatency(s, 50);
  observeLatency(s, Number.NaN);
  observeLatency(s, Number.POSITIVE_INFINITY);
  assert.equal(s.latencyEwmaMs, 50);
});

Deno.test("observeOutcome() tracks the failure ratio and stays within [0, 1]", () => {
  const s = fresh();
  assert.equal(observeOutcome(s, false), DEFAULT_ERROR_ALPHA);
  for (let i = 0; i < 500; i++) observeOutcome(s, false);
  assert.ok(s.errorEwma > 0.999 && s.errorEwma <= 1);
  for (let i = 0; i < 500; i++) observeOutcome(s, true);
  assert.ok(s.errorEwma >= 0 && s.errorEwma < 0.001);
  // One failure in ten converges near 0.1.
  const t = fresh();
  for (let i = 0; i < 5000; i++) observeOutcome(t, i % 10 !== 0, 0.01);
  assert.ok(Math.abs(t.errorEwma - 0.1) < 0.02, `${t.errorEwma}`);
});

Deno.test("observeLatency() and observeOutcome() reject alpha outside (0, 1] with a RangeError", () => {
  for (const alpha of [0, -0.1, 1.5, Number.NaN]) {
    assert.throws(() => observeLatency(fresh(), 10, alpha), RangeError);
    assert.throws(() => observeOutcome(fresh(), true, alpha), RangeError);
  }
  assert.equal(observeLatency(fresh(), 10, 1), 10);
});
