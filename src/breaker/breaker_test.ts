import assert from "node:assert/strict";
import type { BreakerConfig, BreakerState } from "../types.ts";
import { createBreaker, MAX_PARK_MS, parseBreakerSnapshot } from "./mod.ts";

const CONFIG: BreakerConfig = {
  enabled: true,
  failureThreshold: 3,
  timeoutMs: 1000,
  successThreshold: 2,
  halfOpenMaxCalls: 2,
};

/** A breaker on a fake clock that records its transitions. */
function setup(overrides: Partial<BreakerConfig> = {}, start = 10_000) {
  const clock = Object.assign(() => clock.now, { now: start });
  const changes: string[] = [];
  const breaker = createBreaker(
    { ...CONFIG, ...overrides },
    clock,
    (from, to) => changes.push(`${from}>${to}`),
  );
  return { clock, changes, breaker };
}

/** Opens the breaker with failureThreshold failures at the current time. */
function trip(breaker: ReturnType<typeof createBreaker>, n = CONFIG.failureThreshold) {
  for (let i = 0; i < n; i++) {
    assert.equal(breaker.tryAcquire(), true);
    breaker.onFailure();
  }
}

Deno.test("createBreaker() opens after exactly failureThreshold consecutive failures", () => {
  const { breaker, changes } = setup();
  trip(breaker, 2);
  assert.equal(breaker.state, "closed");
  breaker.onFailure();
  assert.equal(breaker.state, "open");
  assert.deepEqual(changes, ["closed>open"]);
  assert.deepEqual([breaker.canPass(), breaker.tryAcquire()], [false, false]);
});

Deno.test("createBreaker() a success in closed resets the failure count", () => {
  const { breaker } = setup();
  trip(breaker, 2);
  breaker.onSuccess();
  trip(breaker, 2);
  assert.equal(breaker.state, "closed");
  breaker.onFailure();
  assert.equal(breaker.state, "open");
});

Deno.test("createBreaker() stays open until timeoutMs to the ms, then turns half_open on read", () => {
  const { breaker, clock, changes } = setup();
  trip(breaker);
  clock.now = 10_999;
  assert.equal(breaker.state, "open");
  assert.equal(breaker.canPass(), false);
  clock.now = 11_000;
  assert.deepEqual(changes, ["closed>open"], "lazy: nothing happens until someone looks");
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.state, "half_open");
  assert.deepEqual(changes, ["closed>open", "open>half_open"]);
});

Deno.test("createBreaker() canPass() and tryAcquire() also observe the lazy move to half_open", () => {
  const a = setup();
  trip(a.breaker);
  a.clock.now += 1000;
  assert.equal(a.breaker.canPass(), true);
  assert.deepEqual(a.changes, ["closed>open", "open>half_open"]);
  const b = setup();
  trip(b.breaker);
  b.clock.now += 1000;
  assert.equal(b.breaker.tryAcquire(), true);
  assert.deepEqual(b.changes, ["closed>open", "open>half_open"]);
});

Deno.test("createBreaker() half_open admits at most halfOpenMaxCalls concurrent trials", () => {
  const { breaker, clock } = setup();
  trip(breaker);
  clock.now += 1000;
  assert.deepEqual([breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()], [true, true, false]);
  assert.equal(breaker.canPass(), false);
  breaker.onSuccess(); // frees a slot, 1 success of 2
  assert.equal(breaker.canPass(), true);
  assert.equal(breaker.canPass(), true, "canPass() takes no slot");
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false);
});

Deno.test("createBreaker() closes after successThreshold successes in half_open", () => {
  const { breaker, clock, changes } = setup();
  trip(breaker);
  clock.now += 1000;
  breaker.tryAcquire();
  breaker.tryAcquire();
  breaker.onSuccess();
  assert.equal(breaker.state, "half_open");
  breaker.onSuccess();
  assert.equal(breaker.state, "closed");
  assert.deepEqual(changes, ["closed>open", "open>half_open", "half_open>closed"]);
  // Closed afresh: it takes a full failureThreshold to open again.
  trip(breaker, 2);
  assert.equal(breaker.state, "closed");
});

