/**
 * The contract every limiting algorithm passes (run from each algorithm's test file), in the
 * manner of Hono's shared router suite: exactness of `retryAfterMs` and `remaining`, purity,
 * serialisation and warm-up, checked on the same scenarios and on seeded random traffic.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Decision } from "../types.ts";
import type { LimitParams, LimitStepper } from "./stepper.ts";
import { seededRandom as seeded } from "../../tests/fakes/random.ts";

/** Epoch-sized start time: the algorithms must keep ms precision at this magnitude. */
const T0 = 1_700_000_000_000;

/** Takes unit requests at `now` until one is denied; returns how many passed and the state. */
function drain<S>(st: LimitStepper<S>, s: S, now: number): [number, S, Decision] {
  for (let n = 0;; n++) {
    const [next, d] = st.step(s, now, 1);
    s = next;
    if (!d.allowed) return [n, s, d];
    assert.ok(n < 1e6, "never denies");
  }
}

/**
 * Registers the shared limiter contract tests for one algorithm.
 *
 * @param name How the algorithm appears in test names, e.g. "tokenBucket".
 * @param create The algorithm's factory.
 */
export function limiterContract<S>(name: string, create: (p: LimitParams) => LimitStepper<S>): void {
  const base: LimitParams = { capacity: 5, rate: 5, windowMs: 1000 };

  Deno.test(`${name}() admits exactly capacity unit requests at once, then denies`, () => {
    const st = create(base);
    const [n, , d] = drain(st, st.init(T0), T0);
    assert.equal(n, 5);
    assert.deepEqual({ allowed: d.allowed, limit: d.limit, remaining: d.remaining }, {
      allowed: false,
      limit: 5,
      remaining: 0,
    });
    assert.ok(d.retryAfterMs > 0);
  });

  Deno.test(`${name}() reports remaining that counts down to 0`, () => {
    const st = create(base);
    let s = st.init(T0);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [next, d] = st.step(s, T0, 1);
      s = next;
      seen.push(d.remaining);
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0]);
  });

  Deno.test(`${name}() retryAfterMs is exact: denied 1 ms earlier, allowed at it`, () => {
    const rand = seeded(7);
    for (
      const params of [base, { capacity: 3, rate: 7, windowMs: 700 }, {
        capacity: 10,
        rate: 0.5,
        windowMs: 6000,
      }]
    ) {
      const st = create(params);
      let s = st.init(T0);
      let now = T0;
      let denials = 0;
      for (let i = 0; i < 2000; i++) {
        now += Math.floor(rand() * rand() * 400);
        const cost = 1 + Math.floor(rand() * 3);
        const [next, d] = st.step(s, now, cost);
        s = next;
        if (d.allowed || d.retryAfterMs === Infinity) continue;
        denials++;
        assert.equal(st.peek(s, now + d.retryAfterMs - 1, cost).allowed, false, `step ${i} early`);
        assert.equal(st.peek(s, now + d.retryAfterMs, cost).allowed, true, `step ${i} at retryAfterMs`);
      }
      assert.ok(denials > 20, `only ${denials} denials`);
    }
  });

  Deno.test(`${name}() remaining is exactly how many more unit requests pass at once`, () => {
    const rand = seeded(11);
    const st = create({ capacity: 6, rate: 3, windowMs: 900 });
    let s = st.init(T0);
    let now = T0;
    for (let i = 0; i < 300; i++) {
      now += Math.floor(rand() * 500);
      const [next, d] = st.step(s, now, 1 + Math.floor(rand() * 2));
      s = next;
      if (!d.allowed) continue;
      const [n] = drain(st, s, now);
      assert.equal(n, d.remaining, `step ${i}`);
    }
  });

  Deno.test(`${name}() is back to full capacity after resetMs`, () => {
    const rand = seeded(3);
    const st = create(base);
    let s = st.init(T0);
    let now = T0;
    for (let i = 0; i < 300; i++) {
      now += Math.floor(rand() * 300);
      const [next, d] = st.step(s, now, 1);
      s = next;
      assert.equal(st.peek(s, now + d.resetMs, 0).remaining, 5, `step ${i}`);
      assert.equal(st.isIdle(s, now + d.resetMs), true, `step ${i}`);
    }
  });

  Deno.test(`${name}() denial consumes nothing and peek() matches step()`, () => {
    const st = create(base);
    const [, s] = drain(st, st.init(T0), T0);
    const later = T0 + 150;
    const peeked = st.peek(s, later, 2);
    const [s2, stepped] = st.step(s, later, 2);
    assert.deepEqual(stepped, peeked);
    assert.deepEqual(st.step(s2, later, 2)[1], stepped);
    assert.deepEqual(st.peek(s, later, 1), st.step(s, later, 1)[1]);
  });

  Deno.test(`${name}() never allows a cost above capacity: retryAfterMs is Infinity`, () => {
    const st = create(base);
    const d = st.peek(st.init(T0), T0, 6);
    assert.equal(d.allowed, false);
    assert.equal(d.retryAfterMs, Infinity);
    assert.equal(st.peek(st.init(T0), T0, 5).allowed, true);
  });

  Deno.test(`${name}() always allows cost 0, even when exhausted`, () => {
    const st = create(base);
    const [, s] = drain(st, st.init(T0), T0);
    const d = st.peek(s, T0, 0);
    assert.deepEqual([d.allowed, d.retryAfterMs, d.remaining], [true, 0, 0]);
  });

  Deno.test(`${name}() grants nothing when the clock goes backwards`, () => {
    const st = create(base);
    const [, s] = drain(st, st.init(T0), T0);
    assert.equal(st.peek(s, T0 - 5000, 1).allowed, false);
  });

  Deno.test(`${name}() state survives a JSON round trip and parse() rejects foreign values`, () => {
    const st = create(base);
    let s = st.init(T0);
    [s] = st.step(s, T0, 2);
    [s] = st.step(s, T0 + 10, 1);
    const copy = st.parse(JSON.parse(JSON.stringify(s)));
    assert.deepEqual(copy, s);
    assert.deepEqual(st.peek(copy as S, T0 + 20, 1), st.peek(s, T0 + 20, 1));
    for (const bad of [null, 42, "x", {}, { ...s, a: "zz" }, { ...s, ws: "1" }]) {
      assert.equal(st.parse(bad), undefined, JSON.stringify(bad));
    }
  });

  Deno.test(`${name}() fresh state is idle, a used one is not`, () => {
    const st = create(base);
    const s = st.init(T0);
    assert.equal(st.isIdle(s, T0), true);
    assert.equal(st.isIdle(st.step(s, T0, 1)[0], T0), false);
  });

  Deno.test(`${name}() warm-up admits floor(capacity × initialFraction) at once, full capacity later`, () => {
    const st = create({
      capacity: 10,
      rate: 10,
      windowMs: 1000,
      warmUp: { periodMs: 5000, initialFraction: 0.25 },
    });
    assert.equal(drain(st, st.init(T0), T0)[0], 2);
    assert.equal(st.isIdle(st.init(T0), T0), false, "still warming up");
    // A state whose ramp began long ago behaves as without warm-up.
    assert.equal(drain(st, st.init(T0 + 10_000, T0), T0 + 10_000)[0], 10);
    assert.equal(st.isIdle(st.init(T0 + 10_000, T0), T0 + 10_000), true);
  });

  Deno.test(`${name}() rewarm() restarts the ramp`, () => {
    const st = create({
      capacity: 8,
      rate: 8,
      windowMs: 1000,
      warmUp: { periodMs: 4000, initialFraction: 0.5 },
    });
    const idle = st.init(T0 + 60_000, T0);
    assert.equal(drain(st, idle, T0 + 60_000)[0], 8);
    assert.equal(drain(st, st.rewarm(idle, T0 + 60_000), T0 + 60_000)[0], 4);
  });

  Deno.test(`${name}() adjust() charges more into debt (one capacity at most) and refunds up to fresh`, () => {
    const st = create(base);
    let s = st.init(T0);
    [s] = st.step(s, T0, 4); // reserved 4 of 5
    const refunded = st.adjust(s, T0, -4); // the call failed: all of it back
    assert.equal(drain(st, refunded, T0)[0], 5);
    assert.equal(drain(st, st.adjust(s, T0, -100), T0)[0], 5, "never more room than a fresh state");
    const owing = st.adjust(s, T0, 100); // it cost far more than reserved
    assert.equal(st.peek(owing, T0, 1).allowed, false, "in debt: nothing passes");
    assert.ok(st.peek(owing, T0, 1).retryAfterMs > 0);
    const later = T0 + 2 * base.windowMs + (2000 * base.capacity) / base.rate;
    assert.equal(st.peek(owing, later, 1).allowed, true, "the debt is bounded and paid back in time");
    assert.equal(st.isIdle(st.adjust(st.init(T0), T0, 0), T0), true);
  });
}