Deno.test("createBreaker() any failure in half_open reopens it with a fresh timeout", () => {
  const { breaker, clock, changes } = setup();
  trip(breaker);
  clock.now = 11_500;
  breaker.tryAcquire();
  breaker.tryAcquire();
  breaker.onSuccess();
  breaker.onFailure();
  assert.equal(breaker.state, "open");
  clock.now = 12_499;
  assert.equal(breaker.state, "open");
  clock.now = 12_500;
  assert.equal(breaker.state, "half_open");
  assert.deepEqual(changes, ["closed>open", "open>half_open", "half_open>open", "open>half_open"]);
  // The earlier success does not carry over into the new half_open period.
  breaker.tryAcquire();
  breaker.onSuccess();
  assert.equal(breaker.state, "half_open");
});

Deno.test("createBreaker() onIgnored() frees a trial slot without counting a verdict", () => {
  const { breaker, clock } = setup({ halfOpenMaxCalls: 1, successThreshold: 1 });
  trip(breaker);
  clock.now += 1000;
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false);
  breaker.onIgnored();
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.tryAcquire(), true);
  breaker.onIgnored();
  breaker.onIgnored(); // an extra call cannot create slots
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false);
});

Deno.test("createBreaker() ignores verdicts that arrive while open", () => {
  const { breaker, clock, changes } = setup();
  trip(breaker);
  breaker.onFailure();
  breaker.onSuccess();
  breaker.onIgnored();
  clock.now = 10_999;
  assert.equal(breaker.state, "open", "a late failure does not extend the timeout");
  clock.now = 11_000;
  assert.equal(breaker.state, "half_open");
  assert.deepEqual(changes, ["closed>open", "open>half_open"]);
});

Deno.test("createBreaker() park() refuses until the given instant without opening", () => {
  const { breaker, clock, changes } = setup();
  breaker.park(12_000);
  breaker.park(11_000); // an earlier instant does not shorten it
  assert.equal(breaker.parkedUntil, 12_000);
  assert.deepEqual([breaker.canPass(), breaker.tryAcquire(), breaker.state], [false, false, "closed"]);
  clock.now = 11_999;
  assert.equal(breaker.canPass(), false);
  clock.now = 12_000;
  assert.equal(breaker.tryAcquire(), true);
  assert.deepEqual(changes, []);
  breaker.park(NaN);
  assert.equal(breaker.parkedUntil, 12_000);
});

Deno.test("createBreaker() park() lasts at most MAX_PARK_MS from now, however far the instant asked", () => {
  const { breaker, clock } = setup();
  breaker.park(10_000 + 86_400_000); // Retry-After: 86400
  assert.equal(breaker.parkedUntil, 10_000 + MAX_PARK_MS);
  breaker.park(Infinity);
  assert.equal(breaker.parkedUntil, 10_000 + MAX_PARK_MS, "an endless park is bounded too");
  clock.now = 10_000 + MAX_PARK_MS - 1;
  assert.equal(breaker.canPass(), false);
  clock.now = 10_000 + MAX_PARK_MS;
  assert.equal(breaker.tryAcquire(), true, "readmitted once the bound has passed");
  breaker.park(clock.now + 86_400_000); // parked anew by the next such answer, as long again
  assert.equal(breaker.parkedUntil, clock.now + MAX_PARK_MS);
});

Deno.test("createBreaker() restore() bounds a stored park like a fresh one", () => {
  const a = setup();
  const stored = { state: "closed" as const, failures: 0, successes: 0, openUntil: 0, parkedUntil: 9e15 };
  a.breaker.restore(stored);
  assert.equal(a.breaker.parkedUntil, 10_000 + MAX_PARK_MS);
});

Deno.test("createBreaker() park() also holds back half_open trials", () => {
  const { breaker, clock } = setup();
  trip(breaker);
  clock.now = 11_000;
  breaker.park(11_500);
  assert.deepEqual([breaker.state, breaker.tryAcquire()], ["half_open", false]);
  clock.now = 11_500;
  assert.equal(breaker.tryAcquire(), true);
});

Deno.test("createBreaker() with timeoutMs 0 goes half_open at the next read", () => {
  const { breaker } = setup({ timeoutMs: 0 });
  trip(breaker);
  assert.equal(breaker.state, "half_open");
});

Deno.test("createBreaker() with enabled: false always passes and never changes", () => {
  const { breaker, changes } = setup({ enabled: false, failureThreshold: 0 });
  for (let i = 0; i < 100; i++) breaker.onFailure();
  breaker.park(Number.MAX_SAFE_INTEGER);
  assert.deepEqual([breaker.state, breaker.canPass(), breaker.tryAcquire(), breaker.parkedUntil], [
    "closed",
    true,
    true,
    0,
  ]);
  assert.deepEqual(changes, []);
});

Deno.test("createBreaker() listener may call back into the breaker during a transition", () => {
  const clock = () => 0;
  const seen: Array<[BreakerState, boolean]> = [];
  const breaker = createBreaker({ ...CONFIG, failureThreshold: 1 }, clock, () => {
    seen.push([breaker.state, breaker.canPass()]);
  });
  breaker.onFailure();
  assert.deepEqual(seen, [["open", false]]);
});

Deno.test("createBreaker() snapshot → restore keeps an open breaker open for the rest of its timeout", () => {
  const a = setup();
  trip(a.breaker);
  a.clock.now = 10_400;
  const saved = JSON.parse(JSON.stringify(a.breaker.snapshot()));
  assert.deepEqual(saved, { state: "open", failures: 0, successes: 0, openUntil: 11_000, parkedUntil: 0 });
  const b = setup({}, 10_600); // "after a restart"
  b.breaker.restore(parseBreakerSnapshot(saved)!);
  assert.deepEqual(b.changes, ["closed>open"]);
  assert.equal(b.breaker.canPass(), false);
  b.clock.now = 10_999;
  assert.equal(b.breaker.state, "open");
  b.clock.now = 11_000;
  assert.equal(b.breaker.state, "half_open");
});

Deno.test("createBreaker() snapshot → restore keeps counts and park, not in-flight trials", () => {
  const a = setup();
  trip(a.breaker, 2);
  a.breaker.park(50_000);
  const b = setup();
  b.breaker.restore(a.breaker.snapshot());
  assert.deepEqual(b.changes, [], "closed → closed is no transition");
  assert.equal(b.breaker.parkedUntil, 50_000);
  b.clock.now = 50_000;
  b.breaker.onFailure();
  assert.equal(b.breaker.state, "open", "the 2 restored failures count");

  const c = setup();
  trip(c.breaker);
  c.clock.now = 11_000;
  c.breaker.tryAcquire();
  c.breaker.tryAcquire();
  c.breaker.onSuccess();
  const snap = c.breaker.snapshot();
  assert.deepEqual([snap.state, snap.successes], ["half_open", 1]);
  const d = setup({}, 11_000);
  d.breaker.restore(snap);
  assert.deepEqual([d.breaker.tryAcquire(), d.breaker.tryAcquire(), d.breaker.tryAcquire()], [
    true,
    true,
    false,
  ]);
  d.breaker.onSuccess();
  assert.equal(d.breaker.state, "closed");
});

Deno.test("parseBreakerSnapshot() accepts only well-formed snapshots", () => {
  const good = { state: "open", failures: 0, successes: 0, openUntil: 5, parkedUntil: 0 };
  assert.deepEqual(parseBreakerSnapshot(good), good);
  for (
    const bad of [null, 1, {}, { ...good, state: "ajar" }, { ...good, failures: -1 }, {
      ...good,
      openUntil: "5",
    }]
  ) {
    assert.equal(parseBreakerSnapshot(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("createBreaker() rejects bad config with std-style messages", () => {
  const clock = () => 0;
  assert.throws(() => createBreaker({ ...CONFIG, failureThreshold: 0 }, clock), {
    name: "RangeError",
    message: 'Cannot create circuit breaker: "failureThreshold" must be an integer >= 1, received 0',
  });
  assert.throws(() => createBreaker({ ...CONFIG, halfOpenMaxCalls: 1.5 }, clock), {
    message: 'Cannot create circuit breaker: "halfOpenMaxCalls" must be an integer >= 1, received 1.5',
  });
  assert.throws(() => createBreaker({ ...CONFIG, timeoutMs: -1 }, clock), {
    message: 'Cannot create circuit breaker: "timeoutMs" must be a finite number >= 0, received -1',
  });
  assert.throws(() => createBreaker(CONFIG, undefined as unknown as () => number), TypeError);
});
